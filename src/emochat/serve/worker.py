"""A bounded pool of worker processes that takes queued jobs from the store.

At most ``workers`` jobs run at once, each in its own process (spawned, so a crash
or a leak in one analysis never takes the server down). A dispatcher thread claims
queued jobs in order; the children report progress straight into SQLite and write
their outputs atomically; the parent marks jobs done or failed. A worker that dies
puts its job back in the queue (it fails after a few tries).
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from emochat.serve.jobfiles import RefusedFile, open_job_file
from emochat.serve.store import Job, JobStore

log = logging.getLogger("emochat.serve")

PROGRESS_EVERY_S = 0.5


def _resolve(dotted: str):
    module, _, name = dotted.partition(":")
    return getattr(importlib.import_module(module), name)


class ProgressWriter:
    """Records a job's progress: each new stage at once, updates within a stage at most
    every :data:`PROGRESS_EVERY_S` (so a stage that starts and ends between two writes
    still shows, and the job never looks stuck in the stage before)."""

    def __init__(
        self,
        store: JobStore,
        job_id: str,
        runner: str,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.store, self.job_id, self.runner, self.clock = store, job_id, runner, clock
        self._stage: str | None = None
        self._written_at = -float("inf")

    def __call__(self, stage: str, fraction: float) -> None:
        now = self.clock()
        if stage != self._stage or fraction >= 1.0 or now - self._written_at >= PROGRESS_EVERY_S:
            self._stage, self._written_at = stage, now
            self.store.set_progress(self.job_id, self.runner, stage, fraction)


def execute_job(
    db_path: str,
    job_id: str,
    runner: str,
    media_path: str,
    job_dir: str,
    options: dict[str, Any],
    analyzer: str | None = None,
    media_name: str | None = None,
) -> dict[str, Any]:
    """Runs in a worker process: analyse one job's media and write its outputs.

    The media is the job's own file in ``job_dir``, checked again here: a symlink put in
    its place is refused rather than analysed.
    """
    from emochat.apps.jobs import RunProgress, error_record, run_job

    media = Path(job_dir) / Path(media_path).name
    try:
        open_job_file(Path(job_dir), media.name)[0].close()
    except (OSError, RefusedFile) as exc:
        return {"ok": False, "error": f"the job's media cannot be read: {exc}"}
    store = JobStore(db_path)
    try:
        out, _ = run_job(
            media,
            Path(job_dir),
            options,
            RunProgress(ProgressWriter(store, job_id, runner)),
            media_name=media_name,
            video_src="media",  # the job's media endpoint, beside report.html
            analyzer=_resolve(analyzer) if analyzer else None,
        )
    except Exception as exc:
        failure = error_record(exc)
        if "traceback" in failure:
            log.error("job %s failed:\n%s", job_id, failure["traceback"])
        return {"ok": False, "error": failure["error"]}
    finally:
        store.close()
    return {"ok": True, "seconds": out.seconds}


class WorkerPool:
    """Runs queued jobs, ``workers`` at a time, until :meth:`stop`."""

    def __init__(
        self, store: JobStore, workers: int = 1, analyzer: str | None = None, poll_s: float = 1.0
    ):
        self.store = store
        self.workers = max(1, int(workers))
        self.analyzer = analyzer
        self.poll_s = poll_s
        self.runner = uuid.uuid4().hex
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._inflight: dict[str, Future] = {}
        self._broken = False
        self._executor: ProcessPoolExecutor | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- control
    def start(self) -> dict[str, int]:
        recovered = self.store.recover()
        if recovered["requeued"] or recovered["failed"]:
            log.info(
                "resumed after restart: %(requeued)d job(s) requeued, %(failed)d failed", recovered
            )
        self._executor = self._new_executor()
        self._thread = threading.Thread(target=self._loop, name="emochat-dispatch", daemon=True)
        self._thread.start()
        return recovered

    def notify(self) -> None:
        """A job was queued: look now rather than at the next poll."""
        self._wake.set()

    @property
    def running(self) -> int:
        with self._lock:
            return len(self._inflight)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop taking jobs; running ones go back to the queue for the next start."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            held = list(self._inflight)
        executor = self._executor
        if executor is not None:
            if held:  # don't wait for long analyses: they are requeued below
                for proc in list((getattr(executor, "_processes", None) or {}).values()):
                    try:
                        proc.terminate()
                    except Exception:  # already gone
                        pass
            executor.shutdown(wait=True, cancel_futures=True)
        for job_id in held:
            self.store.requeue(job_id, self.runner, "server stopped")

    # ---------------------------------------------------------------- internals
    def _new_executor(self) -> ProcessPoolExecutor:
        from emochat.apps.jobs import init_worker_process

        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=get_context("spawn"),
            initializer=init_worker_process,
        )

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                if self._broken:
                    self._rebuild()
                self._fill()
            except Exception:  # keep dispatching whatever happens to one job
                log.exception("dispatcher error")
            self._wake.wait(self.poll_s)
            self._wake.clear()

    def _rebuild(self) -> None:
        with self._lock:
            if self._inflight:
                return  # wait until every future of the broken pool has reported
            old, self._executor = self._executor, self._new_executor()
            self._broken = False
        if old is not None:
            old.shutdown(wait=False, cancel_futures=True)

    def _fill(self) -> None:
        while not self._stopping.is_set() and not self._broken:
            with self._lock:
                if len(self._inflight) >= self.workers:
                    return
            job = self.store.claim(self.runner)
            if job is None:
                return
            try:
                fut = self._submit(job)
            except (BrokenProcessPool, RuntimeError) as exc:
                self.store.requeue(job.id, self.runner, f"worker pool unavailable: {exc}")
                self._broken = True
                return
            with self._lock:
                self._inflight[job.id] = fut
            fut.add_done_callback(lambda f, jid=job.id: self._done(jid, f))

    def _submit(self, job: Job) -> Future:
        assert self._executor is not None
        return self._executor.submit(
            execute_job,
            str(self.store.path),
            job.id,
            self.runner,
            job.media_path,
            job.job_dir,
            job.options,
            self.analyzer,
            job.filename,
        )

    def _done(self, job_id: str, fut: Future) -> None:
        try:
            result = fut.result()
            self.store.finish(job_id, self.runner, None if result.get("ok") else result["error"])
        except CancelledError:
            pass  # stopping: stop() requeues it
        except BrokenProcessPool:
            if not self._stopping.is_set():
                state = self.store.requeue(job_id, self.runner, "the worker process died")
                log.warning("job %s: worker process died; job %s", job_id, state)
                self._broken = True
        except Exception as exc:
            self.store.finish(job_id, self.runner, f"internal error: {type(exc).__name__}: {exc}")
        finally:
            with self._lock:
                self._inflight.pop(job_id, None)
            self._wake.set()
