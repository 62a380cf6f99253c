"""Dataset adapters on the real corpora: split sizes, label maps, held-out splits, errors."""

from __future__ import annotations

import shutil

import pytest

from emochat.core.errors import DataError
from emochat.core.labels import BASIC_LABELS
from emochat.data import labels as L
from emochat.data.corpora import (
    READERS,
    emodb,
    emorynlp,
    fer2013,
    goemotions,
    isear,
    meld,
    ravdess,
    smp2020,
    urdu,
)
from emochat.data.registry import DATASETS, HELD_OUT


def test_held_out_splits_are_the_design_ones():
    assert HELD_OUT == {
        "ravdess": "test",
        "fer2013": "test",
        "meld": "test",
        "emorynlp": "test",
        "goemotions": "test",
        "smp2020": "dev",
        "isear": "all",
        "emodb": "test",
        "urdu": "test",
    }
    assert all(spec.held_out in spec.splits for spec in DATASETS.values())


def test_every_registered_corpus_has_a_reader_named_after_it():
    assert set(READERS) == set(DATASETS)
    assert all(module.__name__.endswith("." + name) for name, module in READERS.items())


def test_ravdess(corpus):
    corpus("ravdess-speech")
    test = ravdess.load("test")
    train = ravdess.load("train")
    assert (len(train), len(test)) == (1200, 240)
    assert set(test["actor"]) == {21, 22, 23, 24}
    assert set(train["actor"]) == set(range(1, 21))
    assert test["label"].value_counts().to_dict() == {
        "calm": 32,
        "happy": 32,
        "sad": 32,
        "angry": 32,
        "fearful": 32,
        "disgust": 32,
        "surprised": 32,
        "neutral": 16,
    }
    assert test["basic"].value_counts()["neutral"] == 48  # neutral + calm
    row = test.iloc[0]
    assert row["id"] == "03-01-01-01-01-01-21" and row["gender"] == "male"
    assert row["path"].endswith("Actor_21/03-01-01-01-01-01-21.flac")
    with pytest.raises(DataError, match="no split 'dev'"):
        ravdess.load("dev")


def test_emodb(corpus):
    corpus("emodb")
    test, train = emodb.load("test"), emodb.load("train")
    assert (len(train), len(test)) == (408, 127)
    assert set(test["speaker"]) == {15, 16} and 15 not in set(train["speaker"])
    assert test["label"].value_counts().to_dict() == {
        "anger": 27,
        "boredom": 23,
        "happiness": 17,
        "disgust": 16,
        "neutral": 16,
        "fear": 15,
        "sadness": 13,
    }
    assert test["basic"].isna().sum() == 23  # boredom: no basic twin
    rec = emodb.parse_emodb_name("16b10Wb.flac")
    assert (rec["speaker"], rec["gender"], rec["label"], rec["basic"]) == (
        16,
        "female",
        "anger",
        "angry",
    )
    with pytest.raises(DataError, match="not an EmoDB file name"):
        emodb.parse_emodb_name("16b10Xb.flac")


def test_urdu(corpus):
    corpus("urdu-speech")
    test, train = urdu.load("test"), urdu.load("train")
    assert (len(train), len(test)) == (314, 86)
    assert set(test["speaker"]) == {"SF1", "SF6", "SF7", "SM3", "SM6", "SM7"}
    assert not set(test["speaker"]) & set(train["speaker"])
    # unscripted talk shows: the held-out speakers are mostly happy
    assert test["basic"].value_counts().to_dict() == {
        "happy": 72,
        "neutral": 8,
        "sad": 4,
        "angry": 2,
    }
    assert set(train["gender"]) == {"male", "female"}


def test_ravdess_name_parsing():
    rec = ravdess.parse_ravdess_name("Actor_12/03-01-06-02-01-02-12.flac")
    assert (rec["label"], rec["basic"], rec["intensity"], rec["actor"], rec["gender"]) == (
        "fearful",
        "fear",
        "strong",
        12,
        "female",
    )
    with pytest.raises(DataError, match="not a RAVDESS file name"):
        ravdess.parse_ravdess_name("03-01-09-01-01-01-01.flac")


def test_fer2013(corpus):
    corpus("fer2013")
    test = fer2013.load("test", images=True)
    assert len(test) == 3589 and set(test["split"]) == {"test"}
    assert test["label"].value_counts().to_dict() == {
        "happy": 879,
        "neutral": 626,
        "sad": 594,
        "fear": 528,
        "angry": 491,
        "surprise": 416,
        "disgust": 55,
    }
    assert test["image"].iloc[0].shape == (48, 48)
    assert (len(fer2013.load("train")), len(fer2013.load("val"))) == (28709, 3589)
    assert len(fer2013.load("PrivateTest")) == 3589
    # FER order differs from the basic order: id 0 is angry, 6 neutral
    first = test.iloc[0]
    assert L.FER2013_CLASSES[first["label_id"]] == first["label"] == first["basic"]


def test_meld(corpus, tmp_path):
    corpus("meld")
    sizes = {s: len(meld.load(s)) for s in ("train", "dev", "test")}
    assert sizes == {"train": 9989, "dev": 1109, "test": 2610}
    test = meld.load("test")
    assert test["basic"].value_counts().to_dict() == {
        "neutral": 1256,
        "happy": 402,
        "angry": 345,
        "surprise": 281,
        "sad": 208,
        "disgust": 68,
        "fear": 50,
    }
    assert test["id"].is_unique and test["id"].iloc[0] == "dia0_utt0"
    media = tmp_path / "MELD.Raw"
    (media / "output_repeated_splits_test").mkdir(parents=True)
    (media / "output_repeated_splits_test" / "dia0_utt0.mp4").write_bytes(b"\0")
    av = meld.load("test", media_root=media)
    assert av["has_media"].sum() == 1
    assert av["path"].iloc[0].endswith("output_repeated_splits_test/dia0_utt0.mp4")


def test_meld_malformed_label_names_file_and_line(corpus, tmp_path):
    src = corpus("meld") / "dev_sent_emo.csv"
    root = tmp_path / "data"
    (root / "meld").mkdir(parents=True)
    lines = src.read_text(encoding="utf-8").splitlines()
    assert ",surprise," in lines[2]
    lines[2] = lines[2].replace(",surprise,", ",glee,")
    (root / "meld" / "dev_sent_emo.csv").write_text("\n".join(lines[:4]) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"dev_sent_emo.csv: line 3: unknown meld label 'glee'"):
        meld.load("dev", root=root)


def test_emorynlp(corpus):
    corpus("emorynlp")
    test = emorynlp.load("test")
    assert len(test) == 984
    assert test["label"].value_counts().to_dict() == {
        "neutral": 288,
        "joyful": 217,
        "scared": 116,
        "peaceful": 111,
        "powerful": 96,
        "mad": 86,
        "sad": 70,
    }
    assert test["basic"].isna().sum() == 207  # peaceful + powerful
    assert test.iloc[0]["speaker"] == "Ross Geller"


def test_goemotions_ekman_files_match_the_mapping(corpus):
    corpus("goemotions")
    for split, n in (("train", 43410), ("dev", 5426), ("test", 5427)):
        full = goemotions.load(split, taxonomy="full")
        ekman = goemotions.load(split)
        assert len(full) == len(ekman) == n
        assert list(full["id"]) == list(ekman["id"])
        for fl, el in zip(full["labels"], ekman["labels"], strict=True):
            assert {L.GOEMOTIONS_TO_EKMAN[x] for x in fl} == set(el)
    test = goemotions.load("test")
    assert test["label"].isna().sum() == 459  # multi-label rows
    assert test["basic"].value_counts().to_dict() == {
        "happy": 1863,
        "neutral": 1606,
        "angry": 572,
        "surprise": 488,
        "sad": 283,
        "fear": 80,
        "disgust": 76,
    }
    assert set(test["basic"].dropna()) <= set(BASIC_LABELS)


def test_smp2020(corpus):
    corpus("smp2020-ewect")
    dev = smp2020.load("dev")
    assert len(dev) == 7276 and len(smp2020.load("train")) == 29098
    assert dev["basic"].value_counts().to_dict() == {
        "happy": 1961,
        "angry": 1933,
        "neutral": 1442,
        "sad": 1128,
        "surprise": 457,
        "fear": 355,
    }
    assert (dev["label"] == "neural").sum() == 1442


def test_isear(corpus):
    corpus("isear")
    df = isear.load()
    assert len(df) == 7666 and df["id"].is_unique
    assert df["label"].value_counts().to_dict() == {
        "anger": 1096,
        "sadness": 1096,
        "disgust": 1096,
        "shame": 1096,
        "fear": 1095,
        "joy": 1094,
        "guilt": 1093,
    }
    assert df["basic"].isna().sum() == 1096 + 1093
    # a text holding the field separator is kept whole
    row = df[df["id"] == "0410221"].iloc[0]
    assert "the same language" in row["text"] and "encounter" in row["text"]
    assert "á" not in row["text"]


def test_missing_corpus_is_a_data_error(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOCHAT_DATA_ROOT", str(tmp_path))
    with pytest.raises(DataError, match="corpus folder not found"):
        meld.load("test")
    (tmp_path / "fer2013").mkdir()
    with pytest.raises(DataError, match=r"fer2013.npz: file not found"):
        fer2013.load("test")


def test_non_utf8_file_is_reported(corpus, tmp_path):
    src = corpus("smp2020-ewect") / "dev.csv"
    (tmp_path / "smp2020-ewect").mkdir()
    shutil.copy(src, tmp_path / "smp2020-ewect" / "dev.csv")
    with (tmp_path / "smp2020-ewect" / "dev.csv").open("ab") as fh:
        fh.write("文本,happy,usual\n".encode("gbk"))
    with pytest.raises(DataError, match="not UTF-8"):
        smp2020.load("dev", root=tmp_path)
