"""Face stage: detection, tracking with stable ids, 478 3D landmarks and head pose."""

from emochat.face.tracker import FaceTracker
from emochat.face.types import N_LANDMARKS, FaceObservation

__all__ = ["N_LANDMARKS", "FaceObservation", "FaceTracker"]
