"""A user's clip list: paths resolved, labels mapped, every problem one line naming the row."""

from __future__ import annotations

import pandas as pd
import pytest

from emochat.core.errors import DataError
from emochat.data.manifest import read_manifest


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
    df = read_manifest(m)
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
        read_manifest(bad)
    missing = tmp_path / "missing.csv"
    missing.write_text("path,label\nclips/a.mp4,happy\nclips/zzz.mp4,sad\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"missing.csv: line 3: no such file clips/zzz.mp4"):
        read_manifest(missing)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("path,label\nclips/a.mp4,happy,extra\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"ragged.csv: line 2: 3 fields, expected 2"):
        read_manifest(ragged)
    nolabel = tmp_path / "nolabel.csv"
    nolabel.write_text("path\nclips/a.mp4\n", encoding="utf-8")
    with pytest.raises(DataError, match="missing column"):
        read_manifest(nolabel)


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
    (tmp_path / "clip.mp4").write_bytes(b"x")
    p = tmp_path / "clips.csv"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as err:
        read_manifest(p)
    assert problem in str(err.value) and str(err.value).startswith(str(p))
    assert "\n" not in str(err.value)


def test_a_folder_of_label_folders_is_a_manifest(tmp_path):
    """root/<label>/...: every media file at any depth, labelled by its top folder."""
    for rel in (
        "anger/S1/a.png",
        "SU/KA.SU1.36.tiff",
        "contempt/c.jpg",
        "anger/notes.txt",
        ".cache/h.png",
        "anger/.hidden/x.png",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"\0")
    df = read_manifest(tmp_path)
    assert list(df["path"]) == [
        str(tmp_path / "SU" / "KA.SU1.36.tiff"),
        str(tmp_path / "anger" / "S1" / "a.png"),
        str(tmp_path / "contempt" / "c.jpg"),
    ]
    assert list(df["label"]) == ["su", "anger", "contempt"]
    assert list(df["basic"])[:2] == ["surprise", "angry"] and pd.isna(df["basic"].iloc[2])
    assert df["transcript"].isna().all() and df["valence"].isna().all()

    (tmp_path / "loose.png").write_bytes(b"\0")
    with pytest.raises(DataError, match="loose.png is not in a label folder"):
        read_manifest(tmp_path)
    (tmp_path / "empty" / "happy").mkdir(parents=True)
    with pytest.raises(DataError, match="no media files in label folders"):
        read_manifest(tmp_path / "empty")
