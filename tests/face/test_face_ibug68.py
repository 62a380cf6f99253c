"""The 68-point subset: iBUG's order and its left-right symmetry, on the template."""

import numpy as np

from emochat.face.ibug68 import IBUG68, ibug68
from emochat.face.pose import frontal_template

# iBUG index pairs mirrored across the face's midline
MIRROR = (
    [(i, 16 - i) for i in range(8)]
    + [(17 + i, 26 - i) for i in range(5)]
    + [(31, 35), (32, 34), (36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)]
    + [(48, 54), (49, 53), (50, 52), (59, 55), (58, 56), (60, 64), (61, 63), (67, 65)]
)
MIDLINE = (8, 27, 28, 29, 30, 33, 51, 57, 62, 66)


def test_map_has_68_distinct_mesh_points():
    assert len(IBUG68) == 68 and len(set(IBUG68)) == 68 and max(IBUG68) < 468


def test_map_is_mirror_symmetric_and_in_ibug_order():
    xy = ibug68(frontal_template())
    for a, b in MIRROR:
        assert np.allclose(xy[a], xy[b] * [-1, 1], atol=1e-3), (a, b)
    assert np.abs(xy[list(MIDLINE), 0]).max() < 1e-3
    assert np.all(np.diff(xy[:9, 0]) > 0) and np.all(np.diff(xy[:9, 1]) > 0)  # jaw to chin
    assert np.all(np.diff(xy[27:31, 1]) > 0)  # bridge down to the tip
    assert xy[36, 0] < xy[39, 0] < xy[42, 0] < xy[45, 0]  # eye corners left to right
    assert xy[37, 1] < xy[41, 1] and xy[43, 1] < xy[47, 1]  # upper lid above lower
    assert xy[19, 1] < xy[37, 1]  # brow above the eye
    assert xy[51, 1] < xy[62, 1] < xy[66, 1] < xy[57, 1]  # lips top to bottom
