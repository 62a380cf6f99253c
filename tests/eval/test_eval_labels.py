"""The canonical label space and the per-corpus maps into it."""

from __future__ import annotations

import pytest

from emochat.eval import labels as L


def test_basic_space():
    assert L.BASIC_LABELS == ("neutral", "happy", "sad", "angry", "fear", "disgust", "surprise")


def test_basic_space_matches_the_shared_one():
    emotions = pytest.importorskip("emochat.core.labels")
    assert tuple(emotions.BASIC_LABELS) == L.BASIC_LABELS


def test_every_corpus_map_lands_in_the_basic_space():
    for corpus, table in L.CORPUS_TO_BASIC.items():
        targets = {v for v in table.values() if v is not None}
        assert targets <= set(L.BASIC_LABELS), corpus
    natives = {
        "meld": L.MELD_LABELS,
        "emorynlp": L.EMORYNLP_LABELS,
        "smp2020": L.SMP2020_LABELS,
        "isear": L.ISEAR_LABELS,
        "goemotions": L.GOEMOTIONS_EKMAN_LABELS,
        "fer2013": L.FER2013_CLASSES,
        "ravdess": tuple(L.RAVDESS_EMOTIONS.values()),
    }
    for corpus, labels in natives.items():
        assert set(labels) == set(L.CORPUS_TO_BASIC[corpus]), corpus


def test_to_basic():
    assert L.to_basic("joy", "meld") == "happy"
    assert L.to_basic("Anger", "meld") == "angry"
    assert L.to_basic("sadness", "meld") == "sad"
    assert L.to_basic("neural", "smp2020") == "neutral"
    assert L.to_basic("calm", "ravdess") == "neutral"
    assert L.to_basic("worried", "mer2023") == "fear"
    assert L.to_basic("peaceful", "emorynlp") is None
    assert L.to_basic("shame", "isear") is None
    with pytest.raises(KeyError):
        L.to_basic("glee", "meld")
    # without a corpus: basic labels and common spellings
    assert L.to_basic(" Happy ") == "happy"
    assert L.to_basic("surprised") == "surprise"
    assert L.to_basic("peaceful") is None
    assert L.to_basic(None) is None


def test_goemotions_grouping_covers_its_labels(corpus):
    names = (corpus("goemotions") / "labels.txt").read_text(encoding="utf-8").split()
    ekman = (corpus("goemotions") / "ekman" / "labels.txt").read_text(encoding="utf-8").split()
    assert len(names) == 28 and set(names) == set(L.GOEMOTIONS_TO_EKMAN)
    assert tuple(ekman) == L.GOEMOTIONS_EKMAN_LABELS
    assert set(L.GOEMOTIONS_TO_EKMAN.values()) == set(ekman)


def test_label_order():
    assert L.label_order(["zz", "sad", "happy", "aa", "sad"]) == ["happy", "sad", "aa", "zz"]
