"""A job's files: taken in once, never read through a symlink; retention, DELETE, quota."""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("multipart")
from emochat.serve.jobfiles import RefusedFile, take_in_server_file  # noqa: E402
from emochat.serve.store import JobStore  # noqa: E402
from emochat.serve.worker import execute_job  # noqa: E402


@pytest.fixture
def root(tmp_path, clip) -> Path:
    """An allowed root with a clip, and a different 'secret' file outside it."""
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "ok.mp4").write_bytes(clip.read_bytes())
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.mp4").write_bytes(b"SECRET" + clip.read_bytes())
    return root


def _finish(client, job_id: str, at: float | None = None) -> None:
    """Mark a queued job done as a worker would (its outputs written first)."""
    store = client.app.state.store
    job_dir = client.app.state.retention.jobs_dir / job_id
    (job_dir / "report.json").write_text("{}")
    runner = "test-runner"
    assert store.claim(runner).id == job_id
    assert store.finish(job_id, runner)
    if at is not None:
        with sqlite3.connect(store.path) as db:
            db.execute("UPDATE jobs SET finished_at = ? WHERE id = ?", (at, job_id))


def test_symlink_swap_after_submission_cannot_read_outside_the_root(tmp_path, root, make_client):
    secret = tmp_path / "outside" / "secret.mp4"
    with make_client(allowed_root=root) as client:
        job = client.post("/v1/analyze", json={"path": "sub/ok.mp4"}).json()
        job_dir = tmp_path / "data" / "jobs" / job["id"]
        media = job_dir / "input.mp4"
        assert media.read_bytes() == (root / "sub" / "ok.mp4").read_bytes()

        # the original swapped for a symlink: the job keeps the file that was checked
        (root / "sub" / "ok.mp4").unlink()
        (root / "sub" / "ok.mp4").symlink_to(secret)
        r = client.get(job["links"]["media"])
        assert r.status_code == 200 and not r.content.startswith(b"SECRET")

        # the job's own file swapped for a symlink: refused, never followed
        media.unlink()
        media.symlink_to(secret)
        r = client.get(job["links"]["media"])
        assert r.status_code == 403 and b"SECRET" not in r.content
        _finish(client, job["id"])
        (job_dir / "report.json").unlink()
        (job_dir / "report.json").symlink_to(secret)
        assert client.get(job["links"]["result"]).status_code == 403

        # the whole job folder swapped for a symlink: refused too
        os.rename(job_dir, tmp_path / "moved")
        job_dir.symlink_to(tmp_path / "outside")
        (tmp_path / "outside" / "input.mp4").write_bytes(b"SECRET")
        assert client.get(job["links"]["media"]).status_code == 403

    # the worker refuses it as well, before any analysis
    store = JobStore(tmp_path / "data" / "jobs.sqlite3")
    result = execute_job(str(store.path), job["id"], "r", str(media), str(job_dir), {})
    assert not result["ok"] and "cannot be read" in result["error"]


def test_take_in_refuses_a_folder_swapped_for_a_symlink(tmp_path, root):
    """A folder on the way replaced by a symlink after the path was resolved and checked."""
    (root / "sub").rename(root / "real")
    (root / "sub").symlink_to(tmp_path / "outside")
    (tmp_path / "outside" / "ok.mp4").write_bytes(b"SECRET")
    target = tmp_path / "job" / "input.mp4"
    target.parent.mkdir()
    with pytest.raises(RefusedFile):
        take_in_server_file(root, Path("sub/ok.mp4"), target)
    assert not target.exists()
    # a straight path is hard-linked (no copy) when the file system allows it
    assert take_in_server_file(root, Path("real/ok.mp4"), target) == target.stat().st_size
    assert target.stat().st_ino == (root / "real" / "ok.mp4").stat().st_ino


def test_retention_deletes_finished_jobs_and_their_files(tmp_path, make_client, upload, clip):
    now = [time.time()]
    with make_client(keep_hours=2) as client:
        client.app.state.retention.clock = lambda: now[0]
        old, recent, queued = (upload(client, clip).json()["id"] for _ in range(3))
        _finish(client, old, at=now[0] - 3 * 3600)
        _finish(client, recent, at=now[0] - 1 * 3600)
        jobs_dir = tmp_path / "data" / "jobs"
        assert client.app.state.retention.sweep() == 1
        assert not (jobs_dir / old).exists()
        assert client.get(f"/v1/jobs/{old}").status_code == 404
        assert (jobs_dir / recent / "input.mp4").is_file()
        now[0] += 1.5 * 3600  # the recent one passes 2 h; a queued job is never swept
        assert client.app.state.retention.sweep() == 1
        assert sorted(p.name for p in jobs_dir.iterdir()) == [queued]
        assert [j["id"] for j in client.get("/v1/jobs").json()["jobs"]] == [queued]


def test_start_sweeps_expired_jobs_and_orphan_folders(tmp_path, make_client, upload, clip):
    with make_client(keep_hours=1) as client:
        job = upload(client, clip).json()["id"]
        _finish(client, job, at=time.time() - 7200)
    orphan = tmp_path / "data" / "jobs" / ("0" * 32)  # an upload cut short by a crash
    orphan.mkdir()
    (orphan / "input.mp4").write_bytes(b"x")
    with make_client(keep_hours=0) as client:  # 0 keeps jobs forever, not orphans
        assert client.get(f"/v1/jobs/{job}").status_code == 200
        assert not orphan.exists()
    with make_client(keep_hours=1) as client:
        assert client.get(f"/v1/jobs/{job}").status_code == 404
        assert list((tmp_path / "data" / "jobs").iterdir()) == []


def test_delete_cancels_queued_jobs_and_refuses_running_ones(tmp_path, make_client, upload, clip):
    jobs_dir = tmp_path / "data" / "jobs"
    with make_client() as client:
        queued = upload(client, clip).json()
        assert client.delete(queued["links"]["job"]).status_code == 204
        assert not (jobs_dir / queued["id"]).exists()
        assert client.get(queued["links"]["job"]).status_code == 404
        assert client.delete(queued["links"]["job"]).status_code == 404

        running = upload(client, clip).json()
        client.app.state.store.claim("test-runner")
        r = client.delete(running["links"]["job"])
        assert r.status_code == 409 and "running" in r.json()["detail"]
        assert (jobs_dir / running["id"] / "input.mp4").is_file()
        client.app.state.store.finish(running["id"], "test-runner", "boom")
        assert client.delete(running["links"]["job"]).status_code == 204
        assert list(jobs_dir.iterdir()) == []


def test_a_new_data_folder_is_private(tmp_path, make_client):
    with make_client(tmp_path / "fresh"):
        modes = [
            stat.S_IMODE(p.stat().st_mode)
            for p in (tmp_path / "fresh", tmp_path / "fresh" / "jobs")
        ]
    assert modes == [0o700, 0o700]


def test_disk_quota_refuses_new_jobs_with_507(tmp_path, make_client, upload, clip):
    size = clip.stat().st_size
    with make_client(max_disk_bytes=int(size * 2.5)) as client:
        assert upload(client, clip).status_code == 202
        assert upload(client, clip).status_code == 202
        r = upload(client, clip)  # would take the folder over its quota
        assert r.status_code == 507 and "quota" in r.json()["detail"]
        assert len(client.get("/v1/jobs").json()["jobs"]) == 2
        client.delete(client.get("/v1/jobs").json()["jobs"][0]["links"]["job"])
        assert upload(client, clip).status_code == 202
