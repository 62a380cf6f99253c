"""The prosody frames the aggregator reads, as both the pipeline stage and training take them."""

from __future__ import annotations

import numpy as np

LLD_KEYS = ("pitch", "loudness", "jitter", "shimmer", "hnr")


def lld_frames(lld) -> tuple[np.ndarray, np.ndarray]:
    """Times ``(n,)`` and values ``(n, 5)`` in :data:`LLD_KEYS` order of a voice analysis's
    eGeMAPS LLD frames (empty when there are none)."""
    if lld is not None and lld.t_s.size:
        return lld.t_s, np.stack([lld.values[k] for k in LLD_KEYS], axis=1)
    return np.zeros(0), np.zeros((0, len(LLD_KEYS)))
