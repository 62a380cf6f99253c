"""Segment cue vectors (face, voice, text) and the words that describe them.

A :class:`Cues` holds, for one sample or segment, the vectors of the modalities it has
(any subset) and, beside each vector, what the shipped single-modality models measured
from it (class probabilities, AU intensities, the words said). The vectors become soft
tokens in the LM; the measured values become the textual cue lines of the prompt and
the grounds of the target's rationale, so a target never cites a cue nobody observed.

Vectors (dimensions fixed by the shipped extractors):

* face: 17 AU intensities (AU Agent, 0-5; zeros and ``au_observed=0`` when no landmarks
  were found) + 1 ``au_observed`` flag + 7 FER-CNN probabilities (BASIC_LABELS order).
* voice: the speech-emotion model's pooled whisper-base encoder states (7 layers x
  mean/std x 512), :meth:`SpeechEmotionModel.features`.
* text: the text model's multilingual-e5 sentence embedding (384).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from emochat.core.action_units import AU_CODES, AU_LABELS
from emochat.core.labels import BASIC_LABELS

MODALITIES: tuple[str, ...] = ("face", "voice", "text")
FACE_DIM = len(AU_CODES) + 1 + len(BASIC_LABELS)
AU_SHOWN_MIN = 1.0
"""AU intensity (0-5) from which an AU is named as a cue."""


@dataclass
class ModalityCue:
    """One modality's vector and what its own model read from it."""

    vector: np.ndarray
    probs: dict[str, float]
    """The modality model's class probabilities (label -> p)."""
    au: dict[str, float] = field(default_factory=dict)
    """Face only: AU code -> intensity 0-5, when landmarks were found."""
    words: str | None = None
    """Text only: the utterance."""

    @property
    def top(self) -> tuple[str, float]:
        label = max(self.probs, key=self.probs.__getitem__)
        return label, float(self.probs[label])


@dataclass
class Cues:
    """The modalities one sample has; absent ones are simply not in ``by_modality``."""

    by_modality: dict[str, ModalityCue]

    def __post_init__(self):
        unknown = set(self.by_modality) - set(MODALITIES)
        if unknown:
            raise ValueError(f"unknown modalities {sorted(unknown)}; known: {MODALITIES}")

    @property
    def present(self) -> tuple[str, ...]:
        return tuple(m for m in MODALITIES if m in self.by_modality)

    def vectors(self) -> dict[str, np.ndarray]:
        return {m: self.by_modality[m].vector for m in self.present}


def face_vector(au: Mapping[str, float] | None, fer_probs: np.ndarray) -> np.ndarray:
    """The face cue vector: AU intensities (AU_CODES order), observed flag, FER probs."""
    intensities = np.array([float((au or {}).get(c, 0.0)) for c in AU_CODES], dtype=np.float32)
    flag = np.array([1.0 if au else 0.0], dtype=np.float32)
    probs = np.asarray(fer_probs, dtype=np.float32).reshape(-1)
    if probs.size != len(BASIC_LABELS):
        raise ValueError(f"expected {len(BASIC_LABELS)} FER probabilities, got {probs.size}")
    return np.concatenate([intensities, flag, probs])


def _probs_text(probs: Mapping[str, float], k: int = 2) -> str:
    ranked = sorted(probs.items(), key=lambda kv: -kv[1])[:k]
    return ", ".join(f"{label} {p:.2f}" for label, p in ranked)


def shown_aus(au: Mapping[str, float]) -> list[tuple[str, float]]:
    """AUs at or above :data:`AU_SHOWN_MIN`, strongest first."""
    return sorted(((c, v) for c, v in au.items() if v >= AU_SHOWN_MIN), key=lambda cv: -cv[1])


def describe(modality: str, cue: ModalityCue) -> str:
    """One line of measured facts for the prompt (no interpretation beyond the models')."""
    if modality == "face":
        aus = shown_aus(cue.au)
        au_text = (
            ", ".join(f"{c} {AU_LABELS[c]} {v:.1f}" for c, v in aus)
            if aus
            else ("no AU above 1.0" if cue.au else "AUs not measured")
        )
        return f"{au_text}; expression model: {_probs_text(cue.probs)}"
    if modality == "voice":
        return f"speech model: {_probs_text(cue.probs)}"
    if modality == "text":
        quote = (cue.words or "").strip().replace("\n", " ")
        return f'"{quote}"; text model: {_probs_text(cue.probs)}'
    raise ValueError(f"unknown modality {modality!r}")
