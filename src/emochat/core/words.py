"""How many words a text holds, whatever its script.

Whitespace does not separate Chinese or Japanese words, so splitting on it counts a whole
Chinese sentence as one word. Here each Han or kana character counts
:data:`WORDS_PER_CJK_CHAR` of a word (a segmented Chinese word averages about 1.6
characters), and every other script counts its runs of letters or digits (punctuation
alone is no word).
"""

from __future__ import annotations

import re

WORDS_PER_CJK_CHAR = 0.6
_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"\w+(?:['’]\w+)*")


def word_count(text: str | None) -> float:
    """Words in ``text``: runs of letters/digits, plus 0.6 per CJK character."""
    text = text or ""
    cjk = len(_CJK_CHAR.findall(text))
    other = len(_WORD.findall(_CJK_CHAR.sub(" ", text)))
    return other + WORDS_PER_CJK_CHAR * cjk
