"""Fusion pools calibrated experts log-linearly, weighs them by reliability, and says when
its answer is uncertain instead of defaulting to a label."""

from __future__ import annotations

import pytest

from emochat.core.labels import BASIC_LABELS, fold_to_basic
from emochat.fusion.fuse import FusionModel, ModalityCue, fuse
from emochat.models import registry
from emochat.report.model import Emotion, TextEvidence


def _e(label: str, p: float) -> Emotion:
    rest = (1 - p) / (len(BASIC_LABELS) - 1)
    return Emotion(label, {k: (p if k == label else rest) for k in BASIC_LABELS}, source="t")


def test_calm_folds_into_neutral():
    assert fold_to_basic({"calm": 0.5, "happy": 0.25, "neutral": 0.25}) == pytest.approx(
        {**dict.fromkeys(BASIC_LABELS, 0.0), "neutral": 0.75, "happy": 0.25}
    )


def test_the_shipped_weights_cover_every_modality():
    model = registry.load("fusion")
    assert isinstance(model, FusionModel)
    assert set(model.weights) == {"face", "voice", "text"}
    assert all(w > 0 for w in model.weights.values())
    assert all(len(b) == len(BASIC_LABELS) for b in model.offsets.values())


def test_reliability_decides_between_disagreeing_modalities():
    face = ModalityCue("face", _e("happy", 0.8), reliability=1.0)
    voice = ModalityCue("voice", _e("angry", 0.8), reliability=0.05)
    fused, shares, _ = fuse([face, voice])
    assert fused.label == "happy"
    assert shares["face"] > shares["voice"] and sum(shares.values()) == pytest.approx(1.0)
    fused, _, _ = fuse(
        [ModalityCue("face", face.emotion, 0.05), ModalityCue("voice", voice.emotion, 1.0)]
    )
    assert fused.label == "angry"
    assert sum(fused.probs.values()) == pytest.approx(1.0, abs=1e-3)


def test_agreeing_experts_are_surer_together_than_alone():
    alone, _, _ = fuse([ModalityCue("text", _e("sad", 0.7), 1.0)])
    together, _, _ = fuse(
        [ModalityCue("text", _e("sad", 0.7), 1.0), ModalityCue("voice", _e("sad", 0.7), 1.0)]
    )
    assert together.label == alone.label == "sad"
    assert together.probs["sad"] > alone.probs["sad"]
    assert together.uncertain is None and together.conflict is None


def test_a_confident_neutral_face_against_angry_words_is_uncertain_not_neutral():
    fused, _, conflict = fuse(
        [ModalityCue("face", _e("neutral", 0.9), 1.0), ModalityCue("text", _e("angry", 0.8), 1.0)]
    )
    assert conflict == {
        "modalities": ["face", "text"],
        "labels": ["neutral", "angry"],
        "probs": [0.9, 0.8],
    }
    assert fused.uncertain["reason"] == "disagreement"
    assert fused.label in ("neutral", "angry") and len(fused.uncertain["labels"]) == 2


def test_an_unreliable_lone_cue_gives_a_flat_uncertain_answer():
    fused, _, conflict = fuse([ModalityCue("face", _e("happy", 0.9), 0.05)])
    assert conflict is None
    assert fused.uncertain["reason"] == "flat"
    assert fused.probs[fused.label] < 0.5


@pytest.mark.parametrize(("a", "b"), [("happy", 0.9), ("sad", 0.35)])
def test_a_hesitant_or_agreeing_second_cue_is_no_conflict(a, b):
    _, _, conflict = fuse(
        [ModalityCue("face", _e("happy", 0.9), 1.0), ModalityCue("voice", _e(a, b), 1.0)]
    )
    assert conflict is None


def test_no_reliable_cue_is_an_error():
    with pytest.raises(ValueError):
        fuse([ModalityCue("face", _e("happy", 0.9), 0.0)])


@pytest.mark.parametrize(
    ("en", "zh"),
    [("I'm fine.", "我很好。"), ("You never listen to me!", "你从来不听我说话！")],
)
def test_a_chinese_transcript_weighs_like_an_english_one_of_the_same_length(en, zh):
    """The issue's clips: Chinese sentences counted as one word got a third of the weight."""
    face = ModalityCue("face", _e("neutral", 0.6), 1.0)
    shares = {}
    for text in (en, zh):
        evidence = TextEvidence(text=text, emotion=_e("angry", 0.6), asr_confidence=0.9)
        cue = ModalityCue("text", evidence.emotion, evidence.reliability)
        shares[text] = fuse([face, cue])[1]["text"]
    assert shares[zh] == pytest.approx(shares[en], abs=0.05)
