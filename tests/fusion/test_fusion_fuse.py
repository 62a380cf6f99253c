"""Fusion weights modalities by reliability and flags opposite-valence disagreements."""

from __future__ import annotations

import pytest

from emochat.core.labels import BASIC_LABELS, fold_to_basic
from emochat.fusion.fuse import ModalityCue, fuse
from emochat.report.model import Emotion


def _e(label: str, p: float) -> Emotion:
    rest = (1 - p) / (len(BASIC_LABELS) - 1)
    return Emotion(label, {k: (p if k == label else rest) for k in BASIC_LABELS}, source="t")


def test_calm_folds_into_neutral():
    assert fold_to_basic({"calm": 0.5, "happy": 0.25, "neutral": 0.25}) == pytest.approx(
        {**dict.fromkeys(BASIC_LABELS, 0.0), "neutral": 0.75, "happy": 0.25}
    )


def test_reliability_decides_between_disagreeing_modalities():
    face = ModalityCue("face", _e("happy", 0.8), reliability=1.0)
    voice = ModalityCue("voice", _e("angry", 0.8), reliability=0.1)
    fused, weights, _ = fuse([face, voice])
    assert fused.label == "happy"
    assert weights["face"] > 0.9 and sum(weights.values()) == pytest.approx(1.0)
    fused, _, _ = fuse(
        [ModalityCue("face", face.emotion, 0.1), ModalityCue("voice", voice.emotion, 1.0)]
    )
    assert fused.label == "angry"
    assert sum(fused.probs.values()) == pytest.approx(1.0, abs=1e-3)


def test_smile_with_sad_words_is_a_conflict_citing_both():
    _, _, conflict = fuse(
        [ModalityCue("face", _e("happy", 0.9), 1.0), ModalityCue("text", _e("sad", 0.7), 1.0)]
    )
    assert conflict == {
        "modalities": ["face", "text"],
        "labels": ["happy", "sad"],
        "probs": [0.9, 0.7],
    }


@pytest.mark.parametrize(
    ("a", "b"), [("happy", "surprise"), ("sad", "angry"), ("happy", "neutral")]
)
def test_agreeing_or_neutral_cues_are_not_conflicts(a, b):
    _, _, conflict = fuse(
        [ModalityCue("face", _e(a, 0.9), 1.0), ModalityCue("voice", _e(b, 0.9), 1.0)]
    )
    assert conflict is None


def test_no_reliable_cue_is_an_error():
    with pytest.raises(ValueError):
        fuse([ModalityCue("face", _e("happy", 0.9), 0.0)])
