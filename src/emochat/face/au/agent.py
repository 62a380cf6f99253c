"""The AU Agent: per-frame AU intensities from 3D landmarks, per person, online.

Per observation: remove head pose (frontal template), measure the FACS-defined
distances (:mod:`.definitions`), smooth them in time, compare with the person's
online neutral (:mod:`.baseline`) and grade 0-5. Presence has hysteresis so that a
value hovering at the threshold does not flicker. ``finalize`` re-scores every frame
against each track's settled neutral, so a track's first seconds are judged like the
rest, then extracts events.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from emochat.core.action_units import AU_CODES
from emochat.face.au.baseline import NeutralBaseline, NeutralPrior
from emochat.face.au.definitions import MEASUREMENT_NAMES
from emochat.face.au.events import MAX_GAP_S, find_events
from emochat.face.au.geometry import frontal_landmarks, intensities, measure
from emochat.face.au.records import RowLog
from emochat.face.au.result import AUResult, AUTrack
from emochat.face.ibug68 import IBUG68, ibug68
from emochat.face.types import FaceObservation

_N_META = 8  # bbox (4), confidence, yaw, pitch, roll
_N_SHAPE = 6 + 3 + 2 * len(IBUG68)
"""Per frame beside the AUs: gaze vectors (2 x 3), face centre x, y and scale (pixels per
template unit, for pose_T), the 68 iBUG points' x, y: ~0.6 kB a frame, for the CSV."""


@dataclass(frozen=True, eq=False)
class AUFrame:
    """AU intensities (0-5) and presence for one face in one frame, AU_CODES order."""

    face_id: int
    frame_index: int
    t_s: float
    intensity: np.ndarray
    presence: np.ndarray

    def as_dict(self) -> dict[str, float]:
        return {code: float(v) for code, v in zip(AU_CODES, self.intensity, strict=True)}


@dataclass
class _TrackState:
    baseline: NeutralBaseline
    smoothed: np.ndarray | None = None
    last_t: float | None = None
    presence: np.ndarray = field(default_factory=lambda: np.zeros(len(AU_CODES), dtype=bool))
    times: RowLog = field(default_factory=lambda: RowLog(2, np.float64))
    rows: RowLog = field(default_factory=lambda: RowLog(_N_META + len(MEASUREMENT_NAMES)))
    shape: RowLog = field(default_factory=lambda: RowLog(_N_SHAPE))


class AUAgent:
    """Feed :meth:`update` every observation in time order, then call :meth:`finalize`."""

    def __init__(
        self,
        smoothing_s: float = 0.06,
        presence_on: float = 1.0,
        presence_off: float = 0.7,
        max_baseline_angle_deg: float = 25.0,
        prior: NeutralPrior | None = None,
    ):
        self.smoothing_s = smoothing_s
        self.presence_on = presence_on
        self.presence_off = presence_off
        self.max_baseline_angle_deg = max_baseline_angle_deg
        self._prior = prior
        self._tracks: dict[int, _TrackState] = {}

    def update(self, obs: FaceObservation) -> AUFrame:
        state = self._tracks.get(obs.face_id)
        if state is None:
            state = self._tracks[obs.face_id] = _TrackState(NeutralBaseline(self._prior))
        frontal, alignment = frontal_landmarks(obs.landmarks)
        measured = measure(frontal)
        gap = None if state.last_t is None else obs.t_s - state.last_t
        fresh = gap is None or not 0 < gap <= MAX_GAP_S
        if fresh:
            state.smoothed = measured
        else:
            alpha = 1.0 - np.exp(-gap / self.smoothing_s) if self.smoothing_s > 0 else 1.0
            state.smoothed = state.smoothed + alpha * (measured - state.smoothed)
        state.last_t = obs.t_s
        if max(abs(obs.yaw), abs(obs.pitch)) <= self.max_baseline_angle_deg:
            state.baseline.add(state.smoothed, obs.t_s)
        value = intensities(state.smoothed, state.baseline.value, state.baseline.uncertainty)
        state.presence = self._present(
            value, np.zeros_like(state.presence) if fresh else state.presence
        )
        state.times.append((obs.t_s, obs.frame_index))
        state.rows.append(
            (*obs.bbox, obs.confidence, obs.yaw, obs.pitch, obs.roll, *state.smoothed)
        )
        gaze = np.full(6, np.nan) if obs.gaze is None else np.ravel(obs.gaze)
        centre = obs.landmarks[:468, :2].mean(0)
        state.shape.append((*gaze, *centre, alignment.scale, *ibug68(obs.landmarks).T.ravel()))
        return AUFrame(
            obs.face_id, obs.frame_index, obs.t_s, value.astype(np.float32), state.presence.copy()
        )

    def _present(self, value: np.ndarray, before: np.ndarray) -> np.ndarray:
        return np.where(before, value >= self.presence_off, value >= self.presence_on)

    def finalize(self) -> AUResult:
        """Every track re-scored against its settled neutral, with its events."""
        tracks, events = {}, []
        for face_id, state in sorted(self._tracks.items()):
            times, rows = state.times.to_array(), state.rows.to_array()
            shape = state.shape.to_array()
            measured = rows[:, _N_META:].astype(np.float64)
            value = intensities(measured, state.baseline.value, state.baseline.uncertainty)
            presence = self._presence_series(value, times[:, 0])
            track = AUTrack(
                face_id=face_id,
                t_s=times[:, 0],
                frame_index=times[:, 1].astype(np.int64),
                intensity=value.astype(np.float32),
                presence=presence,
                yaw=rows[:, 5],
                pitch=rows[:, 6],
                roll=rows[:, 7],
                confidence=rows[:, 4],
                bbox=rows[:, :4],
                gaze=shape[:, :6].reshape(-1, 2, 3),
                head=shape[:, 6:9],
                landmarks68=shape[:, 9:].reshape(-1, 2, len(IBUG68)).transpose(0, 2, 1),
                baseline_source=state.baseline.source,
                baseline_weight=state.baseline.weight,
            )
            tracks[face_id] = track
            events += find_events(face_id, track.t_s, track.intensity, presence, track.frame_index)
        events.sort(key=lambda e: (e.onset_s, e.face_id, e.au))
        return AUResult(tracks=tracks, events=events)

    def rescore(
        self, face_id: int, observations: list[FaceObservation]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Times, intensities and presence of extra observations of a known face (every
        native frame of a short stretch, re-decoded), smoothed and graded as :meth:`update`
        does, against the track's settled neutral as :meth:`finalize` does. The track
        itself is left as it is."""
        state = self._tracks[face_id]
        t_s = np.array([o.t_s for o in observations], dtype=np.float64)
        rows, smoothed = [], None
        for i, obs in enumerate(observations):
            measured = measure(frontal_landmarks(obs.landmarks)[0])
            gap = t_s[i] - t_s[i - 1] if i else None
            if gap is None or not 0 < gap <= MAX_GAP_S:
                smoothed = measured
            else:
                alpha = 1.0 - np.exp(-gap / self.smoothing_s) if self.smoothing_s > 0 else 1.0
                smoothed = smoothed + alpha * (measured - smoothed)
            rows.append(smoothed)
        value = intensities(np.array(rows), state.baseline.value, state.baseline.uncertainty)
        return t_s, value.astype(np.float32), self._presence_series(value, t_s)

    def _presence_series(self, value: np.ndarray, t_s: np.ndarray) -> np.ndarray:
        out = np.zeros(value.shape, dtype=bool)
        before = np.zeros(value.shape[1], dtype=bool)
        for i in range(len(value)):
            if i and not 0 < t_s[i] - t_s[i - 1] <= MAX_GAP_S:
                before = np.zeros_like(before)
            before = out[i] = self._present(value[i], before)
        return out
