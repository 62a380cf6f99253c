"""The analysis pipeline: the stage contract (:mod:`.contract`) and the runner (:mod:`.runner`).

The names that lived in the old ``emochat/pipeline.py`` stay importable from here for one
release. ``default_pipeline``, ``run_analysis`` and ``analyze`` moved to :mod:`emochat.api`
(the composition root, which imports the stages); reading them here warns and imports them
lazily, so that importing the contract never imports the stages.
"""

from __future__ import annotations

import warnings
from typing import Any

from emochat.options import AnalyzeOptions
from emochat.pipeline.contract import (
    AnalysisContext,
    ProgressFn,
    Stage,
    StageSkipped,
    StageTimeout,
)
from emochat.pipeline.runner import (
    STAGE_LIMIT_BASE_S,
    STAGE_LIMIT_PER_MEDIA_S,
    Pipeline,
    stage_time_limit,
)

__all__ = [
    "STAGE_LIMIT_BASE_S",
    "STAGE_LIMIT_PER_MEDIA_S",
    "AnalysisContext",
    "AnalyzeOptions",
    "Pipeline",
    "ProgressFn",
    "Stage",
    "StageSkipped",
    "StageTimeout",
    "stage_time_limit",
]

_MOVED_TO_API = ("default_pipeline", "run_analysis", "analyze")


def __getattr__(name: str) -> Any:
    if name in _MOVED_TO_API:
        warnings.warn(
            f"emochat.pipeline.{name} moved to emochat.api.{name}; import it from there "
            "(the old name goes in the next release)",
            DeprecationWarning,
            stacklevel=2,
        )
        import emochat.api

        return getattr(emochat.api, name)
    raise AttributeError(f"module 'emochat.pipeline' has no attribute {name!r}")
