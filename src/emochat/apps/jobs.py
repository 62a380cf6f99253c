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

import json
import os
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from emochat.core.errors import EmochatError
from emochat.core.files import atomic_write_text, remove_stale_temps
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
    files = {
        "au.csv": output.au_csv,
        "report.html": output.html,
        "report.json": json.dumps(output.report, indent=2, ensure_ascii=False),
    }
    written = []
    for name, text in files.items():
        if text is not None:
            remove_stale_temps(out_dir / name)
            written.append(atomic_write_text(out_dir / name, text))
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
    ``analyzer`` stands in for :func:`analyze_clip` (tests).
    """
    src = video_src if video_src is not None else relative_video_src(Path(path), out_dir)
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
