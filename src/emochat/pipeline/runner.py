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
    Hooks,
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


class StageOrderError(ValueError):
    """A stage needs an artifact that no earlier stage makes (a wrong order, or a missing
    stage): raised when the pipeline is built, before any media is read."""


def check_order(stages: Sequence[Stage]) -> None:
    """Raise :class:`StageOrderError` unless each stage's ``needs`` is made earlier."""
    makers = {kind: s.name for s in reversed(stages) for kind in getattr(s, "makes", ())}
    made: set[type] = set()
    for stage in stages:
        for kind in getattr(stage, "needs", ()):
            if kind not in made:
                where = (
                    f"the {makers[kind]!r} stage makes it but does not run before"
                    if kind in makers
                    else "no stage in the pipeline makes it"
                )
                raise StageOrderError(f"the {stage.name!r} stage needs {kind.__name__}: {where}")
        made.update(getattr(stage, "makes", ()))


class Pipeline:
    """Runs stages in order, timing each, turning skips into report warnings and telling
    the :class:`Hooks` as it goes. The order is checked here, when it is built."""

    def __init__(self, stages: Sequence[Stage]):
        self.stages = list(stages)
        check_order(self.stages)

    @property
    def stage_names(self) -> list[str]:
        return [stage.name for stage in self.stages]

    def run(
        self,
        path: str | Path,
        options: AnalyzeOptions | None = None,
        hooks: Hooks | None = None,
        inputs: Sequence[object] = (),
    ) -> AnalysisContext:
        """Analyse ``path``; the context holds the report and the stages' artifacts.

        ``inputs``: artifacts known before the first stage (a transcript the caller already
        read), put in the context so that no stage reads them again."""
        path = Path(path)
        options = options or AnalyzeOptions()
        hooks = hooks or Hooks()
        started = time.perf_counter()
        media = probe(path)
        report = Report(media=media.to_dict(), emochat_version=__version__)
        report.timings_s["ingest"] = round(time.perf_counter() - started, 4)
        ctx = AnalysisContext(path, options, media, report, hooks)
        for artifact in inputs:
            ctx.put(artifact)
        limit = stage_time_limit(options, media.duration_s)
        hooks.on_run_start(self.stage_names)
        for stage in self.stages:
            hooks.on_stage_start(stage.name)
            t0 = time.perf_counter()
            ctx.stage, ctx.stage_limit_s = stage.name, limit
            ctx.deadline = time.monotonic() + limit
            stopped, skipped = False, None
            try:
                stage.run(ctx)
                report.stages.append(stage.name)
            except StageTimeout as timeout:
                report.warn(stage.name, timeout.code, timeout.message)
                stopped, skipped = True, timeout.message
            except StageSkipped as skip:
                report.warn(stage.name, skip.code, skip.message)
                skipped = skip.message
            except MediaError as exc:
                report.warn(stage.name, "decode_error", f"stopped early: {exc.problem}")
                skipped = f"stopped early: {exc.problem}"
            took = time.perf_counter() - t0
            if took > limit and not stopped:  # overran without a deadline check: say so
                report.warn(
                    stage.name,
                    "timeout",
                    f"{stage.name} stage took {took:.1f} s, over its time limit of {limit:g} s",
                )
            report.timings_s[stage.name] = round(took, 4)
            hooks.on_stage_end(stage.name, took, skipped)
            done = self.stage_names[: self.stages.index(stage) + 1]
            hooks.on_checkpoint(report, done, self.stage_names[len(done) :])
        ctx.stage, ctx.deadline = "", None
        report.timings_s["total"] = round(time.perf_counter() - started, 4)
        return ctx
