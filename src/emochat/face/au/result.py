"""What the AU Agent hands on: per-track frame series, events, and words for the reasoner."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from emochat.core.action_units import AU_CODES, AU_LABELS
from emochat.face.au.events import AUEvent, describe_events
from emochat.face.gaze import gaze_angles
from emochat.face.pose import translation_mm
from emochat.report.model import FaceGaze


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
    gaze: np.ndarray  # (N, 2, 3) unit vectors, eye 0 (image left) and eye 1, camera frame
    head: np.ndarray  # (N, 3) face centre x, y (pixels) and pixels per template unit
    landmarks68: np.ndarray  # (N, 68, 2) iBUG points, pixels (for the CSV, not the JSON)
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

    def to_dict(self, frame_size: tuple[int, int] | None = None) -> dict:
        """report.json's track; with the analysed frame's size the pose also carries the
        head's position in mm (:func:`emochat.face.pose.translation_mm`, as au.csv's pose_T)."""
        pose = {
            "yaw": _rounded(self.yaw),
            "pitch": _rounded(self.pitch),
            "roll": _rounded(self.roll),
        }
        if frame_size is not None and len(self):
            t_mm = translation_mm(self.head[:, :2], self.head[:, 2], *frame_size)
            pose.update(
                {f"t{axis}_mm": np.round(t_mm[:, i], 1).tolist() for i, axis in enumerate("xyz")}
            )
        return {
            "face_id": int(self.face_id),
            "t_s": _rounded(self.t_s),
            "intensity": _rounded(self.intensity),
            "presence": self.presence.astype(int).tolist(),
            "pose": pose,
            "confidence": _rounded(self.confidence),
            "box": np.round(np.asarray(self.bbox, dtype=np.float64), 1).tolist(),
            "gaze": self.gaze_json(),
            "baseline": {"source": self.baseline_source, "weight": round(self.baseline_weight, 3)},
        }

    def gaze_json(self) -> dict | None:
        """report.json's ``gaze`` (:class:`FaceGaze`); None unless every frame has one."""
        if not len(self) or np.isnan(self.gaze).any():
            return None
        angles = gaze_angles(self.gaze)
        return FaceGaze(
            eye0=_rounded(self.gaze[:, 0]),
            eye1=_rounded(self.gaze[:, 1]),
            angle_x=_rounded(angles[:, 0]),
            angle_y=_rounded(angles[:, 1]),
        ).to_json()


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

    def to_dict(self, frame_size: tuple[int, int] | None = None) -> dict:
        return {
            "names": list(self.names),
            "labels": dict(self.labels),
            "tracks": [self.tracks[k].to_dict(frame_size) for k in sorted(self.tracks)],
            "events": [e.to_dict() for e in self.events],
        }


def _rounded(values: np.ndarray) -> list:
    """Plain Python floats rounded to 3 decimals (nested for 2-D arrays)."""
    return np.round(np.asarray(values, dtype=np.float64), 3).tolist()
