"""Simplified and traditional Chinese: which one a text is written in, and conversion.

whisper writes Mandarin in either script, sometimes both in one clip; a researcher who
counts words or matches a lexicon needs one. Conversion is OpenCC's character and phrase
tables (``s2t``/``t2s``), loaded on first use.
"""

from __future__ import annotations

from functools import cache

SIMPLIFIED = "simplified"
TRADITIONAL = "traditional"


@cache
def _converter(config: str):
    import opencc

    return opencc.OpenCC(config)


def to_script(text: str, script: str) -> str:
    """``text`` with its Chinese characters written in ``script`` (others unchanged)."""
    if script not in (SIMPLIFIED, TRADITIONAL):
        raise ValueError(f"script must be {SIMPLIFIED!r} or {TRADITIONAL!r}, not {script!r}")
    return _converter("t2s" if script == SIMPLIFIED else "s2t").convert(text)


def dominant_script(text: str) -> str | None:
    """The script most of ``text``'s script-specific characters belong to (None: no
    character tells them apart, e.g. no Chinese or only shared characters like 人)."""
    # OpenCC's s2t/t2s tables map character for character, so the strings align
    traditional = sum(a != b for a, b in zip(text, to_script(text, SIMPLIFIED), strict=False))
    simplified = sum(a != b for a, b in zip(text, to_script(text, TRADITIONAL), strict=False))
    if traditional == simplified == 0:
        return None
    return TRADITIONAL if traditional > simplified else SIMPLIFIED
