"""Temperature scaling (Guo et al. 2017): one scalar per model, fitted on its selection split."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar

from emochat.core.probabilities import soften


def fit_temperature(probs: np.ndarray, y_true: np.ndarray) -> float:
    """The temperature (0.05..20) minimising the negative log-likelihood of ``y_true``."""

    def nll(log_t: float) -> float:
        p = soften(probs, float(np.exp(log_t)))
        return float(-np.log(np.clip(p[np.arange(len(y_true)), y_true], 1e-12, 1.0)).mean())

    best = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(best.x))
