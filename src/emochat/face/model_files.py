"""Locate the .tflite models that the mediapipe 0.10.21 wheel ships, without importing it.

Importing mediapipe is slow and pulls jax; the LiteRT backend only needs the files.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

from emochat.core.errors import EmochatError

FACE_DETECTOR_FULL_RANGE = "face_detection/face_detection_full_range_sparse.tflite"
FACE_LANDMARK = "face_landmark/face_landmark.tflite"
IRIS_LANDMARK = "iris_landmark/iris_landmark.tflite"


@cache
def _modules_dir() -> Path:
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        raise EmochatError(None, "mediapipe==0.10.21 is not installed; it ships the face models")
    return Path(next(iter(spec.submodule_search_locations))) / "modules"


def model_path(relative: str) -> Path:
    """Absolute path of a model inside mediapipe/modules; a clear error if it is missing."""
    path = _modules_dir() / relative
    if not path.is_file():
        raise EmochatError(path, "face model missing (mediapipe 0.10.21 wheel expected)")
    return path
