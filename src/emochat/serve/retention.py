"""Retention: finished jobs go, files and all, ``keep_hours`` after they finished.

A sweep runs when the server starts and then periodically; ``DELETE /v1/jobs/{id}``
removes one job at once. A job's row goes first (in one transaction that refuses a
running job), then its folder: a crash in between leaves a folder with no row, which
the next start removes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from emochat.serve.jobfiles import remove_job_dir
from emochat.serve.store import JobStore

log = logging.getLogger("emochat.serve")

MAX_SWEEP_INTERVAL_S = 300.0


def delete_job(store: JobStore, jobs_dir: Path, job_id: str) -> str | None:
    """Delete a job that is not running; the status it had (None: no such job; ``running``:
    left as it is)."""
    status = store.delete(job_id)
    if status is not None and status != "running":
        remove_job_dir(jobs_dir / job_id)
    return status


class Retention:
    """Deletes finished jobs older than ``keep_hours`` (0: keeps them forever)."""

    def __init__(
        self,
        store: JobStore,
        jobs_dir: Path,
        keep_hours: float,
        clock: Callable[[], float] = time.time,
    ):
        self.store = store
        self.jobs_dir = jobs_dir
        self.keep_s = keep_hours * 3600.0
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def interval_s(self) -> float:
        """Sweeps often enough that nothing outlives its time by more than a tenth of it."""
        return min(max(self.keep_s / 10, 1.0), MAX_SWEEP_INTERVAL_S)

    def sweep(self) -> int:
        """Delete the jobs that finished more than ``keep_hours`` ago; how many went."""
        if self.keep_s <= 0:
            return 0
        expired = self.store.finished_before(self.clock() - self.keep_s)
        for job_id in expired:
            delete_job(self.store, self.jobs_dir, job_id)
        if expired:
            log.info("retention: deleted %d finished job(s)", len(expired))
        return len(expired)

    def remove_orphans(self) -> int:
        """Delete job folders that have no job (an upload or a deletion cut short by a
        crash). Call it only at start, when no upload is in flight."""
        known = self.store.ids()
        orphans = [
            p for p in self.jobs_dir.iterdir() if p.name not in known and not p.name.startswith(".")
        ]
        for folder in orphans:
            remove_job_dir(folder)
        return len(orphans)

    def start(self) -> None:
        """Clean up now, then sweep in a background thread until :meth:`stop`."""
        self.remove_orphans()
        self.sweep()
        if self.keep_s > 0:
            self._thread = threading.Thread(
                target=self._loop, name="emochat-retention", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.sweep()
            except Exception:  # a locked database or a busy disk must not end the sweeps
                log.exception("retention sweep failed")
