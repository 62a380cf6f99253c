"""The analysis pipeline: replaceable stages run in order over one media file.

Each stage reads what earlier stages left in the :class:`AnalysisContext` and adds
its own typed result. A stage that cannot run on this input raises
:class:`StageSkipped`; the pipeline records a warning and the others go on. A
media file that stops decoding part-way keeps what was decoded, with a warning.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from emochat import __version__
from emochat.errors import MediaError
from emochat.ingest import MediaInfo, probe
from emochat.report.model import Report, Segment

if TYPE_CHECKING:
    from emochat.reasoning.settings import ReasonerSettings

ProgressFn = Callable[[str, float], None]
"""Called with (stage name, fraction done in 0..1)."""


@dataclass
class AnalyzeOptions:
    """Knobs of one analysis; defaults are tuned for a 2-core laptop."""

    fps: float | None = 10.0
    """Video frames analysed per second of media (None: every frame)."""
    max_side: int = 1280
    """Frames are scaled so their longer side is at most this many pixels."""
    max_faces: int = 8
    """Faces tracked at once (a group photo or a panel can hold several)."""
    expression_views: str = "zoom"
    """Test-time views of the expression model (``emochat.face.expression.TTA_VIEWS``):
    ``zoom`` (4, the most accurate), ``mirror`` (2, twice as fast) or ``none``."""
    segment_s: float = 4.0
    """Window length used for segments when no utterance segmentation exists."""
    language: str | None = None
    transcript: Path | None = None
    stage_time_limit_s: float | None = None
    """Seconds any one stage may take (None: :func:`stage_time_limit`'s default)."""
    reasoner: ReasonerSettings | None = None
    """The LLM reasoner that writes the explanation (None: the built-in grounded one)."""


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


class StageSkipped(Exception):
    """This stage has nothing to work on (no face, no audio, ...): a warning, not a failure."""

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(message)


class StageTimeout(StageSkipped):
    """The running stage is past its time limit (raised by ``check_deadline``)."""

    def __init__(self, stage: str, limit_s: float):
        super().__init__(
            "timeout",
            f"{stage} stage stopped at its time limit of {limit_s:g} s; its results are left out",
        )


@dataclass
class AnalysisContext:
    """What the stages share for one media file."""

    path: Path
    options: AnalyzeOptions
    media: MediaInfo
    report: Report
    progress: ProgressFn | None = None
    faces: Any = None
    """``emochat.au.FaceAnalysis`` once the face stage ran."""
    voice: Any = None
    """``emochat.audio.VoiceAnalysis`` once the voice stage ran."""
    stage: str = ""
    """The stage running now."""
    deadline: float | None = None
    """``time.monotonic()`` by which the running stage must finish (None: no limit)."""
    stage_limit_s: float | None = None

    def check_deadline(self) -> None:
        """Raise :class:`StageTimeout` if the running stage is past its limit (cheap: call often)."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise StageTimeout(self.stage, self.stage_limit_s or 0.0)

    @property
    def segments(self) -> list[Segment]:
        """The report's segments (one list, shared by every stage)."""
        return self.report.segments

    @segments.setter
    def segments(self, value: list[Segment]) -> None:
        self.report.segments = value

    def report_progress(self, stage: str, fraction: float) -> None:
        if self.progress is not None:
            self.progress(stage, min(max(fraction, 0.0), 1.0))


class Stage(Protocol):
    name: str

    def run(self, ctx: AnalysisContext) -> None: ...


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


def default_pipeline() -> Pipeline:
    """The stages shipped today, in order."""
    from emochat.audio.pipeline_stage import VoiceStage
    from emochat.face.pipeline_stage import FaceStage
    from emochat.fusion.aggregator_stage import AggregatorStage
    from emochat.fusion.stages import (
        FaceCueStage,
        FusionStage,
        OverallStage,
        SegmentStage,
    )
    from emochat.reasoning.base import ReasonerStage
    from emochat.text.pipeline_stage import TextStage

    return Pipeline(
        [
            FaceStage(),
            VoiceStage(),
            SegmentStage(),
            TextStage(),
            AggregatorStage(),
            FaceCueStage(),
            FusionStage(),
            OverallStage(),
            ReasonerStage(),
        ]
    )


def run_analysis(
    path: str | Path,
    transcript: str | Path | None = None,
    language: str | None = None,
    *,
    options: AnalyzeOptions | None = None,
    progress: ProgressFn | None = None,
    pipeline: Pipeline | None = None,
) -> AnalysisContext:
    """Like :func:`analyze`, but returns the whole context (for exports that need it)."""
    options = options or AnalyzeOptions()
    if transcript is not None:
        options.transcript = Path(transcript)
    if language is not None:
        options.language = None if language == "auto" else language
    return (pipeline or default_pipeline()).run(path, options, progress)


def analyze(
    path: str | Path,
    transcript: str | Path | None = None,
    language: str | None = None,
    **kwargs: Any,
) -> Report:
    """Analyse one media file with the default pipeline and return its :class:`Report`."""
    return run_analysis(path, transcript, language, **kwargs).report
