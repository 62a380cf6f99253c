"""Time limits: a stage past its limit is a warning; the whole run past its limit is stopped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from emochat.cli import main
from emochat.cli.watchdog import EXIT_TIMEOUT
from emochat.report.model import validate_report

SRC = str(Path(__file__).resolve().parents[2] / "src")


def test_stage_time_limit_gives_timeout_warnings_and_a_valid_report(sample_clip, tmp_path):
    out = tmp_path / "out"
    code = main(["analyze", str(sample_clip), "-o", str(out), "-q", "--stage-time-limit", "0.01"])
    assert code == 0
    data = json.loads((out / "report.json").read_text())
    validate_report(data)
    timeouts = {w["stage"]: w["message"] for w in data["warnings"] if w["code"] == "timeout"}
    # face checks its deadline after each frame, voice between its steps
    assert {"face", "voice"} <= set(timeouts)
    assert "stopped at its time limit of 0.01 s" in timeouts["face"]
    assert "face" not in data["stages"] and not data.get("faces")
    assert "overall" in data["stages"] or any(w["stage"] == "overall" for w in data["warnings"])


def test_watchdog_stops_the_run_with_one_line_and_no_report(sample_clip, tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "emochat", "analyze", str(sample_clip), "-o", str(out), "-q"]
        + ["--time-limit", "0.3"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == EXIT_TIMEOUT, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"emochat: error: {sample_clip}: ")
    assert "time limit of 0.3 s" in lines[0] and "Traceback" not in proc.stderr
    assert not (out / "report.json").exists()
    assert time.perf_counter() - t0 < 60


def test_watchdog_line_reaches_stderr_while_fd2_is_silenced(tmp_path):
    """The face stage points fd 2 at /dev/null while LiteRT loads; the line must still show."""
    script = (
        "import time\n"
        "from pathlib import Path\n"
        "from emochat.cli.watchdog import Watchdog\n"
        "from emochat.face.runtime import _native_stderr_silenced\n"
        "with Watchdog() as w:\n"
        "    w.arm(Path('clip.mp4'), 0.2)\n"
        "    with _native_stderr_silenced():\n"
        "        time.sleep(30)\n"
    )
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == EXIT_TIMEOUT
    assert proc.stderr.strip().splitlines() == [
        "emochat: error: clip.mp4: analysis still running after its time limit of 0.2 s; "
        "stopped (raise it with --time-limit)"
    ]
