"""Where emochat finds corpora and keeps its cache (read by :mod:`emochat.core.settings`)."""

from emochat.core.settings import cache_dir, data_root, media_root

__all__ = ["cache_dir", "data_root", "media_root"]
