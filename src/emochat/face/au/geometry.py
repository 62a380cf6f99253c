"""Measurements on pose-free landmarks and their mapping to AU intensities.

Pure array functions (any leading shape), so the online agent, the re-scoring in
``finalize`` and calibration all share one implementation of :mod:`.definitions`.
"""

from __future__ import annotations

import numpy as np

from emochat.face.au.definitions import ACTION_UNITS, MEASUREMENT_NAMES, MEASUREMENTS
from emochat.face.pose import Alignment, align

MAX_INTENSITY = 5.0
_POINTS = {m.name: list(m.landmarks) for m in MEASUREMENTS}
_INDEX = {name: i for i, name in enumerate(MEASUREMENT_NAMES)}


def frontal_landmarks(landmarks: np.ndarray) -> tuple[np.ndarray, Alignment]:
    """Pixel landmarks (478 x 3) in the template frame, and the fitted alignment."""
    alignment = align(landmarks)
    return alignment.to_frontal(landmarks.astype(np.float64)), alignment


def measure(frontal: np.ndarray) -> np.ndarray:
    """(..., 478, 3) frontal landmarks -> (..., n_measurements), in MEASUREMENT_NAMES order."""
    x, y, z = frontal[..., 0], frontal[..., 1], frontal[..., 2]

    def mean_y(name: str) -> np.ndarray:
        return y[..., _POINTS[name]].mean(-1)

    corners_y = y[..., [61, 291]].mean(-1)
    values = {
        "inner_brow_y": mean_y("inner_brow_y"),
        "outer_brow_y": mean_y("outer_brow_y"),
        "brow_gap": ((x[..., 285] - x[..., 55]) + (x[..., 336] - x[..., 107])) / 2,
        "upper_lid_y": mean_y("upper_lid_y"),
        "lower_lid_y": mean_y("lower_lid_y"),
        "eye_aperture": ((y[..., 145] - y[..., 159]) + (y[..., 374] - y[..., 386])) / 2,
        "cheek_y": mean_y("cheek_y"),
        "nose_wing_y": mean_y("nose_wing_y"),
        "upper_lip_y": mean_y("upper_lip_y"),
        "corner_vs_mouth": corners_y - (y[..., 0] + y[..., 17]) / 2,
        "mouth_width": x[..., 291] - x[..., 61],
        "corner_depth": z[..., [61, 291]].mean(-1),
        "lip_thickness": (y[..., 13] - y[..., 0]) + (y[..., 17] - y[..., 14]),
        "lip_gap": y[..., 14] - y[..., 13],
        "chin_y": mean_y("chin_y"),
        "lower_lip_y": mean_y("lower_lip_y"),
    }
    return np.stack([values[name] for name in MEASUREMENT_NAMES], axis=-1)


def _linear_part() -> tuple[np.ndarray, list[tuple[int, int, int, float]]]:
    linear = np.zeros((len(MEASUREMENT_NAMES), len(ACTION_UNITS)))
    rectified = []
    for a, au in enumerate(ACTION_UNITS):
        for term in au.terms:
            m = _INDEX[term.measurement]
            if term.max0:
                rectified.append((a, m, term.direction, term.weight))
            else:
                linear[m, a] += term.direction * term.weight
    return linear, rectified


_LINEAR, _RECTIFIED = _linear_part()
_UNITS = np.array([au.unit for au in ACTION_UNITS])
_DEAD_ZONES = np.array([au.dead_zone for au in ACTION_UNITS])


def intensities(
    measurements: np.ndarray, neutral: np.ndarray, uncertainty: np.ndarray | float = 0.0
) -> np.ndarray:
    """AU intensities 0-5 (..., 17) from measurements and the person's neutral ones.

    Changes within ``uncertainty`` of the neutral count as none (soft threshold), so a
    photo, judged against the population neutral, does not grade a face's build.
    """
    delta = measurements - neutral
    delta = np.sign(delta) * np.maximum(0.0, np.abs(delta) - uncertainty)
    raw = delta @ _LINEAR
    for a, m, direction, weight in _RECTIFIED:
        raw[..., a] += weight * np.maximum(0.0, direction * delta[..., m])
    return np.clip((raw - _DEAD_ZONES) / _UNITS, 0.0, MAX_INTENSITY)
