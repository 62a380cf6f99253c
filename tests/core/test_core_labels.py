"""The basic label space and the other spellings of its labels."""

from __future__ import annotations

from emochat.core.labels import BASIC_LABELS, gold_to_basic, to_basic


def test_basic_space():
    assert BASIC_LABELS == ("neutral", "happy", "sad", "angry", "fear", "disgust", "surprise")


def test_to_basic_folds_aliases_and_ignores_case_and_blanks():
    assert to_basic(" Happy ") == "happy"
    assert to_basic("surprised") == "surprise"
    assert to_basic("Joy") == "happy" and to_basic("worried") == "fear"
    assert to_basic("calm") == "neutral"
    assert to_basic("peaceful") is None
    assert to_basic(None) is None


def test_gold_labels_also_read_the_posed_face_sets_codes_but_generated_text_does_not():
    # JAFFE file codes and KDEF's AF (afraid); CK+'s contempt has no basic counterpart
    assert [gold_to_basic(c) for c in ("NE", "HA", "SA", "AN", "FE", "AF", "DI", "SU")] == [
        "neutral",
        "happy",
        "sad",
        "angry",
        "fear",
        "fear",
        "disgust",
        "surprise",
    ]
    assert gold_to_basic("Anger") == "angry" and gold_to_basic("afraid") == "fear"
    assert gold_to_basic("contempt") is None and gold_to_basic(None) is None
    assert to_basic("an") is None  # "an elated mood" must not read as angry
