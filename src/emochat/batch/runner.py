"""Run the pipeline over many clips, resumably.

Layout of an output folder::

    OUT/clips/<id>/report.json, report.html   one pair per clip, each written atomically
    OUT/state/<id>.parquet                    the clip's summary rows (atomic)
    OUT/state/<id>.json                       marker, written last: done | failed (+ reason),
                                              with the analysis options that produced it
    OUT/summary.parquet                       one row per segment of every finished clip
    OUT/failures.json                         the clips that failed, with their reasons
    OUT/batch.json                            what the last run saw and did

A clip counts as finished only once its marker says so, and the marker is the last
file written, so killing the process at any instant (kill -9 included) loses at most
the clips in flight; the next run skips finished clips and redoes the rest. Every
output is replaced atomically and the summary is rebuilt from per-clip parts, so a
clip redone after a crash still appears exactly once.

A rerun with other analysis options does not mix results: finished clips whose markers
hold other options stop it with an error (before anything is written), unless
``rerun_changed`` asks to analyse them again with the new options. So the options in
batch.json are the ones every finished clip was analysed with.

Engines: ``local`` (a process pool on this machine) and ``ray`` (Ray tasks: a local
Ray instance by default, or a cluster via ``ray_address``; then the inputs and OUT
must be on storage every node sees, and results travel back to the driver, which is
the only writer).
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from emochat.apps.jobs import (
    ClipOutput,
    init_worker_process,
    relative_video_src,
    safe_analyze,
    write_outputs,
)
from emochat.batch.summary import combine_parts, segment_rows, write_frames_table, write_part
from emochat.core.errors import DataError
from emochat.core.files import MEDIA_SUFFIXES, atomic_write_text, input_file_problem
from emochat.core.settings import limit_native_threads

log = logging.getLogger(__name__)

MANIFEST_SUFFIXES = frozenset({".txt", ".csv", ".jsonl", ".list"})
MAX_CRASHES_PER_CLIP = 2


@dataclass(frozen=True)
class Clip:
    id: str
    path: Path
    transcript: Path | None = None
    language: str | None = None


@dataclass(frozen=True)
class SkippedInput:
    """Something a folder scan found but cannot analyse, and why (a FIFO, a symlink loop,
    an unreadable file, a hidden file or folder): recorded, never silently dropped."""

    input: str
    reason: str


@dataclass(frozen=True)
class Inputs:
    clips: list[Clip]
    skipped: list[SkippedInput] = field(default_factory=list)


@dataclass
class BatchResult:
    out_dir: Path
    total: int
    done: int = 0
    failed: int = 0
    skipped: int = 0
    processed: int = 0
    rows: int = 0
    seconds: float = 0.0
    failures: list[dict[str, Any]] = field(default_factory=list)
    skipped_inputs: int = 0
    """Things in the folder that are not analysable inputs (in failures.json, kind
    ``skipped``); they do not make the batch fail."""

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["out_dir"] = str(self.out_dir)
        return d


# ------------------------------------------------------------------------ inputs


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "clip"
    return slug[:120]


def _unique_ids(paths: list[tuple[str, Path]]) -> list[tuple[str, Path]]:
    seen: dict[str, int] = {}
    for name, _ in paths:
        seen[name] = seen.get(name, 0) + 1
    out = []
    for name, path in paths:
        if seen[name] > 1:
            name = f"{name}-{hashlib.sha1(str(path).encode()).hexdigest()[:8]}"
        out.append((name, path))
    return out


def _read_manifest(path: Path) -> list[Clip]:
    base = path.parent
    entries: list[tuple[int, dict[str, Any]]] = []  # (line, row)
    text = path.read_text("utf-8-sig")
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        if not reader.fieldnames or "path" not in reader.fieldnames:
            raise DataError(path, "a CSV manifest needs a 'path' column")
        entries = [(reader.line_num, row) for row in reader if (row.get("path") or "").strip()]
    elif path.suffix.lower() == ".jsonl":
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(path, f"line {n} is not JSON: {exc.msg}") from None
            if not isinstance(row, dict) or not row.get("path"):
                raise DataError(path, f"line {n} has no 'path'")
            entries.append((n, row))
    else:
        entries = [
            (n, {"path": line.strip()})
            for n, line in enumerate(text.splitlines(), 1)
            if line.strip() and not line.lstrip().startswith("#")
        ]

    def resolve(p: str | None) -> Path | None:
        if not p:
            return None
        q = Path(str(p).strip()).expanduser()
        return q if q.is_absolute() else base / q

    named = []
    for _, row in entries:
        media = resolve(row["path"])
        name = _slug(str(row.get("id") or "").strip()) if row.get("id") else _slug(media.name)
        named.append((name, media, row))
    explicit = [n for n, _, r in named if r.get("id")]
    if len(explicit) != len(set(explicit)):
        raise DataError(path, "manifest ids must be unique")
    _refuse_duplicate_rows(
        path,
        [(line, media, row) for (line, _), (_, media, row) in zip(entries, named, strict=True)],
    )
    ids = _unique_ids([(n, m) for n, m, _ in named])
    return [
        Clip(cid, media, resolve(row.get("transcript")), (row.get("language") or None))
        for (cid, media), (_, _, row) in zip(ids, named, strict=True)
    ]


def _same_file_key(path: Path) -> str:
    """The file a path ends at (symlinks and ``..`` followed where they can be)."""
    try:
        return str(path.resolve())
    except (OSError, RuntimeError):  # a symlink loop: the analysis will say so
        return os.path.abspath(path)


def _refuse_duplicate_rows(manifest: Path, rows: list[tuple[int, Path, dict]]) -> None:
    """Rows naming the same media file without ids of their own are an error.

    They would share one output folder: one result lost, the other counted twice in
    summary.parquet. Analysing the same clip twice with the same options gives the same
    report, so a duplicate is a mistake in the list; rows that should differ (another
    transcript or language) say so with distinct ``id``s.
    """
    lines: dict[str, list[int]] = {}
    for line, media, row in rows:
        if not row.get("id"):
            lines.setdefault(_same_file_key(media), []).append(line)
    repeated = {key: found for key, found in lines.items() if len(found) > 1}
    if repeated:
        listed = "; ".join(
            f"lines {', '.join(map(str, found))}: {key}"
            for key, found in list(repeated.items())[:5]
        )
        more = f" and {len(repeated) - 5} more" if len(repeated) > 5 else ""
        raise DataError(
            manifest,
            f"{len(repeated)} media file(s) listed more than once ({listed}{more}); list each "
            "once, or give the rows distinct 'id's to analyse them separately",
        )


def _scan_folder(source: Path) -> Inputs:
    """Media files under ``source`` (recursively, sorted) and what could not be taken.

    Files with other suffixes (notes, subtitles) are not inputs and are left alone;
    anything else odd is recorded with its reason: a FIFO, socket or device, a symlink
    loop or broken link, an unreadable file or folder, a hidden file or folder (not
    scanned: ``.git``, macOS ``._x.mp4`` files). Symlinked folders are not followed (a
    link to ``..`` would scan forever).
    """
    found: list[Path] = []
    skipped: list[SkippedInput] = []

    def unreadable(exc: OSError) -> None:
        skipped.append(SkippedInput(str(exc.filename), f"folder not readable: {exc.strerror}"))

    for folder, dirs, files in os.walk(source, onerror=unreadable):
        here = Path(folder)
        for name in sorted(d for d in dirs if d.startswith(".")):
            skipped.append(SkippedInput(str(here / name), "hidden folder: not scanned"))
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            path = here / name
            if path.is_dir():  # a symlink to a folder
                continue
            problem = input_file_problem(path)
            if problem is None and path.suffix.lower() not in MEDIA_SUFFIXES:
                continue
            if problem is None and name.startswith("."):
                problem = "hidden file"
            if problem is None:
                found.append(path)
            else:
                skipped.append(SkippedInput(str(path), problem))
    found.sort()
    named = [(_slug(str(p.relative_to(source)).replace(os.sep, "__")), p) for p in found]
    clips = [Clip(cid, p) for cid, p in _unique_ids(named)]
    return Inputs(clips, sorted(skipped, key=lambda s: s.input))


def discover(source: str | Path) -> Inputs:
    """The clips of a folder (media files, recursively, sorted) or of a manifest file,
    and the folder's entries that cannot be clips (:func:`_scan_folder`).

    Manifests: ``.txt``/``.list`` (one path per line, ``#`` comments), ``.csv`` with a
    ``path`` column (optional ``id``, ``transcript``, ``language``) or ``.jsonl`` with
    the same keys. Relative paths are taken from the manifest's folder. A media file
    listed twice without distinct ids is an error (:func:`_refuse_duplicate_rows`).
    """
    source = Path(source)
    if source.is_dir():
        return _scan_folder(source)
    if source.is_file():
        if source.suffix.lower() not in MANIFEST_SUFFIXES:
            raise DataError(source, "not a folder or a manifest (.txt, .csv, .jsonl)")
        return Inputs(_read_manifest(source))
    raise DataError(source, input_file_problem(source) or "no such folder or manifest")


# ------------------------------------------------------------------------- state


class OutputDir:
    """The files of one batch output folder (see the module docstring)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.clips = self.root / "clips"
        self.state = self.root / "state"

    def marker(self, clip_id: str) -> Path:
        return self.state / f"{clip_id}.json"

    def part(self, clip_id: str) -> Path:
        return self.state / f"{clip_id}.parquet"

    def remove_stale_temp_files(self) -> int:
        """Temp files of atomic writes cut short by a crash (never read: just clutter)."""
        stale = [
            *self.root.glob(".*.tmp"),
            *self.state.glob(".*.tmp"),
            *self.clips.glob("*/.*.tmp"),
        ]
        for p in stale:
            p.unlink(missing_ok=True)
        return len(stale)

    def read_marker(self, clip_id: str) -> dict[str, Any] | None:
        try:
            return json.loads(self.marker(clip_id).read_text("utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def is_finished(self, clip_id: str, retry_failed: bool) -> bool:
        m = self.read_marker(clip_id)
        if m is None:
            return False
        if m.get("status") == "done":
            return self.part(clip_id).exists() and (self.clips / clip_id / "report.json").exists()
        return m.get("status") == "failed" and not retry_failed

    def recorded_options(self, clip_id: str) -> dict[str, Any] | None:
        """The analysis options the clip's marker says it was analysed with (None: unknown)."""
        return (self.read_marker(clip_id) or {}).get("options")

    def record_done(
        self, clip: Clip, output: ClipOutput, options: Mapping[str, Any] | None = None
    ) -> int:
        out = self.clips / clip.id
        write_outputs(out, output)
        write_frames_table(out / "frames.parquet", output.report)
        rows = segment_rows(clip.id, str(clip.path), output.report)
        write_part(rows, self.part(clip.id))
        self._write_marker(
            clip,
            {
                "status": "done",
                "seconds": output.seconds,
                "n_segments": len(rows),
                "options": options,
            },
        )
        return len(rows)

    def record_failed(
        self, clip: Clip, reason: str, kind: str = "", options: Mapping[str, Any] | None = None
    ) -> None:
        self.part(clip.id).unlink(missing_ok=True)
        self._write_marker(
            clip, {"status": "failed", "error": reason, "kind": kind, "options": options}
        )

    def _write_marker(self, clip: Clip, fields: Mapping[str, Any]) -> None:
        record = {
            "id": clip.id,
            "input": str(clip.path),
            **fields,
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        atomic_write_text(self.marker(clip.id), json.dumps(record, ensure_ascii=False))


# ----------------------------------------------------------------------- engines

Task = tuple[Clip, dict[str, Any], str]
"""(clip, analysis options, video_src) handed to a worker."""


def _task_args(task: Task) -> tuple[str, dict[str, Any], str]:
    clip, options, video_src = task
    opts = dict(options)
    if clip.transcript is not None:
        opts["transcript"] = str(clip.transcript)
    if clip.language:
        opts["language"] = clip.language
    return str(clip.path), opts, video_src


def _run_local(tasks: list[Task], workers: int) -> Iterator[tuple[Clip, dict[str, Any]]]:
    """A spawn-based process pool; a crashed worker costs only the clips it held."""
    pending = list(reversed(tasks))
    crashes: dict[str, int] = {}
    while pending:
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=get_context("spawn"), initializer=init_worker_process
        ) as pool:
            inflight = {}
            broken = False
            while (pending or inflight) and not broken:
                while pending and len(inflight) < workers * 2:
                    task = pending.pop()
                    inflight[pool.submit(safe_analyze, *_task_args(task))] = task
                finished, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for fut in finished:
                    task = inflight.pop(fut)
                    try:
                        yield task[0], fut.result()
                    except BrokenProcessPool:
                        broken = True
                        crashes[task[0].id] = crashes.get(task[0].id, 0) + 1
                        if crashes[task[0].id] >= MAX_CRASHES_PER_CLIP:
                            yield (
                                task[0],
                                {
                                    "ok": False,
                                    "kind": "crash",
                                    "error": "the worker process died while analysing it",
                                },
                            )
                        else:
                            pending.append(task)
            if broken:  # the other in-flight clips are lost with the pool: redo them
                for fut, task in inflight.items():
                    if fut.done() and not fut.exception():
                        yield task[0], fut.result()
                    else:
                        pending.append(task)


def _run_ray(
    tasks: list[Task], workers: int, address: str | None
) -> Iterator[tuple[Clip, dict[str, Any]]]:
    try:
        import ray
    except ImportError:
        raise DataError(None, "--engine ray needs Ray: pip install 'emochat[ray]'") from None
    started = not ray.is_initialized()
    if started:
        kwargs: dict[str, Any] = {
            "include_dashboard": False,
            "log_to_driver": False,
            "configure_logging": False,
        }
        if address:
            kwargs["address"] = address
        else:
            kwargs["num_cpus"] = workers
            kwargs["object_store_memory"] = 128 * 1024 * 1024
        ray.init(**kwargs)
    try:
        remote = ray.remote(num_cpus=1, max_retries=MAX_CRASHES_PER_CLIP - 1)(_ray_task)
        pending = list(reversed(tasks))
        inflight: dict[Any, Task] = {}
        while pending or inflight:
            while pending and len(inflight) < workers * 2:
                task = pending.pop()
                inflight[remote.remote(*_task_args(task))] = task
            ready, _ = ray.wait(list(inflight), num_returns=1)
            for ref in ready:
                task = inflight.pop(ref)
                try:
                    result = ray.get(ref)
                except Exception as exc:  # the task's worker died (retries exhausted)
                    result = {
                        "ok": False,
                        "kind": "crash",
                        "error": f"the Ray worker died while analysing it: {type(exc).__name__}",
                    }
                yield task[0], result
    finally:
        if started:
            ray.shutdown()


def _ray_task(path: str, options: dict[str, Any], video_src: str) -> dict[str, Any]:
    limit_native_threads()
    return safe_analyze(path, options, video_src)


# ------------------------------------------------------------------------- driver


def run_batch(
    source: str | Path,
    out_dir: str | Path,
    *,
    workers: int = 1,
    engine: str = "local",
    options: Mapping[str, Any] | None = None,
    retry_failed: bool = False,
    rerun_changed: bool = False,
    ray_address: str | None = None,
    on_clip: Callable[[Clip, dict[str, Any], int, int], None] | None = None,
) -> BatchResult:
    """Analyse every clip of ``source`` not yet finished in ``out_dir``; rebuild the summary.

    A clip finished with other ``options`` raises :class:`DataError` (nothing is written),
    or with ``rerun_changed`` is analysed again. ``on_clip(clip, record, n_finished,
    n_todo)`` is called as each clip finishes.
    """
    if engine not in ("local", "ray"):
        raise DataError(None, f"unknown engine {engine!r} (local or ray)")
    workers = max(1, int(workers))
    t0 = time.perf_counter()
    inputs = discover(source)
    out = OutputDir(Path(out_dir))
    out.state.mkdir(parents=True, exist_ok=True)
    with _exclusive(out.root / ".lock"):
        out.remove_stale_temp_files()
        todo = _todo(inputs.clips, out, _plain(options), retry_failed, rerun_changed)
        return _run(inputs, todo, out, source, workers, engine, options, ray_address, on_clip, t0)


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """One batch per output folder at a time (the lock dies with the process, even kill -9)."""
    import fcntl

    with open(lock_path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DataError(lock_path.parent, "another batch is writing to this folder") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _plain(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The options as JSON has them (how markers and batch.json record them)."""
    return json.loads(json.dumps(dict(options or {}), default=str))


def _todo(clips, out, options, retry_failed, rerun_changed) -> list[Clip]:
    """The clips to analyse: unfinished ones, and with ``rerun_changed`` those finished
    with other options; without it such clips are an error (never mixed results)."""
    finished = [c for c in clips if out.is_finished(c.id, retry_failed)]
    changed = {c.id for c in finished if out.recorded_options(c.id) != options}
    if changed and not rerun_changed:
        first = next(c.id for c in finished if c.id in changed)
        raise DataError(
            out.root,
            f"{len(changed)} finished clip(s) were analysed with other options "
            f"({_options_diff(out.recorded_options(first), options)}); use a new output "
            "folder, or --rerun-changed to analyse them again with these options",
        )
    done = {c.id for c in finished} - changed
    return [c for c in clips if c.id not in done]


def _options_diff(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> str:
    """'fps 2.0 -> 5.0' for the options that differ (markers from before options were kept
    have none)."""
    if old is None:
        return "their options were not recorded"
    keys = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    return ", ".join(f"{k} {old.get(k)} -> {new.get(k)}" for k in keys)


def _run(inputs, todo, out, source, workers, engine, options, ray_address, on_clip, t0):
    clips = inputs.clips
    result = BatchResult(out.root, total=len(clips), skipped=len(clips) - len(todo))
    recorded = _plain(options)
    tasks: list[Task] = [
        (c, dict(options or {}), relative_video_src(c.path, out.clips / c.id)) for c in todo
    ]
    runs = _run_ray(tasks, workers, ray_address) if engine == "ray" else _run_local(tasks, workers)
    if tasks:
        for n, (clip, record) in enumerate(runs, 1):
            if record.get("ok"):
                out.record_done(clip, record["output"], recorded)
            else:
                out.record_failed(
                    clip, record.get("error", "unknown error"), record.get("kind", ""), recorded
                )
                if record.get("traceback"):
                    log.warning("%s failed:\n%s", clip.path, record["traceback"])
            result.processed += 1
            if on_clip is not None:
                on_clip(clip, record, n, len(tasks))
    _finish(out, inputs, result)
    result.seconds = round(time.perf_counter() - t0, 3)
    atomic_write_text(
        out.root / "batch.json",
        json.dumps(
            {
                **result.to_dict(),
                "engine": engine,
                "workers": workers,
                "source": str(source),
                "options": recorded,
                "clips": [c.id for c in clips],
            },
            indent=2,
        ),
    )
    return result


def _finish(out: OutputDir, inputs: Inputs, result: BatchResult) -> None:
    parts = []
    for clip in inputs.clips:
        marker = out.read_marker(clip.id) or {}
        if marker.get("status") == "done" and out.part(clip.id).exists():
            parts.append(out.part(clip.id))
            result.done += 1
        elif marker.get("status") == "failed":
            result.failed += 1
            result.failures.append(
                {
                    "id": clip.id,
                    "input": str(clip.path),
                    "error": marker.get("error"),
                    "kind": marker.get("kind"),
                }
            )
    result.skipped_inputs = len(inputs.skipped)
    result.failures += [
        {"id": None, "input": s.input, "error": s.reason, "kind": "skipped"} for s in inputs.skipped
    ]
    result.rows = combine_parts(parts, out.root / "summary.parquet")
    atomic_write_text(out.root / "failures.json", json.dumps(result.failures, indent=2))
