"""A job's progress moves through every stage of the analysis (issue #24: it froze at
"face 0.99" through the voice stage): throttled within a stage, written at once when a
new stage starts, and on a real clip with a face and speech."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

pytest.importorskip("fastapi")
from emochat.api import default_pipeline  # noqa: E402
from emochat.serve.store import JobStore  # noqa: E402
from emochat.serve.worker import ProgressWriter, execute_job  # noqa: E402
from emochat.testing.synth import espeak, mux_with_video  # noqa: E402


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


def test_job_progress_moves_through_every_stage(sample_clip, tmp_path, monkeypatch):
    audio = np.concatenate([np.zeros(4000, np.float32), espeak("I am happy today.")])
    job_dir = tmp_path / "j1"
    job_dir.mkdir()
    media = mux_with_video(sample_clip, audio, tmp_path / "talk.mp4")
    media = shutil.copy(media, job_dir / "input.mp4")  # the worker reads the job's own copy
    store = JobStore(tmp_path / "jobs.db")
    store.add("j1", source="path", media_path=str(media), job_dir=str(job_dir), options={})
    assert store.claim("r1").id == "j1"
    written = []
    set_progress = JobStore.set_progress

    def spy(self, job_id, runner, stage, fraction):
        written.append((stage, fraction))
        return set_progress(self, job_id, runner, stage, fraction)

    monkeypatch.setattr(JobStore, "set_progress", spy)
    result = execute_job(str(store.path), "j1", "r1", str(media), str(job_dir), {"fps": 2})
    assert result["ok"], result
    stages = default_pipeline().stage_names
    # every stage is written when it starts, in order, and the fraction only grows
    assert list(dict.fromkeys(stage for stage, _ in written)) == stages
    fractions = [f for _, f in written]
    assert fractions == sorted(fractions) and fractions[0] == 0.0
    first_voice = next(f for s, f in written if s == "voice")
    assert first_voice == 1 / len(stages)  # the voice stage starts where the face stage ended
    job = store.get("j1")
    assert job.stage == stages[-1] and job.progress == round(max(fractions), 4)
