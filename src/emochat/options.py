"""AnalyzeOptions: the knobs of one analysis and their defaults, in one place.

Apart from the pipeline so that front ends (CLI, batch, serve) and the stages can read
the options without importing the code that runs or assembles the stages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emochat.reasoning.settings import ReasonerSettings


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
    """Seconds any one stage may take (None: :func:`emochat.pipeline.runner.stage_time_limit`'s
    default)."""
    reasoner: ReasonerSettings | None = None
    """The LLM reasoner that writes the explanation (None: the built-in grounded one)."""
    models: dict[str, str] = field(default_factory=dict)
    """Models put in place of the registered ones: slot (``face_expression``,
    ``speech_emotion``, ``text_emotion``, ``aggregator``) -> registered name or weight file
    (``emochat.models.registry``; ``--model SLOT=NAME|PATH``)."""
