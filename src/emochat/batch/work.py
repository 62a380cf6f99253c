"""One clip's analysis as a pure function (report dict + html), shared by batch and serve.

Runs in worker processes (local pool, Ray tasks, the service's pool): it takes and
returns plain picklable values, writes nothing, and turns user-facing problems into
an error record instead of an exception so a batch records why a clip failed.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emochat.core.settings import limit_native_threads
from emochat.fsutil import atomic_write_text, remove_stale_temps

ProgressFn = Callable[[str, float], None]


@dataclass
class ClipOutput:
    """What analysing one clip produced."""

    report: dict[str, Any]
    html: str
    seconds: float


def analyze_clip(
    path: str | Path,
    options: Mapping[str, Any] | None = None,
    progress: ProgressFn | None = None,
    video_src: str | None = None,
    media_name: str | None = None,
) -> ClipOutput:
    """Run the default pipeline on ``path``; return the report and its html.

    ``media_name`` replaces the media path in the report (a service does not show
    its own folders to clients).
    """
    from emochat.api import run_analysis
    from emochat.options import AnalyzeOptions
    from emochat.report.html import render_context_html

    t0 = time.perf_counter()
    ctx = run_analysis(path, options=AnalyzeOptions.from_mapping(options), progress=progress)
    if media_name is not None:
        ctx.report.media["path"] = media_name
    html = render_context_html(ctx, video_src=video_src)
    return ClipOutput(ctx.report.to_dict(), html, round(time.perf_counter() - t0, 3))


def safe_analyze(
    path: str,
    options: Mapping[str, Any] | None = None,
    video_src: str | None = None,
    analyzer: Callable[..., ClipOutput] | None = None,
) -> dict[str, Any]:
    """``analyze_clip`` that never raises: ``{"ok": True, "output": ClipOutput}`` or the reason."""
    from emochat.errors import EmochatError

    t0 = time.perf_counter()
    try:
        output = (analyzer or analyze_clip)(path, options, None, video_src)
        return {"ok": True, "output": output, "pid": os.getpid()}
    except EmochatError as exc:
        return {
            "ok": False,
            "error": exc.problem,
            "kind": type(exc).__name__,
            "seconds": round(time.perf_counter() - t0, 3),
        }
    except Exception as exc:  # a bug on one clip must not stop the other thousand
        tb = traceback.format_exc(limit=6)
        return {
            "ok": False,
            "error": f"internal error: {type(exc).__name__}: {exc}",
            "kind": "internal",
            "traceback": tb,
            "seconds": round(time.perf_counter() - t0, 3),
        }


def write_clip_outputs(out_dir: Path, output: ClipOutput) -> list[Path]:
    """report.json and report.html, each written whole or not at all (html first).

    A clip's folder has one writer at a time (its job or batch item), so temporaries there
    are a killed attempt's leftovers: they go before the outputs are written again.
    """
    for name in ("report.html", "report.json"):
        remove_stale_temps(out_dir / name)
    html = atomic_write_text(out_dir / "report.html", output.html)
    js = atomic_write_text(
        out_dir / "report.json", json.dumps(output.report, indent=2, ensure_ascii=False)
    )
    return [html, js]


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
