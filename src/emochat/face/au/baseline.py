"""A person's neutral face, estimated online from the frames seen so far.

The neutral is the person's most relaxed recurring state: the median of the quarter
of recent frames closest to the population neutral, re-found a few times around the
new estimate (mode seeking). A face that smiles most of
the time still yields its few relaxed frames, where a plain median would call the
smile neutral. The estimate is shrunk towards the population prior while little
has been seen, and may stray from it by at most ``max_offset_sd`` population
spreads, so that a face that never relaxes keeps most of its expression.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from emochat.face.au.definitions import MEASUREMENT_NAMES

PRIOR_FILE = "neutral_prior.json"
# A neutral face has open eyes and a closed mouth: these two count triple when looking
# for relaxed frames, so a long cry with shut eyes is not mistaken for the resting face.
STATE_WEIGHTS = np.array(
    [3.0 if name in ("eye_aperture", "lip_gap") else 1.0 for name in MEASUREMENT_NAMES]
)
MAX_Z2 = 9.0  # one wild measurement (an occluded mouth) must not decide alone
_EYES, _MOUTH = MEASUREMENT_NAMES.index("eye_aperture"), MEASUREMENT_NAMES.index("lip_gap")
MIN_CANDIDATES = 5


@dataclass(frozen=True)
class NeutralPrior:
    """Population neutral: per-measurement median and robust spread (IOD units)."""

    median: np.ndarray
    spread: np.ndarray


@cache
def population_prior() -> NeutralPrior:
    with resources.files("emochat.face.au").joinpath(PRIOR_FILE).open("r", encoding="utf-8") as fh:
        data = json.load(fh)
    order = [data["measurements"].index(name) for name in MEASUREMENT_NAMES]
    return NeutralPrior(
        np.asarray(data["median"], dtype=np.float64)[order],
        np.asarray(data["spread"], dtype=np.float64)[order],
    )


class NeutralBaseline:
    """Online neutral for one person; feed it smoothed measurements in time order."""

    def __init__(
        self,
        prior: NeutralPrior | None = None,
        window: int = 600,
        min_spacing_s: float = 0.1,
        relaxed_fraction: float = 0.25,
        settle_s: float = 0.25,
        max_offset_sd: float = 2.5,
    ):
        self.prior = prior or population_prior()
        self.relaxed_fraction = relaxed_fraction
        self.settle_s = settle_s
        self.max_offset_sd = max_offset_sd
        self.min_spacing_s = min_spacing_s
        self._samples = np.zeros((window, len(self.prior.median)))
        self._n = 0
        self._last_t: float | None = None
        self._observed_s = 0.0
        self._since_refit = 0
        self.value = self.prior.median.copy()

    @property
    def weight(self) -> float:
        """How much of the person's own estimate is trusted over the population's (0-1)."""
        return self._observed_s / (self._observed_s + self.settle_s)

    @property
    def uncertainty(self) -> np.ndarray:
        """Per-measurement doubt about the neutral: one population spread when nothing
        is known of the person (a photo), shrinking as their neutral settles."""
        return (1.0 - self.weight) * self.prior.spread

    def add(self, measurements: np.ndarray, t_s: float) -> None:
        if self._last_t is not None:
            gap = t_s - self._last_t
            if 0 <= gap < self.min_spacing_s:
                return
            self._observed_s += min(max(gap, 0.0), 0.5)  # a lone frame shows no time
        self._last_t = t_s
        self._samples[self._n % len(self._samples)] = measurements
        self._n += 1
        self._since_refit += 1
        if self._n <= 50 or self._since_refit >= 5:
            self._refit()

    def _refit(self) -> None:
        self._since_refit = 0
        samples = self._samples[: min(self._n, len(self._samples))]
        prior, spread = self.prior.median, self.prior.spread
        z = (samples - prior) / spread
        # shut eyes or an open mouth are never the resting face, when there is a choice
        resting = (z[:, _EYES] > -2.0) & (z[:, _MOUTH] < 3.0)
        if resting.sum() >= MIN_CANDIDATES:
            samples = samples[resting]
        k = max(1, int(round(self.relaxed_fraction * len(samples))))
        weight = self.weight
        value = prior  # seek from the population neutral each time: no lock-in on a first smile
        for _ in range(3):
            z2 = np.minimum(((samples - value) / spread) ** 2, MAX_Z2)
            distance = (z2 * STATE_WEIGHTS).sum(axis=1)
            relaxed = samples[np.argpartition(distance, k - 1)[:k]]
            offset = weight * (np.median(relaxed, axis=0) - prior)
            cap = self.max_offset_sd * spread
            value = prior + np.clip(offset, -cap, cap)
        self.value = value
