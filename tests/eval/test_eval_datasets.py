"""Dataset adapters on the real corpora: split sizes, label maps, held-out splits, errors."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from emochat.core.errors import DataError
from emochat.eval import datasets as D
from emochat.eval import labels as L
from emochat.eval.specs import DATASETS, HELD_OUT


def test_held_out_splits_are_the_design_ones():
    assert HELD_OUT == {
        "ravdess": "test",
        "fer2013": "test",
        "meld": "test",
        "emorynlp": "test",
        "goemotions": "test",
        "smp2020": "dev",
        "isear": "all",
    }
    assert all(spec.held_out in spec.splits for spec in DATASETS.values())


def test_ravdess(corpus):
    corpus("ravdess-speech")
    test = D.ravdess_speech("test")
    train = D.ravdess_speech("train")
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
        D.ravdess_speech("dev")


def test_ravdess_name_parsing():
    rec = D.parse_ravdess_name("Actor_12/03-01-06-02-01-02-12.flac")
    assert (rec["label"], rec["basic"], rec["intensity"], rec["actor"], rec["gender"]) == (
        "fearful",
        "fear",
        "strong",
        12,
        "female",
    )
    with pytest.raises(DataError, match="not a RAVDESS file name"):
        D.parse_ravdess_name("03-01-09-01-01-01-01.flac")


def test_fer2013(corpus):
    corpus("fer2013")
    test = D.fer2013("test", images=True)
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
    assert (len(D.fer2013("train")), len(D.fer2013("val"))) == (28709, 3589)
    assert len(D.fer2013("PrivateTest")) == 3589
    # FER order differs from the basic order: id 0 is angry, 6 neutral
    first = test.iloc[0]
    assert L.FER2013_CLASSES[first["label_id"]] == first["label"] == first["basic"]


def test_meld(corpus, tmp_path):
    corpus("meld")
    sizes = {s: len(D.meld(s)) for s in ("train", "dev", "test")}
    assert sizes == {"train": 9989, "dev": 1109, "test": 2610}
    test = D.meld("test")
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
    av = D.meld("test", media_root=media)
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
        D.meld("dev", root=root)


def test_emorynlp(corpus):
    corpus("emorynlp")
    test = D.emorynlp("test")
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
        full = D.goemotions(split, taxonomy="full")
        ekman = D.goemotions(split)
        assert len(full) == len(ekman) == n
        assert list(full["id"]) == list(ekman["id"])
        for fl, el in zip(full["labels"], ekman["labels"], strict=True):
            assert {L.GOEMOTIONS_TO_EKMAN[x] for x in fl} == set(el)
    test = D.goemotions("test")
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
    assert set(test["basic"].dropna()) <= set(L.BASIC_LABELS)


def test_smp2020(corpus):
    corpus("smp2020-ewect")
    dev = D.smp2020("dev")
    assert len(dev) == 7276 and len(D.smp2020("train")) == 29098
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
    df = D.isear()
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


def test_ovmer_labels(corpus):
    corpus("ov-mer")
    gold = D.ovmer_labels("gold")
    assert len(gold) == 332
    assert gold.iloc[1]["words"] == ["excited", "joyful", "happy"]
    pred = D.ovmer_labels("pred")
    assert (pred["words"].map(len) == 0).sum() == 5


def test_manifest(tmp_path):
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "a.mp4").write_bytes(b"\0")
    (tmp_path / "clips" / "b.mp4").write_bytes(b"\0")
    (tmp_path / "a.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nhi\n", encoding="utf-8")
    m = tmp_path / "m.csv"
    m.write_text(
        "path,label,transcript,valence,speaker\nclips/a.mp4,Joy,a.srt,0.5,x\nclips/b.mp4,sad,,,y\n",
        encoding="utf-8",
    )
    df = D.manifest(m)
    assert list(df["label"]) == ["joy", "sad"] and list(df["basic"]) == ["happy", "sad"]
    assert df["transcript"].iloc[0] == str(tmp_path / "a.srt")
    assert pd.isna(df["transcript"].iloc[1])
    assert df["valence"].iloc[0] == 0.5 and df["valence"].isna().iloc[1]
    assert list(df["speaker"]) == ["x", "y"]

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "path,label,valence\nclips/a.mp4,happy,0.1\nclips/b.mp4,sad,high\n", encoding="utf-8"
    )
    with pytest.raises(DataError, match=r"bad.csv: line 3: valence 'high' is not a number"):
        D.manifest(bad)
    missing = tmp_path / "missing.csv"
    missing.write_text("path,label\nclips/a.mp4,happy\nclips/zzz.mp4,sad\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"missing.csv: line 3: no such file clips/zzz.mp4"):
        D.manifest(missing)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("path,label\nclips/a.mp4,happy,extra\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"ragged.csv: line 2: 3 fields, expected 2"):
        D.manifest(ragged)
    nolabel = tmp_path / "nolabel.csv"
    nolabel.write_text("path\nclips/a.mp4\n", encoding="utf-8")
    with pytest.raises(DataError, match="missing column"):
        D.manifest(nolabel)


def test_missing_corpus_is_a_data_error(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOCHAT_DATA_ROOT", str(tmp_path))
    with pytest.raises(DataError, match="corpus folder not found"):
        D.meld("test")
    (tmp_path / "fer2013").mkdir()
    with pytest.raises(DataError, match=r"fer2013.npz: file not found"):
        D.fer2013("test")


def test_non_utf8_file_is_reported(corpus, tmp_path):
    src = corpus("smp2020-ewect") / "dev.csv"
    (tmp_path / "smp2020-ewect").mkdir()
    shutil.copy(src, tmp_path / "smp2020-ewect" / "dev.csv")
    with (tmp_path / "smp2020-ewect" / "dev.csv").open("ab") as fh:
        fh.write("文本,happy,usual\n".encode("gbk"))
    with pytest.raises(DataError, match="not UTF-8"):
        D.smp2020("dev", root=tmp_path)


# Fuzzing findings (bench/bench_fuzz.py): each input raised another exception, gave a
# message of two lines, or was accepted with wrong values.
@pytest.mark.parametrize(
    "text,problem",
    [
        ("path,label\n" + "x" * 300 + ",happy\n", "line 2: no such file xxx"),  # OSError
        ("path,label,valence\nclip.mp4,happy,inf\n", "line 2: valence 'inf' is not finite"),
        ("path,label,id\nclip.mp4,happy,7\n", "column 'id' is filled by emochat"),  # ids lost
        ("path,label,label\nclip.mp4,happy,sad\n", "column label appears twice"),  # one lost
        ('path,label\n"clip\n.mp4",happy\n', "no such file 'clip\\n.mp4'"),  # two-line message
    ],
)
def test_manifest_fuzz_findings_are_one_line_data_errors(tmp_path, text, problem):
    from emochat.eval.datasets import manifest

    (tmp_path / "clip.mp4").write_bytes(b"x")
    p = tmp_path / "clips.csv"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as err:
        manifest(p)
    assert problem in str(err.value) and str(err.value).startswith(str(p))
    assert "\n" not in str(err.value)
