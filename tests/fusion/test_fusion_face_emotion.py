"""EMFACS prototypes map AU patterns to the expected basic emotion."""

from __future__ import annotations

import pytest

from emochat.core.labels import BASIC_LABELS
from emochat.fusion.face_emotion import emotion_from_aus
from emochat.fusion.stages import fixed_windows


@pytest.mark.parametrize(
    ("aus", "label"),
    [
        ({}, "neutral"),
        ({"AU06": 2.5, "AU12": 3.0}, "happy"),
        ({"AU01": 2.0, "AU04": 2.5, "AU15": 2.0}, "sad"),
        ({"AU01": 3.0, "AU02": 3.0, "AU05": 2.5, "AU26": 3.0}, "surprise"),
        ({"AU04": 3.0, "AU05": 2.0, "AU07": 3.0, "AU23": 2.5}, "angry"),
        ({"AU09": 3.0, "AU10": 3.0, "AU15": 2.0}, "disgust"),
    ],
)
def test_prototypes(aus, label):
    emotion = emotion_from_aus(aus)
    assert emotion.label == label
    assert set(emotion.probs) == set(BASIC_LABELS)
    assert sum(emotion.probs.values()) == pytest.approx(1.0, abs=1e-3)


def test_valence_follows_the_label():
    assert emotion_from_aus({"AU06": 3, "AU12": 3}).valence > 0.3
    assert emotion_from_aus({"AU01": 3, "AU04": 3, "AU15": 3}).valence < -0.3


def test_fixed_windows_cover_the_media():
    assert fixed_windows(0.0, 10.0, 4.0) == [(0.0, 3.333), (3.333, 6.667), (6.667, 10.0)]
    assert fixed_windows(0.0, 2.4, 4.0) == [(0.0, 2.4)]
    assert fixed_windows(5.0, 5.0, 4.0) == [(5.0, 5.0)]
    assert fixed_windows(2.0, 10.0, 4.0) == [(2.0, 6.0), (6.0, 10.0)]
