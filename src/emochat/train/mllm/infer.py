"""Using a trained adapter: explain one segment's cues, and score held-out samples.

:func:`explain` is the call a reasoner makes: the label is chosen by ranking the basic
labels' likelihoods (always a valid label), then the model writes its words and
rationale after that label; ``cited`` lists which of the present modalities the
rationale mentions, so a caller can check it cites nothing absent.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from emochat.emotions import BASIC_LABELS
from emochat.eval.labels import to_basic
from emochat.eval.metrics import accuracy, weighted_f1
from emochat.train.mllm.cues import Cues
from emochat.train.mllm.data import InstructionSample
from emochat.train.mllm.model import EmoChatLM
from emochat.train.mllm.prompt import parse_answer

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


def cue_model_label(sample: InstructionSample) -> str:
    """The single-modality models' answer: the most confident present cue's top label."""
    best = max(sample.cues.by_modality.values(), key=lambda c: c.top[1])
    return to_basic(best.top[0]) or best.top[0]


def evaluate(model: EmoChatLM, samples: Sequence[InstructionSample]) -> dict:
    """Label accuracy and weighted F1 of the LLM and, beside it, of the cue models."""
    gold = [s.basic for s in samples]
    pred = [BASIC_LABELS[int(np.argmax(model.label_scores(s.cues)))] for s in samples]
    base = [cue_model_label(s) for s in samples]
    return {
        "n": len(samples),
        "llm_accuracy": round(accuracy(gold, pred), 4),
        "llm_weighted_f1": round(weighted_f1(gold, pred), 4),
        "cue_model_accuracy": round(accuracy(gold, base), 4),
        "cue_model_weighted_f1": round(weighted_f1(gold, base), 4),
        "predictions": pred,
    }
