"""The stage contract: what a stage is given (:class:`AnalysisContext`) and may raise.

Stages import this module and nothing else of the pipeline, so a stage never depends on
the runner or on the code that assembles the stages (``emochat.api``).

Each stage reads what earlier stages left in the :class:`AnalysisContext` and adds
its own typed result. A stage that cannot run on this input raises
:class:`StageSkipped`; the pipeline records a warning and the others go on. Long loops
call :meth:`AnalysisContext.check_deadline`, which raises :class:`StageTimeout` once
the stage is over its time limit (see :mod:`emochat.pipeline.runner`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from emochat.ingest import MediaInfo
from emochat.options import AnalyzeOptions
from emochat.report.model import Report, Segment

ProgressFn = Callable[[str, float], None]
"""Called with (stage name, fraction done in 0..1)."""


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
    """``emochat.face.au.FaceAnalysis`` once the face stage ran."""
    voice: Any = None
    """``emochat.voice.VoiceAnalysis`` once the voice stage ran."""
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
