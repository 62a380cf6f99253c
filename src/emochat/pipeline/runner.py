"""The runner: stages run in order over one media file, each against a time limit.

Apart from the contract (:mod:`emochat.pipeline.contract`) so that stages never import
it, and from the list of stages (:mod:`emochat.api`) so that it runs any stages given.

A stage that raises :class:`StageSkipped` becomes a report warning and the others go
on. A media file that stops decoding part-way keeps what was decoded, with a warning.

Time limits: each stage runs against a deadline (:func:`stage_time_limit`, generous
and scaled by the media's duration). Python threads cannot be killed, so long
loops call :meth:`AnalysisContext.check_deadline`, which raises
:class:`StageTimeout` once the stage is over its limit; the pipeline turns that into
a ``timeout`` warning, drops the stage's results and goes on. A stage that overran
without checking keeps its results, with the same warning. The CLI adds a watchdog
for the whole run (:mod:`emochat.cli.watchdog`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from emochat._version import __version__
from emochat.core.errors import MediaError
from emochat.ingest import probe
from emochat.options import AnalyzeOptions
from emochat.pipeline.contract import (
    AnalysisContext,
    ProgressFn,
    Stage,
    StageSkipped,
    StageTimeout,
)
from emochat.report.model import Report

STAGE_LIMIT_BASE_S = 300.0
STAGE_LIMIT_PER_MEDIA_S = 6.0
"""Default stage limit: 5 min plus 6 s per second of media. The slowest stage (voice)
runs at 0.2-1.6x real time on 2 busy cores (BENCHMARKS.md), so real runs stay far
below it; the limit only catches a stage that is stuck."""


def stage_time_limit(options: AnalyzeOptions, duration_s: float | None) -> float:
    """The time limit of each stage for media lasting ``duration_s`` seconds."""
    if options.stage_time_limit_s is not None:
        return options.stage_time_limit_s
    return STAGE_LIMIT_BASE_S + STAGE_LIMIT_PER_MEDIA_S * max(duration_s or 0.0, 0.0)


class Pipeline:
    """Runs stages in order, timing each and turning skips into report warnings."""

    def __init__(self, stages: Sequence[Stage]):
        self.stages = list(stages)

    def run(
        self,
        path: str | Path,
        options: AnalyzeOptions | None = None,
        progress: ProgressFn | None = None,
    ) -> AnalysisContext:
        """Analyse ``path``; the context holds the report and the stages' typed results."""
        path = Path(path)
        options = options or AnalyzeOptions()
        started = time.perf_counter()
        media = probe(path)
        report = Report(media=media.to_dict(), emochat_version=__version__)
        report.timings_s["ingest"] = round(time.perf_counter() - started, 4)
        ctx = AnalysisContext(path, options, media, report, progress)
        limit = stage_time_limit(options, media.duration_s)
        for stage in self.stages:
            t0 = time.perf_counter()
            ctx.stage, ctx.stage_limit_s = stage.name, limit
            ctx.deadline = time.monotonic() + limit
            stopped = False
            try:
                stage.run(ctx)
                report.stages.append(stage.name)
            except StageTimeout as timeout:
                report.warn(stage.name, timeout.code, timeout.message)
                stopped = True
            except StageSkipped as skip:
                report.warn(stage.name, skip.code, skip.message)
            except MediaError as exc:
                report.warn(stage.name, "decode_error", f"stopped early: {exc.problem}")
            took = time.perf_counter() - t0
            if took > limit and not stopped:  # overran without a deadline check: say so
                report.warn(
                    stage.name,
                    "timeout",
                    f"{stage.name} stage took {took:.1f} s, over its time limit of {limit:g} s",
                )
            report.timings_s[stage.name] = round(took, 4)
        ctx.stage, ctx.deadline = "", None
        report.timings_s["total"] = round(time.perf_counter() - started, 4)
        return ctx
