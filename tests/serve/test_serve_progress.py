"""Job progress: every stage shows, however fast it runs."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
from emochat.apps.jobs import run_job  # noqa: E402
from emochat.serve.worker import ProgressWriter  # noqa: E402


class _RecordingStore:
    def __init__(self):
        self.writes: list[tuple[str, float]] = []

    def set_progress(self, job_id, runner, stage, fraction):
        self.writes.append((stage, fraction))


def test_progress_shows_every_stage_however_fast():
    """Updates within a stage are throttled; a new stage is written at once."""
    store, now = _RecordingStore(), [100.0]
    write = ProgressWriter(store, "job", "runner", clock=lambda: now[0])
    for fraction in (0.1, 0.5, 0.99):
        write("face", fraction)
        now[0] += 0.01
    for stage in ("voice", "segment", "text", "fusion"):
        write(stage, 0.0)
    now[0] += 1.0
    write("fusion", 0.5)
    assert store.writes == [
        ("face", 0.1),
        ("voice", 0.0),
        ("segment", 0.0),
        ("text", 0.0),
        ("fusion", 0.0),
        ("fusion", 0.5),
    ]


def test_a_real_job_reports_each_stage_in_order(tmp_path, clip):
    store = _RecordingStore()
    run_job(clip, tmp_path, {"fps": 2.0}, ProgressWriter(store, "job", "runner"))
    stages = list(dict.fromkeys(stage for stage, _ in store.writes))
    assert stages[:2] == ["face", "voice"], store.writes  # the stages that report today
