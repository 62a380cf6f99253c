"""What the face stage hands downstream: one tracked face in one frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

N_LANDMARKS = 478
"""MediaPipe topology: 468 mesh points, then 5 iris points per eye (468-472, 473-477)."""


@dataclass(frozen=True, eq=False)
class FaceObservation:
    """One face in one frame.

    ``landmarks`` is (478, 3) float32 in pixels of the frame: x right, y down, z away
    from the camera on the same scale as x (MediaPipe's convention, made absolute).
    Pose is in degrees in the camera frame (x right, y down, z away), with
    R = Rx(pitch) · Ry(yaw) · Rz(roll) rotating the frontal template onto the face,
    as OpenFace's pose_Rx/Ry/Rz. ``gaze`` is (2, 3): unit gaze vectors of eye 0 (image
    left) and eye 1 in that frame (:mod:`emochat.face.gaze`); None where not estimated.
    """

    frame_index: int
    t_s: float
    face_id: int
    bbox: tuple[float, float, float, float]  # x, y, w, h in pixels
    confidence: float
    landmarks: np.ndarray
    yaw: float
    pitch: float
    roll: float
    gaze: np.ndarray | None = None
