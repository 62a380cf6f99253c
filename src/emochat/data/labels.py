"""Every corpus's native labels and its map into the basic space.

One module so that training and evaluation agree on what a corpus's label means (the
basic space itself, and the aliases a model may use for it, are
:data:`emochat.core.labels.BASIC_LABELS` and :func:`emochat.core.labels.to_basic`). Each
corpus keeps its *native* labels (lower-cased, as the corpus spells them) and a map
native -> basic; a native label with no basic counterpart (RAVDESS has none, EmoryNLP
``peaceful``/``powerful``, ISEAR ``shame``/``guilt``) maps to ``None`` and is left out
of basic-space scores, with the count reported.
"""

from __future__ import annotations

from collections.abc import Mapping

from emochat.core.labels import BASIC_LABELS

# --- per-corpus native label lists ------------------------------------------------------

FER2013_CLASSES: tuple[str, ...] = (
    "angry",
    "disgust",
    "fear",
    "happy",
    "sad",
    "surprise",
    "neutral",
)
"""FER2013 integer label -> name (its order differs from BASIC_LABELS)."""

RAVDESS_EMOTIONS: dict[str, str] = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
"""RAVDESS file-name emotion code (third field) -> native label."""

EMODB_EMOTIONS: dict[str, str] = {
    "W": "anger",
    "L": "boredom",
    "E": "disgust",
    "A": "fear",
    "F": "happiness",
    "T": "sadness",
    "N": "neutral",
}
"""EmoDB file-name emotion letter (German initials) -> native label."""

MELD_LABELS: tuple[str, ...] = ("neutral", "joy", "surprise", "anger", "sadness", "disgust", "fear")
EMORYNLP_LABELS: tuple[str, ...] = (
    "neutral",
    "joyful",
    "peaceful",
    "powerful",
    "scared",
    "mad",
    "sad",
)
GOEMOTIONS_EKMAN_LABELS: tuple[str, ...] = (
    "anger",
    "disgust",
    "fear",
    "joy",
    "neutral",
    "sadness",
    "surprise",
)
"""Line order of goemotions/ekman/labels.txt (ids in the ekman tsv files)."""
SMP2020_LABELS: tuple[str, ...] = ("neural", "happy", "angry", "sad", "fear", "surprise")
"""SMP2020-EWECT labels as spelled in the files (``neural`` is their typo for neutral)."""
ISEAR_LABELS: tuple[str, ...] = ("joy", "fear", "anger", "sadness", "disgust", "shame", "guilt")

GOEMOTIONS_TO_EKMAN: dict[str, str] = {
    "anger": "anger",
    "annoyance": "anger",
    "disapproval": "anger",
    "disgust": "disgust",
    "fear": "fear",
    "nervousness": "fear",
    "joy": "joy",
    "amusement": "joy",
    "approval": "joy",
    "excitement": "joy",
    "gratitude": "joy",
    "love": "joy",
    "optimism": "joy",
    "relief": "joy",
    "pride": "joy",
    "admiration": "joy",
    "desire": "joy",
    "caring": "joy",
    "sadness": "sadness",
    "disappointment": "sadness",
    "embarrassment": "sadness",
    "grief": "sadness",
    "remorse": "sadness",
    "surprise": "surprise",
    "realization": "surprise",
    "confusion": "surprise",
    "curiosity": "surprise",
    "neutral": "neutral",
}
"""The GoEmotions authors' 27+neutral -> Ekman grouping (their ekman_mapping.json);
goemotions/ekman/*.tsv is the corpus already passed through it."""

# --- native -> basic ------------------------------------------------------------------

_IDENTITY = {label: label for label in BASIC_LABELS}

RAVDESS_TO_BASIC: dict[str, str | None] = {
    "neutral": "neutral",
    "calm": "neutral",
    "happy": "happy",
    "sad": "sad",
    "angry": "angry",
    "fearful": "fear",
    "disgust": "disgust",
    "surprised": "surprise",
}
"""``calm`` folds into neutral (the fused space has no calm); 8-class scores keep it."""

EMODB_TO_BASIC: dict[str, str | None] = {
    "anger": "angry",
    "boredom": None,
    "disgust": "disgust",
    "fear": "fear",
    "happiness": "happy",
    "sadness": "sad",
    "neutral": "neutral",
}
"""Boredom (low arousal, mildly negative) has no basic twin: left out of the basic space,
so EmoDB is scored on its other 6 classes (as the RAVDESS-only model was, issue #23)."""

URDU_TO_BASIC: dict[str, str | None] = {
    "angry": "angry",
    "happy": "happy",
    "neutral": "neutral",
    "sad": "sad",
}

FER2013_TO_BASIC: dict[str, str | None] = dict(_IDENTITY)

MELD_TO_BASIC: dict[str, str | None] = {
    "neutral": "neutral",
    "joy": "happy",
    "surprise": "surprise",
    "anger": "angry",
    "sadness": "sad",
    "disgust": "disgust",
    "fear": "fear",
}

EMORYNLP_TO_BASIC: dict[str, str | None] = {
    "neutral": "neutral",
    "joyful": "happy",
    "scared": "fear",
    "mad": "angry",
    "sad": "sad",
    "peaceful": None,
    "powerful": None,
}
"""EmoryNLP follows Willcox's feeling wheel; peaceful/powerful have no basic twin."""

GOEMOTIONS_EKMAN_TO_BASIC: dict[str, str | None] = {
    "anger": "angry",
    "disgust": "disgust",
    "fear": "fear",
    "joy": "happy",
    "neutral": "neutral",
    "sadness": "sad",
    "surprise": "surprise",
}

SMP2020_TO_BASIC: dict[str, str | None] = {
    "neural": "neutral",
    "happy": "happy",
    "angry": "angry",
    "sad": "sad",
    "fear": "fear",
    "surprise": "surprise",
}

ISEAR_TO_BASIC: dict[str, str | None] = {
    "joy": "happy",
    "fear": "fear",
    "anger": "angry",
    "sadness": "sad",
    "disgust": "disgust",
    "shame": None,
    "guilt": None,
}

MER2023_TO_BASIC: dict[str, str | None] = {
    "neutral": "neutral",
    "happy": "happy",
    "sad": "sad",
    "angry": "angry",
    "surprise": "surprise",
    "worried": "fear",
}
"""MER2023's six labels; ``worried`` maps to fear (DESIGN.md)."""

CORPUS_TO_BASIC: dict[str, Mapping[str, str | None]] = {
    # keys are exactly each corpus's native labels
    "ravdess": RAVDESS_TO_BASIC,
    "fer2013": FER2013_TO_BASIC,
    "emodb": EMODB_TO_BASIC,
    "urdu": URDU_TO_BASIC,
    "meld": MELD_TO_BASIC,
    "emorynlp": EMORYNLP_TO_BASIC,
    "goemotions": GOEMOTIONS_EKMAN_TO_BASIC,
    "smp2020": SMP2020_TO_BASIC,
    "isear": ISEAR_TO_BASIC,
    "mer2023": MER2023_TO_BASIC,
}
