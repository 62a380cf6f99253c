"""Every corpus's native labels and its map into the basic space."""

from __future__ import annotations

from emochat.core.labels import BASIC_LABELS
from emochat.data import labels as L


def test_every_corpus_map_lands_in_the_basic_space():
    for corpus, table in L.CORPUS_TO_BASIC.items():
        targets = {v for v in table.values() if v is not None}
        assert targets <= set(BASIC_LABELS), corpus
    natives = {
        "meld": L.MELD_LABELS,
        "emorynlp": L.EMORYNLP_LABELS,
        "smp2020": L.SMP2020_LABELS,
        "isear": L.ISEAR_LABELS,
        "goemotions": L.GOEMOTIONS_EKMAN_LABELS,
        "fer2013": L.FER2013_CLASSES,
        "ravdess": tuple(L.RAVDESS_EMOTIONS.values()),
        "emodb": tuple(L.EMODB_EMOTIONS.values()),
    }
    for corpus, labels in natives.items():
        assert set(labels) == set(L.CORPUS_TO_BASIC[corpus]), corpus


def test_corpus_maps_fold_each_corpus_spelling():
    maps = L.CORPUS_TO_BASIC
    assert maps["meld"]["joy"] == "happy" and maps["meld"]["anger"] == "angry"
    assert maps["meld"]["sadness"] == "sad"
    assert maps["smp2020"]["neural"] == "neutral"
    assert maps["ravdess"]["calm"] == "neutral"
    assert maps["emodb"]["happiness"] == "happy" and maps["emodb"]["boredom"] is None
    assert maps["mer2023"]["worried"] == "fear"
    assert maps["emorynlp"]["peaceful"] is None and maps["isear"]["shame"] is None


def test_goemotions_grouping_covers_its_labels(corpus):
    names = (corpus("goemotions") / "labels.txt").read_text(encoding="utf-8").split()
    ekman = (corpus("goemotions") / "ekman" / "labels.txt").read_text(encoding="utf-8").split()
    assert len(names) == 28 and set(names) == set(L.GOEMOTIONS_TO_EKMAN)
    assert tuple(ekman) == L.GOEMOTIONS_EKMAN_LABELS
    assert set(L.GOEMOTIONS_TO_EKMAN.values()) == set(ekman)
