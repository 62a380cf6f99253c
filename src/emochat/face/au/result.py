"""What the AU Agent hands on: per-track frame series, events, and words for the reasoner."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from emochat.core.action_units import AU_CODES, AU_LABELS
from emochat.face.au.events import AUEvent, describe_events


@dataclass(frozen=True, eq=False)
class AUTrack:
    """One face track, one row per processed frame it was seen in."""

    face_id: int
    t_s: np.ndarray  # (N,) seconds
    frame_index: np.ndarray  # (N,) decoded-frame index
    intensity: np.ndarray  # (N, 17) 0-5, AU_CODES order
    presence: np.ndarray  # (N, 17) bool
    yaw: np.ndarray  # (N,) degrees
    pitch: np.ndarray
    roll: np.ndarray
    confidence: np.ndarray  # (N,) 0-1
    bbox: np.ndarray  # (N, 4) x, y, w, h pixels
    baseline_source: str = "population"
    """Which neutral the intensities are measured from (:attr:`NeutralBaseline.source`)."""
    baseline_weight: float = 0.0
    """How much of that neutral is the person's own (0: the population's alone)."""

    def __len__(self) -> int:
        return len(self.t_s)

    def mean_intensity(self, start_s: float = -np.inf, end_s: float = np.inf) -> dict[str, float]:
        sel = (self.t_s >= start_s) & (self.t_s <= end_s)
        if not sel.any():
            return {code: 0.0 for code in AU_CODES}
        means = self.intensity[sel].mean(axis=0)
        return {code: float(v) for code, v in zip(AU_CODES, means, strict=True)}

    def to_dict(self) -> dict:
        return {
            "face_id": int(self.face_id),
            "t_s": _rounded(self.t_s),
            "intensity": _rounded(self.intensity),
            "presence": self.presence.astype(int).tolist(),
            "pose": {
                "yaw": _rounded(self.yaw),
                "pitch": _rounded(self.pitch),
                "roll": _rounded(self.roll),
            },
            "confidence": _rounded(self.confidence),
            "baseline": {"source": self.baseline_source, "weight": round(self.baseline_weight, 3)},
        }


@dataclass(frozen=True, eq=False)
class AUResult:
    tracks: dict[int, AUTrack] = field(default_factory=dict)
    events: list[AUEvent] = field(default_factory=list)
    names: tuple[str, ...] = AU_CODES
    labels: dict[str, str] = field(default_factory=lambda: dict(AU_LABELS))

    def describe(self, face_id: int, start_s: float, end_s: float) -> str:
        """The face's AU events in [start_s, end_s] in words, strongest first."""
        track = self.tracks.get(face_id)
        if track is None or not ((track.t_s >= start_s) & (track.t_s <= end_s)).any():
            return "face not visible"
        text = describe_events([e for e in self.events if e.face_id == face_id], start_s, end_s)
        return text or "neutral face, no action unit above slight"

    def to_dict(self) -> dict:
        return {
            "names": list(self.names),
            "labels": dict(self.labels),
            "tracks": [self.tracks[k].to_dict() for k in sorted(self.tracks)],
            "events": [e.to_dict() for e in self.events],
        }


def _rounded(values: np.ndarray) -> list:
    """Plain Python floats rounded to 3 decimals (nested for 2-D arrays)."""
    return np.round(np.asarray(values, dtype=np.float64), 3).tolist()
