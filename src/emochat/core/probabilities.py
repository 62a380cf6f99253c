"""Softmax and temperature scaling of probability vectors (Guo et al. 2017), shared by
every calibrated reader (face, voice, text) and the recipes that fit the temperatures."""

from __future__ import annotations

import numpy as np


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """``exp(logits)`` normalised over ``axis``, the maximum subtracted first so nothing
    overflows: the one softmax of the numpy code (models, recipes, the graph reference)."""
    e = np.exp(logits - logits.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def soften(probs: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log(probs) / temperature)`` over the last axis, in ``probs``' dtype: what
    the model gives at that temperature (its log-probabilities are its logits up to a
    constant per row). 1 returns ``probs`` itself."""
    probs = np.asarray(probs)
    if temperature == 1.0:
        return probs
    logits = np.log(np.clip(probs, 1e-12, 1.0)) / temperature
    return softmax(logits).astype(probs.dtype, copy=False)
