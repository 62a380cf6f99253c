"""The basic emotion label space shared by every stage, and its place on the circumplex.

Valence/arousal from class probabilities is the probability-weighted mean of each
label's circumplex coordinates (Russell 1980; positions as in the AffectNet
annotation guide: valence -1..1, arousal 0..1). It is a stand-in until a model
trained on dimensional labels exists, and is documented as such in the report.
:func:`to_basic` reads the other spellings of a basic label that models and corpora use.
"""

from __future__ import annotations

from collections.abc import Mapping

BASIC_LABELS: tuple[str, ...] = ("neutral", "happy", "sad", "angry", "fear", "disgust", "surprise")

ALIASES: dict[str, str] = {
    "joy": "happy",
    "happiness": "happy",
    "joyful": "happy",
    "anger": "angry",
    "mad": "angry",
    "sadness": "sad",
    "fearful": "fear",
    "scared": "fear",
    "worried": "fear",
    "surprised": "surprise",
    "disgusted": "disgust",
    "neural": "neutral",
    "calm": "neutral",
    "afraid": "fear",
}
"""Spellings a model or corpus may use for a basic label; used to read predictions."""

LABEL_CODES: dict[str, str] = {
    "ne": "neutral",
    "ha": "happy",
    "sa": "sad",
    "an": "angry",
    "fe": "fear",
    "af": "fear",
    "di": "disgust",
    "su": "surprise",
}
"""The two-letter codes posed-face sets label their images with (JAFFE; KDEF's AF is
afraid): read in a user's gold labels only, never in generated text, where "an" is a word."""

# label -> (valence -1..1, arousal 0..1)
CIRCUMPLEX: dict[str, tuple[float, float]] = {
    "neutral": (0.0, 0.2),
    "happy": (0.8, 0.6),
    "sad": (-0.7, 0.3),
    "angry": (-0.6, 0.85),
    "fear": (-0.65, 0.8),
    "disgust": (-0.65, 0.55),
    "surprise": (0.2, 0.85),
    "calm": (0.3, 0.1),
}


def valence_arousal(probs: Mapping[str, float]) -> tuple[float, float]:
    """Probability-weighted circumplex position; labels off the circumplex are ignored."""
    total = sum(p for label, p in probs.items() if label in CIRCUMPLEX)
    if total <= 0:
        return 0.0, 0.0
    valence = sum(CIRCUMPLEX[k][0] * p for k, p in probs.items() if k in CIRCUMPLEX) / total
    arousal = sum(CIRCUMPLEX[k][1] * p for k, p in probs.items() if k in CIRCUMPLEX) / total
    return round(valence, 4), round(arousal, 4)


def fold_to_basic(probs: Mapping[str, float]) -> dict[str, float]:
    """Fold labels outside the basic space into it (RAVDESS calm -> neutral) and renormalise."""
    folded = dict.fromkeys(BASIC_LABELS, 0.0)
    for label, p in probs.items():
        target = "neutral" if label == "calm" else label
        if target in folded:
            folded[target] += float(p)
    total = sum(folded.values()) or 1.0
    return {k: v / total for k, v in folded.items()}


def to_basic(label: str | None) -> str | None:
    """A label in the basic space: basic labels pass, :data:`ALIASES` are folded, case and
    surrounding blanks ignored; ``None`` when it has no basic counterpart.

    A corpus's own labels are mapped by its table in ``emochat.data.labels`` instead, which
    also knows the labels that have none (EmoryNLP ``peaceful``).
    """
    if label is None:
        return None
    key = str(label).strip().lower()
    if key in BASIC_LABELS:
        return key
    return ALIASES.get(key)


def gold_to_basic(label: str | None) -> str | None:
    """A gold label (a user's or a dataset's) in the basic space: :func:`to_basic`, and the
    two-letter :data:`LABEL_CODES`; ``None`` when it has no basic counterpart."""
    if label is None:
        return None
    return to_basic(label) or LABEL_CODES.get(str(label).strip().lower())
