"""Diarisation error rate (DER) as NIST's md-eval and pyannote.metrics compute it.

DER = (missed speech + false alarm + speaker confusion) / reference speech, with

* a forgiveness collar (default 0.25 s) on each side of every reference boundary, not
  scored;
* overlapping reference speech scored (each reference speaker counts in a frame);
* the optimal one-to-one map from hypothesis to reference speakers (the Hungarian
  assignment maximising the time they share).

Computed on a 1-ms grid; the figures are in seconds.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

Turn = tuple[float, float, Hashable]
"""(start_s, end_s, speaker)."""

STEP_S = 0.001


@dataclass(frozen=True)
class DiarizationScore:
    total_s: float
    """Scored reference speech (seconds, overlap counted once per speaker)."""
    missed_s: float
    false_alarm_s: float
    confusion_s: float
    n_reference_speakers: int
    n_hypothesis_speakers: int
    mapping: dict

    @property
    def der(self) -> float:
        if self.total_s <= 0:
            return 0.0 if self.missed_s + self.false_alarm_s + self.confusion_s == 0 else 1.0
        return (self.missed_s + self.false_alarm_s + self.confusion_s) / self.total_s


def read_rttm(path: str | Path) -> list[Turn]:
    """The SPEAKER lines of an RTTM file as (start_s, end_s, speaker)."""
    turns = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 8 and parts[0] == "SPEAKER":
            start, dur = float(parts[3]), float(parts[4])
            turns.append((start, start + dur, parts[7]))
    return turns


def _activity(turns: Sequence[Turn], speakers: list, n: int) -> np.ndarray:
    act = np.zeros((len(speakers), n), dtype=bool)
    index = {s: i for i, s in enumerate(speakers)}
    for s, e, who in turns:
        a, b = int(round(s / STEP_S)), int(round(e / STEP_S))
        act[index[who], max(0, a) : max(0, min(n, b))] = True
    return act


def diarization_error(
    reference: Sequence[Turn], hypothesis: Sequence[Turn], collar_s: float = 0.25
) -> DiarizationScore:
    """Score ``hypothesis`` against ``reference`` (see the module's docstring)."""
    end = max([e for _, e, _ in [*reference, *hypothesis]], default=0.0)
    n = int(round(end / STEP_S)) + 1
    ref_spk = sorted({w for *_, w in reference}, key=str)
    hyp_spk = sorted({w for *_, w in hypothesis}, key=str)
    ref = _activity(reference, ref_spk, n)
    hyp = _activity(hypothesis, hyp_spk, n)
    scored = np.ones(n, dtype=bool)
    c = int(round(collar_s / STEP_S))
    if c > 0:
        for s, e, _ in reference:
            for t in (s, e):
                k = int(round(t / STEP_S))
                scored[max(0, k - c) : min(n, k + c)] = False
    ref, hyp = ref[:, scored], hyp[:, scored]
    shared = (ref[:, None, :] & hyp[None, :, :]).sum(-1) if ref_spk and hyp_spk else None
    mapping: dict = {}
    correct = np.zeros(ref.shape[1], dtype=np.int64)
    if shared is not None:
        rows, cols = linear_sum_assignment(-shared)
        for r, h in zip(rows, cols, strict=True):
            if shared[r, h] > 0:
                mapping[hyp_spk[h]] = ref_spk[r]
                correct += ref[r] & hyp[h]
    n_ref = ref.sum(0)
    n_hyp = hyp.sum(0)
    missed = np.maximum(n_ref - n_hyp, 0).sum()
    false_alarm = np.maximum(n_hyp - n_ref, 0).sum()
    confusion = (np.minimum(n_ref, n_hyp) - correct).sum()
    return DiarizationScore(
        total_s=float(n_ref.sum() * STEP_S),
        missed_s=float(missed * STEP_S),
        false_alarm_s=float(false_alarm * STEP_S),
        confusion_s=float(confusion * STEP_S),
        n_reference_speakers=len(ref_spk),
        n_hypothesis_speakers=len(hyp_spk),
        mapping=mapping,
    )
