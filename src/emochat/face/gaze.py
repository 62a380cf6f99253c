"""Eye gaze from the iris landmarks and an eyeball fixed in the head.

Each eyeball's centre of rotation is a fixed point of the frontal template (its neutral
iris centre, :data:`EYE_RADIUS` further from the camera); the head pose
(:class:`~emochat.face.pose.Alignment`) places it in the frame. The iris centre seen in
the image lies on the sphere of that radius round it; under weak perspective (rays along
z) that gives the iris's depth and so the eye's optical axis. No learned model: the iris
model's points and the head pose are all it uses.

Conventions are OpenFace 2's (``gaze_0_x`` ... ``gaze_angle_y``): unit direction vectors
in camera coordinates, x right, y down, z away from the camera, so looking into the lens
is (0, 0, -1). Eye 0 is the eye on the image's left (the person's right eye; iris points
468-472), eye 1 the other (473-477). The angles are OpenFace's
``GazeAnalysis::GetGazeAngle``: of the mean of the two vectors,
``angle_x = atan2(x, -z)`` and ``angle_y = atan2(y, -z)`` in radians; looking towards
the image's right makes angle_x positive, looking down makes angle_y positive.

Assumes the template's neutral faces looked into the lens (a person whose eyes sit
differently reads a few degrees off throughout) and the optical axis is the gaze (the
visual axis differs by about 5 degrees, a per-person calibration we cannot do).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from emochat.face.pose import TEMPLATE_UNIT_MM, Alignment, frontal_template

IRIS_POINTS = ((468, 469, 470, 471, 472), (473, 474, 475, 476, 477))
"""Eye 0 (image left, the person's right eye), eye 1: iris centre and its 4 edge points."""
EYE_RADIUS_MM = 10.5
"""Centre of rotation to the entrance pupil (what the iris model locates): the centre lies
about 13.5 mm behind the corneal apex, the entrance pupil about 3 mm (Gullstrand's eye)."""
EYE_RADIUS = EYE_RADIUS_MM / TEMPLATE_UNIT_MM
"""The same in template units."""


@cache
def eyeball_centres() -> np.ndarray:
    """(2, 3) centres of rotation in the template's frame, eye 0 then eye 1."""
    template = frontal_template()
    irises = np.stack([template[list(idx)].mean(0) for idx in IRIS_POINTS])
    return irises + np.array([0.0, 0.0, EYE_RADIUS])


def eye_gaze(landmarks: np.ndarray, alignment: Alignment) -> np.ndarray:
    """(2, 3) unit gaze vectors of eye 0 and eye 1, camera frame, from pixel landmarks.

    An iris seen further from its eyeball centre than the radius (a wrong pose, or
    landmarks off the eye) is put on the sphere's rim: the gaze then lies in the image
    plane.
    """
    centres = alignment.scale * eyeball_centres() @ alignment.rotation.T + alignment.translation
    radius = alignment.scale * EYE_RADIUS
    iris = np.stack([landmarks[list(idx), :2].astype(np.float64).mean(0) for idx in IRIS_POINTS])
    offset = iris - centres[:, :2]
    dz = -np.sqrt(np.clip(radius**2 - (offset**2).sum(1), 0.0, None))
    vectors = np.column_stack([offset, dz])
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def gaze_angles(vectors: np.ndarray) -> np.ndarray:
    """(..., 2, 3) per-eye vectors -> (..., 2) OpenFace's (angle_x, angle_y), radians."""
    mean = np.asarray(vectors, dtype=np.float64).mean(-2)
    return np.stack(
        [np.arctan2(mean[..., 0], -mean[..., 2]), np.arctan2(mean[..., 1], -mean[..., 2])], -1
    )


def vector_angles(vectors: np.ndarray) -> np.ndarray:
    """(..., 3) one eye's vectors -> (..., 2) its own (angle_x, angle_y), radians."""
    v = np.asarray(vectors, dtype=np.float64)
    return np.stack([np.arctan2(v[..., 0], -v[..., 2]), np.arctan2(v[..., 1], -v[..., 2])], -1)
