"""A job's progress moves through every stage of the analysis (issue #24: it froze at
"face 0.99" through the voice stage), on a real clip with a face and speech."""

from __future__ import annotations

import numpy as np

from emochat.api import default_pipeline
from emochat.serve.store import JobStore
from emochat.serve.worker import execute_job
from emochat.testing.synth import espeak, mux_with_video


def test_job_progress_moves_through_every_stage(sample_clip, tmp_path, monkeypatch):
    audio = np.concatenate([np.zeros(4000, np.float32), espeak("I am happy today.")])
    media = mux_with_video(sample_clip, audio, tmp_path / "talk.mp4")
    store = JobStore(tmp_path / "jobs.db")
    store.add("j1", source="path", media_path=str(media), job_dir=str(tmp_path / "j1"), options={})
    assert store.claim("r1").id == "j1"
    written = []
    set_progress = JobStore.set_progress

    def spy(self, job_id, runner, stage, fraction):
        written.append((stage, fraction))
        return set_progress(self, job_id, runner, stage, fraction)

    monkeypatch.setattr(JobStore, "set_progress", spy)
    result = execute_job(str(store.path), "j1", "r1", str(media), str(tmp_path / "j1"), {"fps": 2})
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
