"""Growable column store for per-frame records: bounded, compact, no per-frame objects."""

from __future__ import annotations

import numpy as np


class RowLog:
    """Append fixed-width rows; memory grows in chunks of ``chunk`` rows."""

    def __init__(self, n_cols: int, dtype=np.float32, chunk: int = 1024):
        self._chunks: list[np.ndarray] = []
        self._n_cols, self._dtype, self._chunk = n_cols, dtype, chunk
        self._fill = chunk

    def append(self, row) -> None:
        if self._fill == self._chunk:
            self._chunks.append(np.empty((self._chunk, self._n_cols), dtype=self._dtype))
            self._fill = 0
        self._chunks[-1][self._fill] = row
        self._fill += 1

    def __len__(self) -> int:
        return max(0, len(self._chunks) - 1) * self._chunk + (self._fill if self._chunks else 0)

    def to_array(self) -> np.ndarray:
        if not self._chunks:
            return np.empty((0, self._n_cols), dtype=self._dtype)
        return np.concatenate(self._chunks[:-1] + [self._chunks[-1][: self._fill]])
