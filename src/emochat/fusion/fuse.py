"""Fusion of calibrated per-modality emotion estimates: weighted log-linear pooling.

Each modality brings a distribution ``p_m`` over the basic labels and a reliability
``r_m`` in 0..1 that its producer computed from what it measured (``report.model``: face
frames and tracking confidence, voiced seconds, words counted per script and ASR
confidence). The fused distribution is a product of experts::

    q(y) ∝ exp( sum_m  r_m * w_m * (log p_m(y) + b_m(y)) )

``w_m`` (how far modality m's probabilities are to be trusted) and ``b_m`` (a per-label
offset that undoes the label prior each model learned from its own corpus, so that three
experts do not count their priors three times) are fitted on paired held-out data
(``emochat train fusion``; models/fusion/CARD.md). Reliability scales an expert's
exponent: an unreliable one flattens towards uniform and leaves the others to decide,
and with a single expert at ``r = 1`` the answer is that expert recalibrated.

A fused answer is marked uncertain instead of falling back to a label when its
distribution is flat (the top label is more likely wrong than right) or when confident
modalities disagree (the disagreement is the ``conflict``, every confident modality with
its label); the clip's overall answer weights each segment by how sure it is.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emochat.core.labels import BASIC_LABELS, fold_to_basic
from emochat.models import registry
from emochat.report.model import Emotion

CONFIDENT = 0.5
"""A modality is confident when its top label (neutral included) has at least this
probability and its reliability is at least :data:`RELIABLE`."""
RELIABLE = 0.5
FLAT_BELOW = 0.5
"""A fused top label below this probability is more likely wrong than right (the
probabilities are calibrated): the answer is flagged ``flat``."""
_FLOOR = 1e-6
"""Probabilities are floored before the log: a 0 from one model must not veto a label."""


@dataclass(frozen=True)
class ModalityCue:
    modality: str
    emotion: Emotion
    reliability: float


@dataclass(frozen=True)
class FusionModel:
    """The pooling weights and label offsets of each modality (models/fusion/fusion.json).

    A modality the file does not know pools with weight 1 and no offset.
    """

    weights: dict[str, float]
    offsets: dict[str, tuple[float, ...]]

    @classmethod
    def load(cls, path: str | Path) -> FusionModel:
        data = json.loads(Path(path).read_text("utf-8"))
        if tuple(data["labels"]) != BASIC_LABELS:
            raise ValueError(f"fusion weights over {data['labels']}, not {list(BASIC_LABELS)}")
        return cls(
            weights={m: float(w) for m, w in data["weights"].items()},
            offsets={m: tuple(map(float, b)) for m, b in data["offsets"].items()},
        )

    def log_evidence(self, modality: str, probs: dict[str, float]) -> np.ndarray:
        """``w_m * (log p_m + b_m)`` over BASIC_LABELS, before the reliability."""
        folded = fold_to_basic(probs)
        log_p = np.log(np.maximum([folded[k] for k in BASIC_LABELS], _FLOOR))
        offset = np.asarray(self.offsets.get(modality, (0.0,) * len(BASIC_LABELS)))
        return self.weights.get(modality, 1.0) * (log_p + offset)


def _top_label(emotion: Emotion) -> tuple[str, float]:
    probs = fold_to_basic(emotion.probs)
    label = max(probs, key=probs.get)
    return label, probs[label]


def find_conflict(cues: list[ModalityCue]) -> dict | None:
    """Confident modalities whose top labels differ: all of them, with their labels.

    Neutral counts: a face confidently neutral while the words are confidently angry is
    the disagreement that a pooled answer would otherwise hide.
    """
    confident = []
    for cue in cues:
        label, p = _top_label(cue.emotion)
        if p >= CONFIDENT and cue.reliability >= RELIABLE:
            confident.append((cue.modality, label, round(p, 4)))
    if len({label for _, label, _ in confident}) < 2:
        return None
    return {
        "modalities": [m for m, _, _ in confident],
        "labels": [label for _, label, _ in confident],
        "probs": [p for _, _, p in confident],
    }


def uncertainty(probs: dict[str, float], reason: str | None = None) -> dict[str, Any] | None:
    """Why an answer is uncertain, with its two most probable labels; None: it is not.

    ``reason``: a disagreement the caller found (``disagreement`` between modalities,
    ``segments`` all uncertain); else ``flat`` when the top label is under :data:`FLAT_BELOW`.
    """
    top = sorted(probs, key=probs.get, reverse=True)[:2]
    if reason is None and probs[top[0]] < FLAT_BELOW:
        reason = "flat"
    if reason is None:
        return None
    return {"reason": reason, "labels": top, "probs": [probs[k] for k in top]}


def certainty(probs: dict[str, float]) -> float:
    """1 - normalised entropy: 1 for a one-hot answer, 0 for a uniform one."""
    p = np.maximum(np.asarray([probs.get(k, 0.0) for k in BASIC_LABELS]), 1e-12)
    p = p / p.sum()
    return float(1.0 + (p * np.log(p)).sum() / math.log(len(BASIC_LABELS)))


def fuse(
    cues: list[ModalityCue], model: FusionModel | None = None
) -> tuple[Emotion, dict[str, float], dict | None]:
    """Fused emotion (with ``uncertain`` set when it is), each modality's share of the
    pooled evidence, and the conflict (or None). ``model``: the registered fusion weights."""
    model = model or registry.load("fusion")
    exponents = {
        c.modality: model.weights.get(c.modality, 1.0) * max(c.reliability, 0.0) for c in cues
    }
    total = sum(exponents.values())
    if total <= 0:
        raise ValueError("fusion needs at least one cue with positive reliability")
    z = sum(max(c.reliability, 0.0) * model.log_evidence(c.modality, c.emotion.probs) for c in cues)
    q = np.exp(z - np.max(z))
    q /= q.sum()
    probs = {k: round(float(v), 4) for k, v in zip(BASIC_LABELS, q, strict=True)}
    conflict = find_conflict(cues)
    open_vocab = [w for c in cues for w in c.emotion.open_vocab]
    emotion = Emotion.from_probs(
        probs,
        source="fusion(" + "+".join(sorted(exponents)) + ")",
        open_vocab=list(dict.fromkeys(open_vocab))[:5],
        uncertain=uncertainty(probs, "disagreement" if conflict else None),
    )
    shares = {m: round(e / total, 4) for m, e in exponents.items()}
    return emotion, shares, conflict
