"""The stage contract: what a stage declares, what it is given, and what it may raise.

Stages import this module and nothing else of the pipeline, so a stage never depends on
the runner or on the code that assembles the stages (``emochat.api``).

A stage declares the artifact types it ``needs`` (made by an earlier stage; the runner
checks the order when the pipeline is built) and those it ``makes``. It reads and writes
them through the :class:`AnalysisContext`'s typed store (``get``/``find``/``put``/
``release``), and the report through ``ctx.report``. A stage that cannot run on this
input raises :class:`StageSkipped`; the runner records a warning and the others go on.
Long loops call :meth:`AnalysisContext.check_deadline`, which raises
:class:`StageTimeout` once the stage is over its time limit (see
:mod:`emochat.pipeline.runner`). :class:`Hooks` let a caller watch a run (progress bars,
job progress, benches) without the stages knowing who watches.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol, TypeVar

from emochat.ingest import MediaInfo
from emochat.options import AnalyzeOptions
from emochat.report.model import Report, Segment

T = TypeVar("T")


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


class Hooks:
    """Callbacks the runner makes during one file's analysis; each does nothing here.

    Subclass and override what you watch: ``on_run_start`` gets the stage names in order
    (so a bar can show the whole run), ``on_stage_end`` the seconds taken and, for a
    skipped stage, the warning's message (None when it ran), ``on_progress`` the running
    stage's own fraction done (0..1), ``on_artifact`` every artifact a stage puts and
    ``on_checkpoint`` the report as it stands after each stage. Hooks run inside the
    analysis: keep them cheap.
    """

    def on_run_start(self, stages: Sequence[str]) -> None:
        pass

    def on_stage_start(self, name: str) -> None:
        pass

    def on_stage_end(self, name: str, seconds: float, skipped_reason: str | None) -> None:
        pass

    def on_progress(self, name: str, fraction: float) -> None:
        pass

    def on_artifact(self, kind: type, artifact: object) -> None:
        pass

    def on_checkpoint(self, report: Report, done: Sequence[str], left: Sequence[str]) -> None:
        """After each stage: the report as it stands, the stages ``done`` (run or skipped)
        and those ``left``, so a caller can save a partial report (long media: a crash
        late in the run then loses at most the running stage's work)."""
        pass


@dataclass
class AnalysisContext:
    """What the stages share for one media file: its report and the typed artifacts that
    stages pass one another (one per type: ``FaceAnalysis``, ``VoiceAnalysis``, ...)."""

    path: Path
    options: AnalyzeOptions
    media: MediaInfo
    report: Report
    hooks: Hooks = field(default_factory=Hooks)
    stage: str = ""
    """The stage running now."""
    deadline: float | None = None
    """``time.monotonic()`` by which the running stage must finish (None: no limit)."""
    stage_limit_s: float | None = None
    artifacts: dict[type, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # stages read the options as run: the defaults that depend on the media filled in
        self.options = self.options.for_media(self.media.is_image)

    def get(self, kind: type[T]) -> T:
        """The artifact of type ``kind``; :class:`StageSkipped` when no stage made it for
        this media (its producer skipped, or keeps it only when asked)."""
        artifact = self.artifacts.get(kind)
        if artifact is None:
            raise StageSkipped(
                "missing_input",
                f"{self.stage or 'this'} stage needs {kind.__name__}, which no earlier stage "
                "made for this media",
            )
        return artifact  # type: ignore[return-value]

    def find(self, kind: type[T]) -> T | None:
        """The artifact of type ``kind``, or None when no stage made it."""
        return self.artifacts.get(kind)  # type: ignore[return-value]

    def put(self, artifact: object) -> None:
        """Store ``artifact`` under its type (replacing one of the same type)."""
        self.artifacts[type(artifact)] = artifact
        self.hooks.on_artifact(type(artifact), artifact)

    def release(self, kind: type) -> None:
        """Drop the artifact of type ``kind`` (if any): big ones (encoder frames) are freed
        as soon as their last reader is done with them."""
        self.artifacts.pop(kind, None)

    def warn(self, code: str, message: str) -> None:
        """Add a report warning from the running stage."""
        self.report.warn(self.stage, code, message)

    def progress(self, fraction: float) -> None:
        """Tell the hooks how far the running stage is (0..1)."""
        self.hooks.on_progress(self.stage, min(max(fraction, 0.0), 1.0))

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


Context = AnalysisContext
"""The short public name (``from emochat.pipeline import Context``)."""


class Stage(Protocol):
    """One step of the analysis. ``needs``: artifact types it reads, each made by an
    earlier stage (absent at run time when that stage skipped: ``ctx.get`` then skips this
    one too); ``makes``: artifact types it may put. Both default to none."""

    name: ClassVar[str]
    needs: ClassVar[tuple[type, ...]]
    makes: ClassVar[tuple[type, ...]]

    def run(self, ctx: AnalysisContext) -> None: ...
