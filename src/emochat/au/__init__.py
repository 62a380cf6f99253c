"""AU Agent: facial action units from 3D landmarks, their events, and words for the reasoner."""

from emochat.au.agent import AUAgent, AUFrame
from emochat.au.analysis import FaceAnalysis, FaceSummary, analyze_faces
from emochat.au.definitions import ACTION_UNITS, AU_CODES, AU_LABELS
from emochat.au.events import AUEvent
from emochat.au.openface_csv import openface_csv, write_openface_csv
from emochat.au.result import AUResult, AUTrack

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
    "write_openface_csv",
]
