"""Head pose and pose-free geometry by rigid alignment to a frontal template.

A similarity transform (Umeyama) fitted on landmarks that facial muscles barely move
(forehead, nose bridge, inner eye corners, temples) gives rotation, scale and
translation. The rotation is the head pose; undoing the transform puts every
landmark in the template's frontal frame, where an AU is a plain displacement.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

# Points that expressions move least; eye outer corners and nose tip are left out (AU6, AU9).
RIGID_POINTS = (
    10, 151, 9, 8, 168, 6, 197, 195, 5,  # midline: forehead to nose
    109, 338, 67, 297, 103, 332, 54, 284,  # upper forehead
    133, 362, 243, 463, 190, 414,  # inner eye corners and their nasal side
    127, 356, 234, 454, 162, 389, 21, 251,  # temples and face sides at eye height
    193, 417, 122, 351, 196, 419, 3, 248,  # nose sides
)  # fmt: skip
TEMPLATE_FILE = "frontal_template.npz"


@dataclass(frozen=True)
class Alignment:
    """landmarks ≈ scale · R · template + translation (rows as points)."""

    rotation: np.ndarray
    scale: float
    translation: np.ndarray

    def to_frontal(self, landmarks: np.ndarray) -> np.ndarray:
        """Landmarks in the template's frame: pose removed, inter-ocular distance about 1."""
        return ((landmarks - self.translation) @ self.rotation) / self.scale

    def euler_deg(self) -> tuple[float, float, float]:
        """(pitch, yaw, roll) with R = Rx(pitch) · Ry(yaw) · Rz(roll), OpenFace's order.

        In the camera frame (x right, y down, z away): yaw > 0 turns the nose to the
        image's left, pitch > 0 tips it down, roll > 0 turns the face clockwise on screen.
        """
        r = self.rotation
        yaw = np.arcsin(np.clip(r[0, 2], -1.0, 1.0))
        pitch = np.arctan2(-r[1, 2], r[2, 2])
        roll = np.arctan2(-r[0, 1], r[0, 0])
        return float(np.degrees(pitch)), float(np.degrees(yaw)), float(np.degrees(roll))


def fit_similarity(template: np.ndarray, points: np.ndarray) -> Alignment:
    """Least-squares rotation, scale and translation taking ``template`` onto ``points``."""
    mu_t, mu_p = template.mean(0), points.mean(0)
    t0, p0 = template - mu_t, points - mu_p
    u, s, vt = np.linalg.svd(p0.T @ t0)
    d = np.ones(3)
    d[2] = np.sign(np.linalg.det(u) * np.linalg.det(vt)) or 1.0
    rotation = (u * d) @ vt
    scale = float((s * d).sum() / max((t0**2).sum(), 1e-12))
    translation = mu_p - scale * rotation @ mu_t
    return Alignment(rotation, scale, translation)


def rotation_from_euler_deg(pitch: float, yaw: float, roll: float) -> np.ndarray:
    """R = Rx(pitch) · Ry(yaw) · Rz(roll); inverse of :meth:`Alignment.euler_deg`."""
    a, b, c = np.radians([pitch, yaw, roll])
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    return rx @ ry @ rz


@cache
def frontal_template() -> np.ndarray:
    """The neutral frontal face (478 x 3, float64): x right, y down, z away, eye corners 1 apart.

    Built from many neutral faces (see :mod:`emochat.train.au_calibration`), mirrored to symmetry.
    """
    with resources.files("emochat.face").joinpath(TEMPLATE_FILE).open("rb") as fh:
        return np.load(fh)["landmarks"].astype(np.float64)


def align(landmarks: np.ndarray, template: np.ndarray | None = None) -> Alignment:
    """Fit the rigid points of ``landmarks`` (478 x 3 pixels) to the frontal template."""
    template = frontal_template() if template is None else template
    idx = list(RIGID_POINTS)
    return fit_similarity(template[idx], landmarks[idx].astype(np.float64))


OPENFACE_FOCAL_PX = (500.0, 640.0, 480.0)
"""OpenFace's focal length guess without calibration: 500 px at 640 wide / 480 high."""
TEMPLATE_UNIT_MM = 90.0
"""The template's unit (outer eye corners 1 apart) in mm: adult ex-ex width is 87-91 mm
(Farkas' anthropometric norms)."""


def focal_length_px(width: int, height: int) -> float:
    """OpenFace 2's default (SequenceCapture): the mean of 500·w/640 and 500·h/480."""
    f, w0, h0 = OPENFACE_FOCAL_PX
    return (f * width / w0 + f * height / h0) / 2


def translation_mm(
    centre_px: np.ndarray, scale_px: np.ndarray, width: int, height: int
) -> np.ndarray:
    """(..., 3) head position in mm, camera frame (x right, y down, z away), as OpenFace's
    pose_Tx/Ty/Tz, from the face centre's pixels and the alignment's scale (pixels per
    template unit), by a pinhole with OpenFace's guessed focal length and the principal
    point at the frame's centre, for a face of average size: depth is only as good as
    those two guesses (a child or a zoomed lens reads far off)."""
    f = focal_length_px(width, height)
    z = f * TEMPLATE_UNIT_MM / np.maximum(np.asarray(scale_px, dtype=np.float64), 1e-9)
    centre = np.asarray(centre_px, dtype=np.float64)
    x = (centre[..., 0] - width / 2) * z / f
    y = (centre[..., 1] - height / 2) * z / f
    return np.stack([x, y, z], -1)
