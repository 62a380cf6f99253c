"""The basic label space and the other spellings of its labels."""

from __future__ import annotations

from emochat.core.labels import BASIC_LABELS, to_basic


def test_basic_space():
    assert BASIC_LABELS == ("neutral", "happy", "sad", "angry", "fear", "disgust", "surprise")


def test_to_basic_folds_aliases_and_ignores_case_and_blanks():
    assert to_basic(" Happy ") == "happy"
    assert to_basic("surprised") == "surprise"
    assert to_basic("Joy") == "happy" and to_basic("worried") == "fear"
    assert to_basic("calm") == "neutral"
    assert to_basic("peaceful") is None
    assert to_basic(None) is None
