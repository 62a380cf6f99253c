"""The instruction prompt around the soft cue tokens, the target text, and its parser.

The prompt is plain text (no chat template, so any causal LM tokenizer works) with one
:class:`SoftSlot` per present modality where that modality's projected tokens go::

    Emotion analysis of one segment. Cues:
    Face: <face tokens> AU12 lip corner puller 2.1; expression model: happy 0.81, ...
    Voice: <voice tokens> speech model: happy 0.55, calm 0.20
    Answer with the emotion, words and why.
    Emotion:

The target continues it: `` happy\\nWords: happy, joy\\nWhy: ...\\n``. Its label and words
come from the gold label only; the rationale cites only the measured values in the
:class:`~emochat.models.emochat_llm.cues.Cues` (agreeing cues first, disagreeing ones as such).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from emochat.core.action_units import AU_LABELS
from emochat.core.labels import BASIC_LABELS, to_basic
from emochat.models.emochat_llm.cues import Cues, ModalityCue, describe, shown_aus

HEADER = "Emotion analysis of one segment. Cues:\n"
QUESTION = "Answer with the emotion, words and why.\nEmotion:"
MAX_QUOTE_WORDS = 12
MAX_QUOTE_CHARS = 60

# Level-1 sectors of OV-MER's wheel1 for each basic label (neutral has none)
WHEEL_SECTOR = {
    "happy": "happy",
    "sad": "sad",
    "angry": "mad",
    "fear": "scared",
    "disgust": "disgusted",
    "surprise": "surprised",
}


@dataclass(frozen=True)
class SoftSlot:
    """Where one modality's soft tokens are inserted."""

    modality: str


PromptPart = str | SoftSlot


def prompt_parts(cues: Cues, cue_text: bool = True) -> list[PromptPart]:
    """The prompt as text pieces and soft-token slots, modalities in MODALITIES order."""
    parts: list[PromptPart] = [HEADER]
    for m in cues.present:
        line = f" {describe(m, cues.by_modality[m])}" if cue_text else ""
        parts += [f"{m.capitalize()}:", SoftSlot(m), f"{line}\n"]
    parts.append(QUESTION)
    return parts


def gold_words(basic: str, native: Sequence[str] = ()) -> list[str]:
    """Open-vocabulary words from the gold labels: the corpus's own, then the wheel sector."""
    words = [w.strip().lower() for w in native if w and w.strip()]
    words.append(WHEEL_SECTOR.get(basic, basic))
    return list(dict.fromkeys(words))


def _quote(text: str) -> str:
    """The first words (or characters, for unspaced scripts) of an utterance."""
    words = text.split()
    short = " ".join(words[:MAX_QUOTE_WORDS])[:MAX_QUOTE_CHARS]
    return short + (" ..." if short != " ".join(words) else "")


def _phrase(modality: str, cue: ModalityCue) -> str:
    top, p = cue.top
    if modality == "face":
        aus = shown_aus(cue.au)[:3]
        au_part = (
            " with " + ", ".join(f"{c} {AU_LABELS[c]} ({v:.1f})" for c, v in aus) if aus else ""
        )
        return f"the face reads {top} ({p:.2f}){au_part}"
    if modality == "voice":
        return f"the voice sounds {top} ({p:.2f})"
    return f'the words "{_quote(cue.words or "")}" read {top} ({p:.2f})'


def rationale(basic: str, cues: Cues) -> str:
    """Why ``basic``: the measured cues that agree with it, then those that do not."""
    agree, disagree = [], []
    for m in cues.present:
        cue = cues.by_modality[m]
        top_basic = to_basic(cue.top[0]) or cue.top[0]
        (agree if top_basic == basic else disagree).append(_phrase(m, cue))
    if agree:
        text = " and ".join(agree)
        if disagree:
            text += "; against it, " + " and ".join(disagree)
    elif disagree:
        text = f"no measured cue reads {basic} first: " + " and ".join(disagree)
    else:
        text = "no cue was measured"
    return text + "."


def target_text(basic: str, cues: Cues, native: Sequence[str] = ()) -> str:
    """The answer the model is trained to write after :data:`QUESTION`."""
    if basic not in BASIC_LABELS:
        raise ValueError(f"gold label {basic!r} is not one of {BASIC_LABELS}")
    words = ", ".join(gold_words(basic, native))
    return f" {basic}\nWords: {words}\nWhy: {rationale(basic, cues)}\n"


@dataclass(frozen=True)
class Answer:
    """A generated answer, parsed; ``label`` is None when it names no basic label."""

    label: str | None
    words: list[str]
    rationale: str
    raw: str


_LABEL = re.compile(r"[a-z]+")


def parse_answer(text: str) -> Answer:
    """Read ``label``, ``Words:`` and ``Why:`` back from a generated continuation."""
    lines = text.strip().splitlines()
    first = lines[0].strip().lower() if lines else ""
    m = _LABEL.search(first)
    label = to_basic(m.group(0)) if m else None
    words: list[str] = []
    why = ""
    for line in lines[1:]:
        if line.startswith("Words:"):
            words = [w.strip() for w in line[len("Words:") :].split(",") if w.strip()]
        elif line.startswith("Why:"):
            why = line[len("Why:") :].strip()
    return Answer(label if label in BASIC_LABELS else None, words, why, text)
