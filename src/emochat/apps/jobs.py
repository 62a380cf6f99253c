"""One clip's job, the same for every front end (CLI analyze, batch, serve).

A job analyses a clip and writes report.json + report.html (+ au.csv when asked), each
atomically, or says why it failed in an error record. The two halves stand apart because
batch analyses in worker processes or Ray tasks and writes in the driver:
:func:`analyze_clip` takes and returns plain picklable values and writes nothing,
:func:`write_outputs` writes them; :func:`run_job` does both where one process does.
Each process keeps one :class:`~emochat.api.Analyzer` (:func:`process_analyzer`), so a
worker that analyses many clips builds the pipeline and loads its models once.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from emochat.core.errors import EmochatError
from emochat.core.files import atomic_write_json, atomic_write_text, remove_stale_temps
from emochat.core.settings import limit_native_threads
from emochat.options import AnalyzeOptions
from emochat.pipeline.contract import Hooks

if TYPE_CHECKING:
    from emochat.api import Analyzer


class RunProgress(Hooks):
    """``callback(stage, fraction of the whole run)`` from the runner's hooks, each stage
    an equal share: a bar or a job's progress moves at every stage's start and end, also
    through stages that report no progress of their own (voice, text, ...)."""

    def __init__(self, callback: Callable[[str, float], None]):
        self.callback = callback
        self.stages: list[str] = []

    def _report(self, name: str, fraction: float) -> None:
        self.callback(name, (self.stages.index(name) + fraction) / len(self.stages))

    def on_run_start(self, stages: Sequence[str]) -> None:
        self.stages = list(stages)

    def on_stage_start(self, name: str) -> None:
        self._report(name, 0.0)

    def on_progress(self, name: str, fraction: float) -> None:
        self._report(name, fraction)

    def on_stage_end(self, name: str, seconds: float, skipped_reason: str | None) -> None:
        self._report(name, 1.0)


PARTIAL_REPORT = "report.partial.json"
"""The report as it stood after the last checkpointed stage of a run that has not finished
(interrupted, killed, crashed); it goes once report.json is written."""
CHECKPOINT_EVERY_S = 60.0
"""A partial report is written after a stage only when this long has passed since the run
started or the last one was written: short clips never write one (no cost), long media
lose at most the running stage's work."""


class Checkpoint(Hooks):
    """Forwards every hook to ``inner`` and, after a stage, writes the report as it stands
    to ``out_dir``/:data:`PARTIAL_REPORT` (atomically: a reader never sees half a file),
    when :data:`CHECKPOINT_EVERY_S` has passed since the last write. The partial report
    has report.json's fields plus ``partial``: the stages done and those left."""

    def __init__(self, out_dir: Path, inner: Hooks | None = None, every_s: float | None = None):
        self.path = Path(out_dir) / PARTIAL_REPORT
        self.inner = inner or Hooks()
        self.every_s = CHECKPOINT_EVERY_S if every_s is None else every_s
        self.last = time.monotonic()

    def on_run_start(self, stages: Sequence[str]) -> None:
        self.last = time.monotonic()
        remove_stale_temps(self.path)
        self.path.unlink(missing_ok=True)  # an earlier attempt's, now out of date
        self.inner.on_run_start(stages)

    def on_stage_start(self, name: str) -> None:
        self.inner.on_stage_start(name)

    def on_stage_end(self, name: str, seconds: float, skipped_reason: str | None) -> None:
        self.inner.on_stage_end(name, seconds, skipped_reason)

    def on_progress(self, name: str, fraction: float) -> None:
        self.inner.on_progress(name, fraction)

    def on_artifact(self, kind: type, artifact: object) -> None:
        self.inner.on_artifact(kind, artifact)

    def on_checkpoint(self, report, done: Sequence[str], left: Sequence[str]) -> None:
        self.inner.on_checkpoint(report, done, left)
        if not left or time.monotonic() - self.last < self.every_s:
            return  # the run is over (report.json comes next), or the last one is recent
        partial = report.to_dict()
        partial["partial"] = {"stages_done": list(done), "stages_left": list(left)}
        try:
            atomic_write_json(self.path, partial)
        except OSError:
            pass  # a checkpoint is a convenience: a full disk must not stop the analysis
        self.last = time.monotonic()


@dataclass
class ClipOutput:
    """What analysing one clip produced, as its files will hold it."""

    report: dict[str, Any]
    html: str
    seconds: float
    au_csv: str | None = None
    """Per-frame AUs in OpenFace 2 format, when asked for and the media has video."""


def relative_video_src(media: Path, out_dir: Path) -> str:
    """The media as a URL relative to ``out_dir``'s report.html, so the page plays it in
    place (and both can move together)."""
    try:
        media = Path(media).resolve()
    except (OSError, RuntimeError):  # a symlink loop: the analysis reports it
        media = Path(os.path.abspath(media))
    try:
        rel = os.path.relpath(media, Path(out_dir).resolve())
    except ValueError:  # another drive (Windows)
        return media.as_uri()
    return quote(Path(rel).as_posix())


_ANALYZERS: dict[tuple[tuple[str, str], ...], Analyzer] = {}


def process_analyzer(options: AnalyzeOptions) -> Analyzer:
    """This process's Analyzer for the models ``options`` chooses: built for the first clip,
    reused for the next ones (a CLI run over many files, a batch or serve worker)."""
    from emochat.api import Analyzer

    key = tuple(sorted(options.models.items()))
    if key not in _ANALYZERS:
        _ANALYZERS[key] = Analyzer(options)
    return _ANALYZERS[key]


def analyze_clip(
    path: str | Path,
    options: AnalyzeOptions | Mapping[str, Any] | None = None,
    hooks: Hooks | None = None,
    video_src: str | None = None,
    media_name: str | None = None,
    *,
    au_csv: bool = False,
) -> ClipOutput:
    """Run the default pipeline on ``path``; return the report, its page and, with
    ``au_csv``, the AU table. ``options`` may be plain values
    (:meth:`AnalyzeOptions.from_mapping`).

    ``media_name`` replaces the media path in the report (a service does not show its own
    folders to clients).
    """
    from emochat.face.au import FaceAnalysis, openface_csv
    from emochat.report.html import render_html, segment_thumbnails

    t0 = time.perf_counter()
    if not isinstance(options, AnalyzeOptions):
        try:
            options = AnalyzeOptions.from_mapping(options)
        except ValueError as exc:  # a manifest row's or a form's value: the user's to fix
            raise EmochatError(path, str(exc)) from None
    ctx = process_analyzer(options).run(path, hooks, options=options)
    faces = ctx.find(FaceAnalysis)
    if media_name is not None:
        ctx.report.media["path"] = media_name
    table = None
    if au_csv:
        if faces is None:
            ctx.report.warn("export", "no_au_csv", "the media has no video, so no au.csv")
        else:
            table = openface_csv(faces)
    thumbnails = segment_thumbnails(ctx.report, ctx.path, faces, options.max_side)
    html = render_html(ctx.report, thumbnails=thumbnails, video_src=video_src)
    return ClipOutput(ctx.report.to_dict(), html, round(time.perf_counter() - t0, 3), table)


def write_outputs(out_dir: Path, output: ClipOutput) -> list[Path]:
    """au.csv (if any), report.html, then report.json, each written whole or not at all.

    A clip's folder has one writer at a time (its CLI run, job or batch item), so
    temporaries there are a killed attempt's leftovers: they go before the outputs are
    written again.
    """
    files = {"au.csv": output.au_csv, "report.html": output.html}
    written = []
    for name, text in files.items():
        if text is not None:
            remove_stale_temps(out_dir / name)
            written.append(atomic_write_text(out_dir / name, text))
    remove_stale_temps(out_dir / "report.json")
    # streamed to the file: no second copy of a long media's report as one string
    written.append(atomic_write_json(out_dir / "report.json", output.report))
    (out_dir / PARTIAL_REPORT).unlink(missing_ok=True)  # the whole report replaces it
    return written


def run_job(
    path: str | Path,
    out_dir: Path,
    options: AnalyzeOptions | Mapping[str, Any] | None = None,
    hooks: Hooks | None = None,
    *,
    media_name: str | None = None,
    video_src: str | None = None,
    au_csv: bool = False,
    analyzer: Callable[..., ClipOutput] | None = None,
) -> tuple[ClipOutput, list[Path]]:
    """Analyse ``path`` and write its outputs into ``out_dir``; the output and the files.

    The page's video is ``video_src`` if given, else the media relative to ``out_dir``.
    While it runs, a long media's report is checkpointed to ``out_dir``/
    :data:`PARTIAL_REPORT` after each stage (:class:`Checkpoint`). ``analyzer`` stands in for :func:`analyze_clip` (tests).
    """
    src = video_src if video_src is not None else relative_video_src(Path(path), out_dir)
    hooks = Checkpoint(out_dir, hooks)
    if analyzer is None:
        output = analyze_clip(path, options, hooks, src, media_name, au_csv=au_csv)
    else:
        output = analyzer(path, options, hooks, src, media_name)
    return output, write_outputs(out_dir, output)


def error_record(exc: BaseException) -> dict[str, str]:
    """Why a clip failed: ``error`` (one line for the user), ``kind`` and, for a bug rather
    than a problem with the input, ``traceback``. Call it inside the ``except`` block."""
    if isinstance(exc, EmochatError):
        return {"error": exc.problem, "kind": type(exc).__name__}
    return {
        "error": f"internal error: {type(exc).__name__}: {exc}",
        "kind": "internal",
        "traceback": traceback.format_exc(limit=6),
    }


def safe_analyze(
    path: str,
    options: Mapping[str, Any] | None = None,
    video_src: str | None = None,
) -> dict[str, Any]:
    """:func:`analyze_clip` that never raises, for worker processes:
    ``{"ok": True, "output": ClipOutput, "pid": ...}`` or ``{"ok": False, **error_record}``.
    """
    t0 = time.perf_counter()
    try:
        output = analyze_clip(path, options, None, video_src)
        return {"ok": True, "output": output, "pid": os.getpid()}
    except Exception as exc:  # a bug on one clip must not stop the other thousand
        return {"ok": False, **error_record(exc), "seconds": round(time.perf_counter() - t0, 3)}


def init_worker_process() -> None:
    """Pool initializer: one native thread per worker, and die with the parent (Linux)."""
    limit_native_threads()
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: no orphan keeps writing after a crash
    except (OSError, AttributeError):
        pass
