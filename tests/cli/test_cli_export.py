"""Tidy tables of a report: Report.frames()/utterances()/words() and `emochat export`, on a
real talking clip (issue 27)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import emochat
from emochat.cli import main
from emochat.report.tables import frames, utterances, words


@pytest.fixture(scope="module")
def talking(media_dir, tmp_path_factory):
    """A real talking head (speech, one face): the report object and its report.json."""
    out = tmp_path_factory.mktemp("talking")
    clip = media_dir / "talking" / "retalking_2.mp4"
    report = emochat.analyze(clip)
    path = report.write_json(out / "report.json")
    return report, path


def test_frames_has_one_row_per_face_per_analysed_frame(talking):
    report, path = talking
    table = report.frames()
    track = report.au["tracks"][0]
    assert len(table) == sum(len(t["t_s"]) for t in report.au["tracks"])
    assert table["time_s"].is_monotonic_increasing
    fps = report.media["fps"]
    assert (table["frame"] == (table["time_s"] * fps).round().astype("Int64")).all()
    for column in ("confidence", "pose_yaw", "AU12_r", "AU12_c", "expr_happy", "valence"):
        assert column in table.columns
    for column in ("box_x", "box_h", "gaze_0_x", "gaze_1_z", "gaze_angle_x", "gaze_angle_y"):
        assert column in table.columns
    # the head's position (OpenFace's pose_T): in front of the camera at a talking-head distance
    assert {"pose_tx_mm", "pose_ty_mm", "pose_tz_mm"} <= set(table.columns)
    assert table["pose_tz_mm"].between(150, 3000).all(), table["pose_tz_mm"].describe()
    first = table[table["face_id"] == track["face_id"]].iloc[0]
    assert first["AU12_r"] == track["intensity"][0][report.au["names"].index("AU12")]
    probs = first[[c for c in table.columns if c.startswith("expr_")]]
    assert probs.sum() == pytest.approx(1.0, abs=2e-3)
    pd.testing.assert_frame_equal(frames(path), table)  # the JSON on disk gives the same


def test_utterances_and_words_carry_each_modality(talking):
    report, path = talking
    table = report.utterances()
    assert len(table) == len(report.segments)
    assert {"start_s", "end_s", "text", "label", "voice_label", "text_label"} <= set(table.columns)
    assert table.loc[0, "label"] == report.segments[0].emotion.label
    p_cols = [c for c in table.columns if c.startswith("p_")]
    assert table[p_cols].sum(axis=1).to_numpy() == pytest.approx(1.0, abs=2e-3)
    spoken = words(path)
    assert len(spoken) > 5
    assert {"segment", "start_s", "end_s", "text", "loudness"} <= set(spoken.columns)
    assert (spoken["end_s"] >= spoken["start_s"]).all()
    assert spoken["segment"].max() < len(table)
    pd.testing.assert_frame_equal(utterances(path), table)


def test_export_writes_csv_and_parquet(talking, tmp_path, capsys):
    _, path = talking
    assert main(["export", str(path), "--table", "frames", "-o", str(tmp_path / "f.csv")]) == 0
    csv = pd.read_csv(tmp_path / "f.csv")
    assert len(csv) == len(frames(path)) and "AU12_r" in csv.columns
    parquet = tmp_path / "w.parquet"
    assert (
        main(["export", str(path), "--table", "words", "--format", "parquet", "-o", str(parquet)])
        == 0
    )
    assert len(pd.read_parquet(parquet)) == len(words(path))
    assert main(["export", str(path)]) == 0  # utterances as CSV on stdout
    assert capsys.readouterr().out.splitlines()[0].startswith("start_s,end_s")


def test_export_refuses_what_is_not_a_report(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"hello": 1}))
    assert main(["export", str(bad)]) == 2
    assert "bad.json" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "missing.json")]) == 2
    assert main(["export", str(bad), "--format", "parquet"]) == 2
