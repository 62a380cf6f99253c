"""AU Agent on real clips (issue 3 criteria) and the report / OpenFace CSV contracts.

WolfgangLanger_Pexels.mp4 is a sob for its first ~6 s (brows knit, eyes squeezed,
hand to the face from ~3 s), then calms and, from ~10 s, laughs openly. The
crying-vs-smile comparisons of brow and lip-corner AUs use that first part; the
smile comparisons use the whole clip, laughter included.
"""

import csv
import json
import re

import pytest

from emochat.core.settings import media_root
from emochat.face import FaceTracker
from emochat.face.au import AU_CODES, AUAgent, analyze_faces, write_openface_csv
from emochat.ingest import iter_frames

MEDIA = media_root()
pytestmark = pytest.mark.skipif(not MEDIA.is_dir(), reason=f"test media not found at {MEDIA}")
FPS = 10
CRYING_PART = (0.0, 6.0)


def analyse(name, fps=FPS, **tracker_args):
    return analyze_faces(iter_frames(MEDIA / name, fps=fps), tracker=FaceTracker(**tracker_args))


@pytest.fixture(scope="module")
def smile():
    return analyse("single_face.mp4")


@pytest.fixture(scope="module")
def crying():
    return analyse("WolfgangLanger_Pexels.mp4")


# With the population neutral (issue 22: clips under 10 s are not judged against
# themselves), two of the issue-3 criteria no longer hold on these clips and are not
# asserted: AU06 on the smile reads 0.02 and AU01 in the sob 0.28 against the smile's 0.37
# (docs/au_validity.md lists them as measured misses). What still holds is asserted.


def means(analysis, start_s=float("-inf"), end_s=float("inf")):
    (track,) = analysis.au.tracks.values()
    return track.mean_intensity(start_s, end_s)


def test_broad_smile_has_a_strong_lip_corner_puller(smile):
    assert means(smile)["AU12"] >= 1.5


def test_smile_pulls_the_lip_corners_more_than_the_crying_clip(smile, crying):
    s, c = means(smile), means(crying)
    assert s["AU12"] >= 1.3 * c["AU12"], (s["AU12"], c["AU12"])


def test_crying_has_more_brow_lowerer_and_lip_corner_depressor(smile, crying):
    s, c = means(smile), means(crying, *CRYING_PART)
    assert c["AU04"] > s["AU04"] + 0.5, (c["AU04"], s["AU04"])
    assert c["AU15"] > s["AU15"], (c["AU15"], s["AU15"])


def test_crying_is_described_in_words(crying):
    assert any(e.au == "AU04" and e.onset_s < 2.0 for e in crying.au.events)
    text = crying.au.describe(0, 0.0, 2.0)
    assert "brow lowerer (AU4)" in text
    event = r"[a-z ]+ \(AU\d+\) [a-z ]+ \(peak [\d.]+\)(, [\d.]+-[\d.]+ s)?(, micro-expression)?"
    assert re.fullmatch(f"({event}; )*{event}", text)
    assert "face not visible" == crying.au.describe(7, 0, 5)


def test_face_summary_and_frame_count(smile):
    assert smile.frames_processed == 24
    (face,) = smile.faces
    assert face.face_id == 0 and face.n_frames == 24
    assert face.first_s == pytest.approx(0.0) and face.last_s == pytest.approx(2.3, abs=0.05)
    assert 0.9 <= face.mean_confidence <= 1.0


def test_report_is_plain_json_with_rounded_floats(smile):
    report = smile.to_report()
    text = json.dumps(report)
    again = json.loads(text)
    au = again["au"]
    assert au["names"] == list(AU_CODES) and au["labels"]["AU12"] == "lip corner puller"
    (track,) = au["tracks"]
    n = len(track["t_s"])
    assert n == 24 and len(track["intensity"]) == n and len(track["intensity"][0]) == 17
    assert len(track["presence"][0]) == 17 and set(sum(track["presence"], [])) <= {0, 1}
    assert set(track["pose"]) == {"yaw", "pitch", "roll", "tx_mm", "ty_mm", "tz_mm"}
    assert all(len(values) == n for values in track["pose"].values())
    assert len(track["confidence"]) == n
    assert all(round(v, 1) == v for v in track["pose"]["tz_mm"])
    floats = [v for row in track["intensity"] for v in row] + track["t_s"]
    assert all(round(v, 3) == v for v in floats)
    smile_events = [e for e in au["events"] if e["au"] == "AU12"]
    assert smile_events and set(smile_events[0]) == {
        "face_id", "au", "onset_s", "apex_s", "offset_s", "peak", "micro",
    }  # fmt: skip
    assert again["faces"][0]["face_id"] == 0


# OpenFace 2 FeatureExtraction's columns in its order, less what we do not estimate
# (eye_lmk_*, X_/Y_/Z_, p_*, AU28_c)
OPENFACE_COLUMNS = (
    ["frame", "face_id", "timestamp", "confidence", "success"]
    + ["gaze_0_x", "gaze_0_y", "gaze_0_z", "gaze_1_x", "gaze_1_y", "gaze_1_z"]
    + ["gaze_angle_x", "gaze_angle_y"]
    + ["pose_Tx", "pose_Ty", "pose_Tz", "pose_Rx", "pose_Ry", "pose_Rz"]
    + [f"x_{i}" for i in range(68)]
    + [f"y_{i}" for i in range(68)]
    + [f"{c}_r" for c in AU_CODES]
    + [f"{c}_c" for c in AU_CODES]
)
# py-feat's read_openface (feat.utils: openface_time_columns, openface_gaze_columns,
# openface_facepose_columns, openface_2d_landmark_columns, openface_AU_columns less AU28_c)
PYFEAT_COLUMNS = (
    ["frame", "timestamp", "confidence", "success"]
    + ["gaze_0_x", "gaze_0_y", "gaze_0_z", "gaze_1_x", "gaze_1_y", "gaze_1_z"]
    + ["pose_Tx", "pose_Ty", "pose_Tz", "pose_Rx", "pose_Ry", "pose_Rz"]
    + [f"x_{i}" for i in range(68)]
    + [f"y_{i}" for i in range(68)]
    + [f"AU{n:02d}_r" for n in (1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 20, 23, 25, 26, 45)]
    + [f"AU{n:02d}_c" for n in (1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 20, 23, 25, 26, 45)]
)


def test_openface_csv_layout(smile, tmp_path):
    path = write_openface_csv(smile, tmp_path / "au.csv")
    lines = path.read_text().splitlines()
    assert lines[0].split(", ") == OPENFACE_COLUMNS
    rows = list(csv.DictReader(lines, skipinitialspace=True))
    assert len(rows) == 24 and all(len(r) == len(OPENFACE_COLUMNS) for r in rows)
    first = rows[0]
    assert first["frame"] == "1" and first["success"] == "1" and first["face_id"] == "0"
    assert abs(float(first["pose_Ry"])) < 0.5  # radians
    assert float(max(rows, key=lambda r: float(r["AU12_r"]))["AU12_r"]) > 2
    assert {r["AU12_c"] for r in rows} <= {"0.0", "1.0"}


def test_openface_csv_reads_as_pyfeat_reads_openface(smile, tmp_path):
    """py-feat's read_openface: pandas, sep=",", column names stripped, its columns picked."""
    import numpy as np
    import pandas as pd

    table = pd.read_csv(write_openface_csv(smile, tmp_path / "au.csv"), sep=",")
    table.columns = table.columns.str.strip(" ")
    table = table[PYFEAT_COLUMNS]
    assert all(pd.api.types.is_numeric_dtype(table[c]) for c in PYFEAT_COLUMNS)
    gaze = table[[f"gaze_{e}_{a}" for e in (0, 1) for a in "xyz"]].to_numpy().reshape(-1, 2, 3)
    assert np.allclose(np.linalg.norm(gaze, axis=2), 1, atol=1e-4) and (gaze[..., 2] < 0).all()
    assert (table["pose_Tz"].between(200, 3000)).all()  # mm: a face a few tens of cm away
    x, y = table[[f"x_{i}" for i in range(68)]], table[[f"y_{i}" for i in range(68)]]
    assert (x["x_36"] < x["x_45"]).all() and (y["y_27"] < y["y_8"]).all()  # eyes; nose above chin


def test_openface_csv_marks_faceless_frames(tmp_path):
    analysis = analyse("no_face.mp4", fps=5)
    assert analysis.faces == [] and analysis.face_frames == 0 and analysis.frames_processed > 10
    rows = (write_openface_csv(analysis, tmp_path / "none.csv").read_text().splitlines())[1:]
    assert len(rows) == analysis.frames_processed
    assert all(r.split(", ")[4] == "0" for r in rows)


def test_photo_gets_no_micro_expression_and_no_time_range():
    analysis = analyze_faces(iter_frames(MEDIA / "0-f15-hao-ph.jpg"), agent=AUAgent())
    assert analysis.frames_processed == 1 and len(analysis.faces) == 1
    assert all(not e.micro for e in analysis.au.events)
    text = analysis.au.describe(0, 0.0, 0.0)
    assert "lip corner puller (AU12)" in text and not re.search(r"\d-\d", text)


def test_progress_is_called_with_frame_times():
    seen = []
    analyze_faces(iter_frames(MEDIA / "single_face.mp4", fps=5), progress=seen.append)
    assert len(seen) == 12 and seen == sorted(seen)
