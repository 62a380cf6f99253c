"""The analysis pipeline: replaceable stages run in order over one media file.

Each stage reads what earlier stages left in the :class:`AnalysisContext` and adds
its own typed result. A stage that cannot run on this input raises
:class:`StageSkipped`; the pipeline records a warning and the others go on. A
media file that stops decoding part-way keeps what was decoded, with a warning.
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
    segment_s: float = 4.0
    """Window length used for segments when no utterance segmentation exists."""
    language: str | None = None
    transcript: Path | None = None
    reasoner: ReasonerSettings | None = None
    """The LLM reasoner that writes the explanation (None: the built-in grounded one)."""


class StageSkipped(Exception):
    """This stage has nothing to work on (no face, no audio, ...): a warning, not a failure."""

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(message)


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
        for stage in self.stages:
            t0 = time.perf_counter()
            try:
                stage.run(ctx)
                report.stages.append(stage.name)
            except StageSkipped as skip:
                report.warn(stage.name, skip.code, skip.message)
            except MediaError as exc:
                report.warn(stage.name, "decode_error", f"stopped early: {exc.problem}")
            report.timings_s[stage.name] = round(time.perf_counter() - t0, 4)
        report.timings_s["total"] = round(time.perf_counter() - started, 4)
        return ctx


def default_pipeline() -> Pipeline:
    """The stages shipped today, in order."""
    from emochat.audio.pipeline_stage import VoiceStage
    from emochat.face.pipeline_stage import FaceStage
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
