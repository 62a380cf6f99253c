"""The 68 iBUG/300-W points (dlib's, OpenFace's x_0..x_67) picked from the 478-point mesh.

OpenFace readers expect these 68; the mesh has no exact twins, so each is the mesh vertex
at the same anatomical place, as in the mediapipe-to-dlib correspondences in common use
(jaw contour, brows' upper edge, nose bridge and base, eye corners and lid midpoints,
outer and inner lip contours). ``tests/face/test_face_ibug68.py`` checks the order and
the left-right symmetry on the template. Jaw points are the mesh's face oval, which runs
at the cheek's edge rather than on the jawbone: expect x_0..x_16 a few pixels inward.
"""

from __future__ import annotations

import numpy as np

IBUG68 = (
    # 0-16 jaw, image left to right (ear, chin 8, ear)
    162, 234, 93, 58, 172, 136, 149, 148, 152, 377, 378, 365, 397, 288, 323, 454, 389,
    # 17-21 image-left brow, outer to inner; 22-26 image-right brow, inner to outer
    71, 63, 105, 66, 107, 336, 296, 334, 293, 301,
    # 27-30 nose bridge to tip; 31-35 nostril base, left to right
    168, 197, 5, 4, 75, 97, 2, 326, 305,
    # 36-41 image-left eye: outer corner, upper lid x2, inner corner, lower lid x2
    33, 160, 158, 133, 153, 144,
    # 42-47 image-right eye: inner corner, upper lid x2, outer corner, lower lid x2
    362, 385, 387, 263, 373, 380,
    # 48-59 outer lips: left corner, upper lip to right corner, lower lip back
    61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181,
    # 60-67 inner lips: left corner, upper, right corner, lower
    78, 82, 13, 312, 308, 317, 14, 87,
)  # fmt: skip


def ibug68(landmarks: np.ndarray) -> np.ndarray:
    """(68, 2) image x, y of the iBUG points from (478, 3) pixel landmarks."""
    return np.asarray(landmarks)[list(IBUG68), :2]
