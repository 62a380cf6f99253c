"""AU Agent: facial action units from 3D landmarks, their events, and words for the reasoner."""

from emochat.core.action_units import AU_CODES, AU_LABELS
from emochat.face.au.agent import AUAgent, AUFrame
from emochat.face.au.analysis import FaceAnalysis, FaceSummary, analyze_faces
from emochat.face.au.definitions import ACTION_UNITS
from emochat.face.au.events import AUEvent
from emochat.face.au.micro import refine_micro
from emochat.face.au.openface_csv import openface_csv, write_openface_csv
from emochat.face.au.result import AUResult, AUTrack

__all__ = [
    "ACTION_UNITS",
    "AU_CODES",
    "AU_LABELS",
    "AUAgent",
    "AUEvent",
    "AUFrame",
    "AUResult",
    "AUTrack",
    "FaceAnalysis",
    "FaceSummary",
    "analyze_faces",
    "openface_csv",
    "refine_micro",
    "write_openface_csv",
]
