"""Errors a user can act on.

The CLI prints an :class:`EmochatError` as one line (``path: problem``) and exits
non-zero; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path


class EmochatError(Exception):
    """A problem with an input the user gave us, named with the file it concerns."""

    exit_code = 2

    def __init__(self, path: str | Path | None, problem: str):
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}" if self.path else self.problem


class MediaError(EmochatError):
    """Media that cannot be opened or decoded."""


class TranscriptError(EmochatError):
    """A transcript file in a format or encoding we cannot read."""


class DataError(EmochatError):
    """A corpus or manifest that is missing or malformed."""
