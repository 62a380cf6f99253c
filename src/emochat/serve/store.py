"""Jobs in SQLite: the service's only state, so a restart loses nothing.

A job is ``queued`` -> ``running`` -> ``done`` | ``failed``. Each claim records a
``runner`` token (one per server start); progress and completion are accepted only
from the current runner, so a worker left over from a crashed server cannot
overwrite a job the new server has taken again. On start, :meth:`JobStore.recover`
puts jobs that were running back in the queue (or fails them after too many tries).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STATUSES = ("queued", "running", "done", "failed")
MAX_ATTEMPTS = 3

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    source TEXT NOT NULL,
    filename TEXT,
    media_path TEXT NOT NULL,
    job_dir TEXT NOT NULL,
    options TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    stage TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    runner TEXT,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status, created_at);
"""


@dataclass
class Job:
    id: str
    status: str
    source: str
    filename: str | None
    media_path: str
    job_dir: str
    options: dict[str, Any]
    progress: float
    stage: str | None
    error: str | None
    attempts: int
    runner: str | None
    created_at: float
    started_at: float | None
    finished_at: float | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Job:
        d = dict(row)
        d["options"] = json.loads(d["options"] or "{}")
        return cls(**d)


class JobStore:
    """Thread-safe access to the jobs database (one connection per thread; WAL mode)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._conn().executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    class _Tx:
        def __init__(self, conn: sqlite3.Connection):
            self.conn = conn

        def __enter__(self) -> sqlite3.Connection:
            self.conn.execute("BEGIN IMMEDIATE")
            return self.conn

        def __exit__(self, exc_type, exc, tb) -> None:
            self.conn.execute("ROLLBACK" if exc_type else "COMMIT")

    def _tx(self) -> JobStore._Tx:
        return self._Tx(self._conn())

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # ------------------------------------------------------------------ writes
    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex

    def add(
        self,
        job_id: str,
        *,
        source: str,
        media_path: str,
        job_dir: str,
        options: dict[str, Any],
        filename: str | None = None,
    ) -> Job:
        with self._tx() as db:
            db.execute(
                "INSERT INTO jobs (id, status, source, filename, media_path, job_dir, options,"
                " created_at) VALUES (?, 'queued', ?, ?, ?, ?, ?, ?)",
                (job_id, source, filename, media_path, job_dir, json.dumps(options), time.time()),
            )
        job = self.get(job_id)
        assert job is not None
        return job

    def claim(self, runner: str) -> Job | None:
        """The oldest queued job, now running under ``runner``; None if the queue is empty."""
        with self._tx() as db:
            row = db.execute(
                "SELECT id FROM jobs WHERE status = 'queued' ORDER BY created_at, rowid LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE jobs SET status = 'running', runner = ?, attempts = attempts + 1,"
                " started_at = ?, progress = 0, stage = NULL WHERE id = ?",
                (runner, time.time(), row["id"]),
            )
        return self.get(row["id"])

    def set_progress(self, job_id: str, runner: str, stage: str, fraction: float) -> bool:
        with self._tx() as db:
            cur = db.execute(
                "UPDATE jobs SET stage = ?, progress = ? WHERE id = ? AND status = 'running'"
                " AND runner = ?",
                (stage, round(min(max(fraction, 0.0), 1.0), 4), job_id, runner),
            )
        return cur.rowcount == 1

    def finish(self, job_id: str, runner: str, error: str | None = None) -> bool:
        """Mark done (``error`` None) or failed; only the runner that holds the job may."""
        with self._tx() as db:
            cur = db.execute(
                "UPDATE jobs SET status = ?, error = ?, progress = CASE WHEN ? IS NULL THEN 1"
                " ELSE progress END, stage = CASE WHEN ? IS NULL THEN 'done' ELSE stage END,"
                " finished_at = ? WHERE id = ? AND status = 'running' AND runner = ?",
                ("failed" if error else "done", error, error, error, time.time(), job_id, runner),
            )
        return cur.rowcount == 1

    def requeue(self, job_id: str, runner: str, reason: str) -> str | None:
        """Put a running job back in the queue (worker died); fail it after MAX_ATTEMPTS."""
        with self._tx() as db:
            row = db.execute(
                "SELECT attempts FROM jobs WHERE id = ? AND status = 'running' AND runner = ?",
                (job_id, runner),
            ).fetchone()
            if row is None:
                return None
            if row["attempts"] >= MAX_ATTEMPTS:
                db.execute(
                    "UPDATE jobs SET status = 'failed', error = ?, finished_at = ? WHERE id = ?",
                    (f"gave up after {row['attempts']} attempts: {reason}", time.time(), job_id),
                )
                return "failed"
            db.execute(
                "UPDATE jobs SET status = 'queued', runner = NULL, progress = 0, stage = NULL"
                " WHERE id = ?",
                (job_id,),
            )
            return "queued"

    def delete(self, job_id: str) -> str | None:
        """Remove a job's row unless it is running; the status it had (``running``: kept),
        None if there is no such job. Its files are the caller's to delete afterwards."""
        with self._tx() as db:
            row = db.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return None
            if row["status"] != "running":
                db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
            return row["status"]

    def recover(self) -> dict[str, int]:
        """At start-up: running jobs of a previous server go back to the queue."""
        with self._tx() as db:
            failed = db.execute(
                "UPDATE jobs SET status = 'failed', finished_at = ?, error = ? WHERE"
                " status = 'running' AND attempts >= ?",
                (time.time(), f"interrupted {MAX_ATTEMPTS} times (server restarts)", MAX_ATTEMPTS),
            ).rowcount
            requeued = db.execute(
                "UPDATE jobs SET status = 'queued', runner = NULL, progress = 0, stage = NULL"
                " WHERE status = 'running'"
            ).rowcount
        return {"requeued": requeued, "failed": failed}

    # ------------------------------------------------------------------- reads
    def get(self, job_id: str) -> Job | None:
        row = self._conn().execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return Job.from_row(row) if row else None

    def list(self, status: str | None = None, limit: int = 100) -> list[Job]:
        where, args = ("WHERE status = ?", (status, limit)) if status else ("", (limit,))
        sql = f"SELECT * FROM jobs {where} ORDER BY created_at DESC, rowid DESC LIMIT ?"
        rows = self._conn().execute(sql, args).fetchall()
        return [Job.from_row(r) for r in rows]

    def finished_before(self, cutoff: float) -> list[str]:
        """Ids of the jobs that finished (done or failed) before ``cutoff`` (epoch s)."""
        rows = self._conn().execute(
            "SELECT id FROM jobs WHERE status IN ('done', 'failed') AND finished_at < ?",
            (cutoff,),
        )
        return [r["id"] for r in rows]

    def ids(self) -> set[str]:
        return {r["id"] for r in self._conn().execute("SELECT id FROM jobs")}

    def counts(self) -> dict[str, int]:
        rows = self._conn().execute("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
        out = dict.fromkeys(STATUSES, 0)
        out.update({r["status"]: r["n"] for r in rows})
        return out
