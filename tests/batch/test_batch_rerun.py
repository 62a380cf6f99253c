"""`emochat batch` rerun into a finished folder with other options: never mixed results."""

from __future__ import annotations

import json
import shutil

from emochat.cli import main


def test_rerun_with_other_options_stops_then_reruns_changed_clips(sample_clip, tmp_path, capsys):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    shutil.copyfile(sample_clip, src / "clip.mp4")
    report, marker, summary = (
        out / "clips" / "clip.mp4" / "report.json",
        out / "state" / "clip.mp4.json",
        out / "batch.json",
    )

    def batch(*options: str) -> int:
        return main(["batch", str(src), "-o", str(out), "--workers", "1", "-q", *options])

    assert batch("--fps", "2") == 0
    frames_at_2 = json.loads(report.read_text())["faces"][0]["n_frames"]
    assert json.loads(marker.read_text())["options"]["fps"] == 2.0
    before = summary.read_text()
    capsys.readouterr()

    assert batch("--fps", "5") == 2  # refused: the finished clip was analysed at 2 fps
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "fps 2.0 -> 5.0" in err[0] and "--rerun-changed" in err[0], err
    assert summary.read_text() == before  # batch.json still names the options used

    assert batch("--fps", "5", "--rerun-changed") == 0
    recorded = json.loads(summary.read_text())
    assert (recorded["processed"], recorded["options"]["fps"]) == (1, 5.0)
    assert json.loads(marker.read_text())["options"] == recorded["options"]
    assert json.loads(report.read_text())["faces"][0]["n_frames"] >= 2 * frames_at_2

    assert batch("--fps", "5") == 0  # same options: resumes, nothing redone
    assert json.loads(summary.read_text())["skipped"] == 1
