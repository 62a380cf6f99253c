"""Where recipes read and write: a source checkout, since they rebuild the files it ships."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
"""The checkout root (``src/emochat/train/paths.py`` is three folders down)."""

CACHE_ROOT = REPO / ".cache"
"""Features, embeddings and checkpoints between steps; never shipped."""
