"""The issue #24 hostile inputs through the real service (its real options model, its real
worker): refused at submission with a one-line 4xx, or a job that fails with a one-line
error naming the problem; never a traceback, never a stuck job."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("fastapi")

from emochat.testing.synth import huge_png  # noqa: E402

HOSTILE_OPTIONS = [
    ({"segment_s": 0.000001}, "segment_s must be a number >= 0.5"),
    ({"segment_s": 0}, "segment_s must be a number >= 0.5"),
    ({"fps": 1e9}, "fps must be a number"),
    ({"fps": 0}, "fps must be a number"),
    ({"fps": "many"}, "fps: Input should be a valid number"),
    ({"language": "xx"}, "language"),
]


@pytest.mark.parametrize(
    ("fields", "says"), HOSTILE_OPTIONS, ids=[str(f) for f, _ in HOSTILE_OPTIONS]
)
def test_hostile_options_are_refused_before_anything_is_saved(
    tmp_path, clip, make_client, upload, fields, says
):
    with make_client() as client:
        r = upload(client, clip, **fields)
        assert r.status_code == 422, r.text
        detail = r.json()["detail"]
        assert says in detail and "\n" not in detail and "Traceback" not in detail
        assert client.get("/v1/jobs").json()["jobs"] == []
        jobs = tmp_path / "data" / "jobs"
        assert not jobs.exists() or not list(jobs.iterdir())


def test_hostile_uploads_end_in_one_line_job_errors(tmp_path, make_client, upload):
    bomb = huge_png(tmp_path / "bomb.png", 20_000, 20_000)
    noise = tmp_path / "noise.mp4"
    noise.write_bytes(bytes(range(256)) * 64)
    expect = {"bomb.png": "over the 150 Mpx limit", "noise.mp4": "not a media file"}
    with make_client(start_workers=True) as client:
        submitted = {}
        for path in (bomb, noise):
            r = upload(client, path)
            if r.status_code == 202:
                submitted[path.name] = r.json()
            else:  # refused at the door is as good, if it says why in one line
                detail = r.json()["detail"]
                assert r.status_code in (400, 415, 422) and "\n" not in detail, r.text
        deadline = time.monotonic() + 120
        for name, job in submitted.items():
            while (info := client.get(job["links"]["job"]).json())["status"] in (
                "queued",
                "running",
            ):
                assert time.monotonic() < deadline, info
                time.sleep(0.2)
            assert info["status"] == "failed", info
            assert expect[name] in info["error"], info
            assert "\n" not in info["error"] and "Traceback" not in info["error"]
