"""Emotion from facial action units by EMFACS prototypes.

Each basic emotion has a prototype set of AUs (Ekman & Friesen's EMFACS, as
summarised in Friesen & Ekman 1983 and used by FACS-based classifiers). The
score of an emotion is the mean intensity of its prototype AUs above the
per-person neutral baseline; neutral wins when nothing is active. This is an
interpretable face cue for fusion and the reasoner, not a trained classifier:
its source is named ``au-emfacs`` in the report.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from emochat.core.labels import BASIC_LABELS
from emochat.report.model import Emotion

PROTOTYPES: dict[str, tuple[str, ...]] = {
    "happy": ("AU06", "AU12"),
    "sad": ("AU01", "AU04", "AU15"),
    "surprise": ("AU01", "AU02", "AU05", "AU26"),
    "fear": ("AU01", "AU02", "AU04", "AU05", "AU20", "AU26"),
    "angry": ("AU04", "AU05", "AU07", "AU23"),
    "disgust": ("AU09", "AU10", "AU15"),
}

# Intensity (0-5 scale) at which a prototype counts as fully expressed, and the
# softmax sharpness; chosen so a clear FACS "C" intensity (~2.5) dominates neutral.
_FULL_INTENSITY = 2.5
_SHARPNESS = 6.0
_NEUTRAL_FLOOR = 0.35


def prototype_scores(intensities: Mapping[str, float]) -> dict[str, float]:
    """Per-emotion activation in 0..1 from mean AU intensities (0-5)."""
    scores = {}
    for label, aus in PROTOTYPES.items():
        values = [min(float(intensities.get(au, 0.0)) / _FULL_INTENSITY, 1.0) for au in aus]
        scores[label] = float(np.mean(values))
    return scores


def emotion_from_aus(intensities: Mapping[str, float]) -> Emotion:
    """A probability distribution over the basic labels from AU intensities."""
    scores = prototype_scores(intensities)
    strongest = max(scores.values(), default=0.0)
    scores["neutral"] = max(_NEUTRAL_FLOOR, 1.0 - 1.5 * strongest)
    logits = np.array([scores.get(label, 0.0) for label in BASIC_LABELS]) * _SHARPNESS
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    prob_map = {label: round(float(p), 4) for label, p in zip(BASIC_LABELS, probs, strict=True)}
    return Emotion.from_probs(prob_map, source="au-emfacs")


def average_face_readers(a: Emotion, b: Emotion) -> Emotion:
    """Equal-weight ensemble of the two face readers: the trained expression CNN sees
    texture (tears, wrinkles), the AU prototypes see geometry (a broad smile even when
    the crop is poor); each covers the other's blind spots."""
    probs = {k: round((a.probs.get(k, 0.0) + b.probs.get(k, 0.0)) / 2, 4) for k in BASIC_LABELS}
    return Emotion.from_probs(probs, source=f"{a.source}+{b.source}")
