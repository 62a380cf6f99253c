"""A person's neutral face, estimated online from the frames seen so far.

The neutral is the person's most relaxed recurring state: the median of the quarter
of recent frames closest to the population neutral, re-found a few times around the
new estimate (mode seeking). A face that smiles most of
the time still yields its few relaxed frames, where a plain median would call the
smile neutral. The population prior is used alone until ``min_own_s`` seconds of
frames have been seen *and* those frames vary (a quarter of them at least
``min_variety_sd`` population spreads from the typical frame): a short clip, or an
expression held throughout, shows no relaxed state to learn, and a person's neutral
learnt from it would absorb the expression. After that the person's estimate is
shrunk towards the prior while little has been seen, and may stray from it by at most
``max_offset_sd`` population spreads, so a face that never relaxes keeps most of its
expression. :attr:`NeutralBaseline.source` names which neutral is in use.
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
POPULATION_DOUBT = 0.5
"""Population spreads of a change forgiven while the neutral is the population's: a video
shows how the face moves but not its resting build, which differs from the population's
by about 0.67 spread (one median absolute deviation) in half of the people."""


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
        settle_s: float = 1.0,
        max_offset_sd: float = 2.5,
        min_own_s: float = 10.0,
        min_variety_sd: float = 2.0,
        doubt_settle_s: float = 0.25,
    ):
        self.prior = prior or population_prior()
        self.relaxed_fraction = relaxed_fraction
        self.settle_s = settle_s
        self.min_own_s = min_own_s
        self.min_variety_sd = min_variety_sd
        self.doubt_settle_s = doubt_settle_s
        self.max_offset_sd = max_offset_sd
        self.min_spacing_s = min_spacing_s
        self._samples = np.zeros((window, len(self.prior.median)))
        self._n = 0
        self._last_t: float | None = None
        self._observed_s = 0.0
        self._since_refit = 0
        self._varied = False
        self.value = self.prior.median.copy()

    @property
    def weight(self) -> float:
        """How much of the person's own estimate is trusted over the population's (0-1):
        none until enough varied frames exist, then growing with the time seen."""
        own_s = self._observed_s - self.min_own_s
        if own_s <= 0 or not self._varied:
            return 0.0
        return own_s / (own_s + self.settle_s)

    @property
    def source(self) -> str:
        """``population`` (the prior alone), ``person`` (weight over 0.9) or ``blended``."""
        weight = self.weight
        return "population" if weight == 0 else "person" if weight > 0.9 else "blended"

    @property
    def uncertainty(self) -> np.ndarray:
        """Per-measurement doubt about the neutral: one population spread when nothing is
        known of the person (a photo), shrinking as frames show the face in time (0.25 s
        halves it), to :data:`POPULATION_DOUBT` spreads while the neutral is the
        population's (the person's build is unknown) and to nothing as their own settles."""
        seen = self._observed_s / (self._observed_s + self.doubt_settle_s)
        floor = POPULATION_DOUBT * (1.0 - self.weight)
        return np.maximum(1.0 - seen, floor) * self.prior.spread

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

    @staticmethod
    def _variety(z: np.ndarray) -> float:
        """How far the upper quarter of frames lies from the typical frame: the 75th
        percentile of the state-weighted squared distance (in population spreads) from
        the samples' median; 0 for a face that never moved."""
        z2 = np.minimum((z - np.median(z, axis=0)) ** 2, MAX_Z2)
        return float(np.percentile((z2 * STATE_WEIGHTS).sum(axis=1), 75))

    def _refit(self) -> None:
        self._since_refit = 0
        samples = self._samples[: min(self._n, len(self._samples))]
        prior, spread = self.prior.median, self.prior.spread
        z = (samples - prior) / spread
        if len(samples) >= MIN_CANDIDATES:
            self._varied = self._variety(z) >= self.min_variety_sd**2
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
