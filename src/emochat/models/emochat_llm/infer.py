"""Using a trained adapter: explain one segment's cues.

:func:`explain` is the call a reasoner makes: the label is chosen by ranking the basic
labels' likelihoods (always a valid label), then the model writes its words and
rationale after that label; ``cited`` lists which of the present modalities the
rationale mentions, so a caller can check it cites nothing absent.
"""

from __future__ import annotations

import numpy as np

from emochat.core.labels import BASIC_LABELS
from emochat.models.emochat_llm.cues import Cues
from emochat.models.emochat_llm.model import EmoChatLM
from emochat.models.emochat_llm.prompt import parse_answer

_MENTIONS = {"face": ("face", "AU"), "voice": ("voice",), "text": ("words",)}


def explain(model: EmoChatLM, cues: Cues, max_new_tokens: int = 80) -> dict:
    """``label``, ``probs`` (over BASIC_LABELS), ``words``, ``rationale``, ``cited``."""
    scores = model.label_scores(cues)
    probs = np.exp(scores - scores.max())
    probs /= probs.sum()
    text = model.generate(cues, max_new_tokens=max_new_tokens)
    answer = parse_answer(text)
    cited = [m for m in cues.present if any(w in answer.rationale for w in _MENTIONS[m])]
    return {
        "label": BASIC_LABELS[int(np.argmax(scores))],
        "probs": {lab: round(float(p), 4) for lab, p in zip(BASIC_LABELS, probs, strict=True)},
        "words": answer.words,
        "rationale": answer.rationale,
        "cited": cited,
        "raw": text,
    }
