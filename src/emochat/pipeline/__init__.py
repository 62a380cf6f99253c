"""The extension point: write a :class:`Stage`, run stages with a :class:`Pipeline`.

The stage contract is :mod:`.contract` (the only part a stage imports), the runner
:mod:`.runner`. The default stages and ``analyze``/``Analyzer`` are in :mod:`emochat.api`,
the composition root; importing this package never imports a stage.
"""

from __future__ import annotations

from emochat.pipeline.contract import (
    AnalysisContext,
    Context,
    Hooks,
    Stage,
    StageSkipped,
    StageTimeout,
)
from emochat.pipeline.runner import Pipeline, StageOrderError

__all__ = [
    "AnalysisContext",
    "Context",
    "Hooks",
    "Pipeline",
    "Stage",
    "StageOrderError",
    "StageSkipped",
    "StageTimeout",
]
