"""Batch analysis: many clips, one report each, a Parquet summary, resumable after any crash.

``emochat batch INPUT_DIR|MANIFEST -o OUT [--workers N] [--engine local|ray]``; the
library entry is :func:`emochat.batch.runner.run_batch`.
"""

from emochat.apps.jobs import ClipOutput, analyze_clip
from emochat.batch.runner import BatchResult, run_batch

__all__ = ["BatchResult", "ClipOutput", "analyze_clip", "run_batch"]
