"""Build the frontal neutral template that :mod:`emochat.face.pose` aligns faces to.

Generalised Procrustes over many neutral faces, turned to face the camera upright,
mirrored to left-right symmetry and scaled to unit outer-eye-corner distance. Run
through :mod:`emochat.train.au_calibration`; the result ships as ``frontal_template.npz``.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from emochat.face.pose import RIGID_POINTS, fit_similarity

# (image-left, image-right) pairs that fix the template's x axis
_AXIS_PAIRS = ((33, 263), (133, 362), (234, 454), (127, 356), (70, 300), (61, 291))
_FOREHEAD, _CHIN = 10, 152
_OUTER_EYE = (33, 263)
_IRIS_PAIRS = ((468, 473), (469, 476), (470, 475), (471, 474), (472, 477))


def generalised_procrustes(shapes: np.ndarray, iterations: int = 5) -> np.ndarray:
    """Mean shape of ``shapes`` (N x 478 x 3) after rigid alignment on the rigid points."""
    idx = list(RIGID_POINTS)
    mean = shapes[0].astype(np.float64)
    for _ in range(iterations):
        aligned = []
        for shape in shapes:
            fit = fit_similarity(mean[idx], shape[idx].astype(np.float64))
            aligned.append(fit.to_frontal(shape.astype(np.float64)))
        mean = np.median(np.stack(aligned), axis=0)
    return mean


def upright_frontal(shape: np.ndarray) -> np.ndarray:
    """Rotate so the eyes lie along +x, forehead-to-chin along +y (down), z away; centred."""
    x = np.mean([shape[b] - shape[a] for a, b in _AXIS_PAIRS], axis=0)
    x /= np.linalg.norm(x)
    y = shape[_CHIN] - shape[_FOREHEAD]
    y -= x * (y @ x)
    y /= np.linalg.norm(y)
    z = np.cross(x, y)
    out = (shape - shape[list(RIGID_POINTS)].mean(0)) @ np.stack([x, y, z], axis=1)
    return out / np.linalg.norm(out[_OUTER_EYE[1]] - out[_OUTER_EYE[0]])


def mirror_map(shape: np.ndarray) -> np.ndarray:
    """For each landmark, the index of its left-right counterpart (itself on the midline).

    The mesh is a one-to-one assignment on the mirrored shape; the irises are paired by
    their known order (centre, then contour points; mirroring swaps the horizontal two).
    """
    mirrored = shape[:468] * np.array([-1.0, 1.0, 1.0])
    d = np.linalg.norm(shape[:468, None, :] - mirrored[None, :, :], axis=2)
    partner = np.arange(len(shape))
    partner[:468] = linear_sum_assignment(d)[1]
    for a, b in _IRIS_PAIRS:
        partner[a], partner[b] = b, a
    return partner


def symmetrise(shape: np.ndarray) -> np.ndarray:
    """Average each point with its mirrored counterpart; midline points get x = 0."""
    partner = mirror_map(shape)
    flipped = shape[partner] * np.array([-1.0, 1.0, 1.0])
    return (shape + flipped) / 2


def build_template(shapes: np.ndarray) -> np.ndarray:
    """Frontal, symmetric, unit-scale neutral template from N x 478 x 3 landmark sets."""
    template = symmetrise(upright_frontal(generalised_procrustes(shapes)))
    return upright_frontal(template).astype(np.float32)
