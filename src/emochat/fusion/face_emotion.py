"""Emotion from facial action units by EMFACS prototypes, and the calibrated face reader.

Each basic emotion has a prototype set of AUs (Ekman & Friesen's EMFACS, as
summarised in Friesen & Ekman 1983 and used by FACS-based classifiers). An emotion's
score is the mean intensity of its prototype AUs above the per-person neutral
baseline, as a fraction of a clear FACS "C" (2.5). The AU reader turns the scores into
probabilities with a sharpness and a neutral bias fitted on FER2013 PublicTest
(``emochat.train.face_reader``): "no active AU" is weak evidence for neutral, not a
verdict. Its source is named ``au-emfacs`` in the report.

The actors of real footage talk: the jaw drops with every syllable, so while the lips
open and close at syllable rhythm (:func:`emochat.face.au.events.mouth_openings`) the
jaw drop (AU26) is left out of the surprise and fear prototypes (``speaking=True``); on
a still face, or a photo, it counts as EMFACS has it.

The face's emotion pools the expression CNN (temperature-calibrated) and the AU reader
in log space, the AU reader's log-probabilities weighted by a factor fitted on the same
split: a product of experts in which the weaker reader only tilts the stronger.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from emochat.core.action_units import AU_CODES
from emochat.core.labels import BASIC_LABELS
from emochat.face.expression import reader_calibration
from emochat.report.model import Emotion

PROTOTYPES: dict[str, tuple[str, ...]] = {
    "happy": ("AU06", "AU12"),
    "sad": ("AU01", "AU04", "AU15"),
    "surprise": ("AU01", "AU02", "AU05", "AU26"),
    "fear": ("AU01", "AU02", "AU04", "AU05", "AU20", "AU26"),
    "angry": ("AU04", "AU05", "AU07", "AU23"),
    "disgust": ("AU09", "AU10", "AU15"),
}

SPEECH_AUS = ("AU26",)
"""Prototype AUs that speech makes too: left out of the scores while the person talks
(AU25 and AU27, also speech's, are in no prototype)."""

FULL_INTENSITY = 2.5
"""Intensity (0-5) at which a prototype AU counts as fully expressed (FACS "C")."""
AU_SOURCE = "au-emfacs"


def _prototype_matrix(leave_out: tuple[str, ...] = ()) -> np.ndarray:
    kept = {label: [au for au in aus if au not in leave_out] for label, aus in PROTOTYPES.items()}
    return np.array(
        [[au in kept[label] for label in PROTOTYPES] for au in AU_CODES], dtype=np.float64
    ) / np.array([len(aus) for aus in kept.values()])


_PROTOTYPE_MATRIX = _prototype_matrix()
_SPEAKING_MATRIX = _prototype_matrix(SPEECH_AUS)
_NEUTRAL = BASIC_LABELS.index("neutral")
_EMOTION_COLUMNS = [BASIC_LABELS.index(label) for label in PROTOTYPES]


def prototype_score_array(intensity: np.ndarray, speaking: bool = False) -> np.ndarray:
    """(..., 17) AU intensities in AU_CODES order -> (..., 6) prototype scores 0-1,
    in :data:`PROTOTYPES` order; ``speaking`` leaves :data:`SPEECH_AUS` out."""
    capped = np.minimum(np.asarray(intensity, dtype=np.float64) / FULL_INTENSITY, 1.0)
    return capped @ (_SPEAKING_MATRIX if speaking else _PROTOTYPE_MATRIX)


def prototype_scores(intensities: Mapping[str, float], speaking: bool = False) -> dict[str, float]:
    """Per-emotion activation in 0..1 from mean AU intensities (0-5)."""
    row = np.array([float(intensities.get(au, 0.0)) for au in AU_CODES])
    return dict(zip(PROTOTYPES, prototype_score_array(row, speaking).tolist(), strict=True))


def au_log_probs(scores: np.ndarray, sharpness: float, neutral_bias: float) -> np.ndarray:
    """(..., 6) prototype scores -> (..., 7) log-probabilities in BASIC_LABELS order.

    An emotion's logit is ``sharpness * score``; neutral's is ``sharpness * neutral_bias *
    (1 - strongest score)``, so a still face leans to neutral only as far as the fit found
    such faces to be neutral.
    """
    scores = np.asarray(scores, dtype=np.float64)
    logits = np.zeros(scores.shape[:-1] + (len(BASIC_LABELS),))
    logits[..., _EMOTION_COLUMNS] = sharpness * scores
    logits[..., _NEUTRAL] = sharpness * neutral_bias * (1.0 - scores.max(axis=-1))
    logits -= logits.max(axis=-1, keepdims=True)
    return logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))


def pool_log_probs(cnn_probs: np.ndarray, au_log: np.ndarray, au_weight: float) -> np.ndarray:
    """Probabilities (..., 7) of the log-linear pool ``log p_cnn + au_weight * log p_au``."""
    logits = np.log(np.clip(np.asarray(cnn_probs, dtype=np.float64), 1e-7, 1.0))
    logits = logits + au_weight * au_log
    out = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return out / out.sum(axis=-1, keepdims=True)


def _emotion(probs: np.ndarray, source: str) -> Emotion:
    prob_map = {label: round(float(p), 4) for label, p in zip(BASIC_LABELS, probs, strict=True)}
    return Emotion.from_probs(prob_map, source=source)


def emotion_from_aus(intensities: Mapping[str, float], speaking: bool = False) -> Emotion:
    """The AU reader's calibrated distribution over the basic labels from AU intensities
    (``speaking``: the face was talking, see :data:`SPEECH_AUS`)."""
    cal = reader_calibration()
    scores = np.array(list(prototype_scores(intensities, speaking).values()))
    return _emotion(np.exp(au_log_probs(scores, cal.au_sharpness, cal.au_neutral_bias)), AU_SOURCE)


def average_face_readers(expression: Emotion, au_emotion: Emotion) -> Emotion:
    """The two face readers pooled in log space (a weighted geometric average): the trained
    expression CNN sees texture (tears, wrinkles), the AU prototypes geometry; the AU
    reader's weight is the one fitted on FER2013 PublicTest, so it tilts, never overrules."""
    cnn = np.array([expression.probs.get(k, 0.0) for k in BASIC_LABELS])
    au = np.log(np.clip([au_emotion.probs.get(k, 0.0) for k in BASIC_LABELS], 1e-7, 1.0))
    pooled = pool_log_probs(cnn / max(cnn.sum(), 1e-9), au, reader_calibration().au_weight)
    return _emotion(pooled, f"{expression.source}+{au_emotion.source}")
