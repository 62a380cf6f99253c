"""Run face tracking and the AU Agent over a frame stream, in bounded memory.

Only compact per-frame records are kept (time, box, confidence, pose, smoothed
measurements, AU intensities): never images or landmark sets of past frames.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from emochat.face.au.agent import AUAgent
from emochat.face.au.records import RowLog
from emochat.face.au.result import AUResult
from emochat.face.tracker import FaceTracker
from emochat.ingest import Frame


@dataclass(frozen=True)
class FaceSummary:
    face_id: int
    first_s: float
    last_s: float
    n_frames: int
    mean_confidence: float
    bbox: tuple[float, float, float, float] | None = None
    """Only for a face found but not read (``read`` False): its box, x y w h in pixels."""
    read: bool = True
    """False: a detector found the face (on a photo) but the face mesh could not read it
    (a profile, a face looking up, a small face): no landmarks, AUs or expression."""

    def to_dict(self) -> dict:
        d = asdict(self)
        for key in ("first_s", "last_s", "mean_confidence"):
            d[key] = round(float(d[key]), 3)
        if self.read:  # a read face's box is in its AU track, per frame
            del d["bbox"], d["read"]
        else:
            d["bbox"] = [round(float(v), 1) for v in self.bbox]
        return d


@dataclass(frozen=True, eq=False)
class FaceAnalysis:
    frames_processed: int
    faces: list[FaceSummary]
    au: AUResult
    frame_times: np.ndarray = field(default_factory=lambda: np.empty((0, 2)))
    """(frames_processed, 2): time and decoded-frame index of every processed frame."""
    frame_size: tuple[int, int] | None = None
    """Width and height of the analysed frames (pixels of every box and landmark)."""

    @property
    def face_frames(self) -> int:
        """Processed frames in which at least one face was found."""
        seen = set()
        for track in self.au.tracks.values():
            seen.update(track.frame_index.tolist())
        return len(seen)

    def to_report(self) -> dict:
        return {"faces": [f.to_dict() for f in self.faces], "au": self.au.to_dict(self.frame_size)}


def analyze_faces(
    frames: Iterable[Frame],
    tracker: FaceTracker | None = None,
    agent: AUAgent | None = None,
    progress: Callable[[float], None] | None = None,
) -> FaceAnalysis:
    """Track faces and grade their AUs frame by frame; ``progress(t_s)`` after each frame.

    Without a ``tracker``, a stream of exactly one frame (a photo) gets one in static-image
    mode, any longer stream one in video mode.
    """
    frames = iter(frames)
    head = list(itertools.islice(frames, 2))
    if tracker is None:
        tracker = FaceTracker(static_image_mode=len(head) == 1)
    agent = agent or AUAgent()
    frame_times = RowLog(2, np.float64)
    frame_size = (head[0].width, head[0].height) if head else None
    unread: list[FaceSummary] = []
    for frame in itertools.chain(head, frames):
        for obs in tracker.process(frame):
            agent.update(obs)
        unread += _unread_faces(tracker, frame)
        frame_times.append((frame.t_s, frame.index))
        if progress is not None:
            progress(frame.t_s)
    au = agent.finalize()
    faces = summarise(au)
    first_free = max((f.face_id for f in faces), default=-1) + 1
    faces += [replace(f, face_id=first_free + i) for i, f in enumerate(unread)]
    return FaceAnalysis(len(frame_times), faces, au, frame_times.to_array(), frame_size)


def _unread_faces(tracker, frame: Frame) -> list[FaceSummary]:
    """The photo's faces found but not read (FaceTracker.unread), ids given later."""
    return [
        FaceSummary(
            face_id=0,
            first_s=frame.t_s,
            last_s=frame.t_s,
            n_frames=1,
            mean_confidence=det.score,
            bbox=(
                float(det.box[0]),
                float(det.box[1]),
                float(det.box[2] - det.box[0]),
                float(det.box[3] - det.box[1]),
            ),
            read=False,
        )
        for det in getattr(tracker, "unread", ())
    ]


def summarise(au: AUResult) -> list[FaceSummary]:
    return [
        FaceSummary(
            face_id=face_id,
            first_s=float(track.t_s[0]),
            last_s=float(track.t_s[-1]),
            n_frames=len(track),
            mean_confidence=float(np.mean(track.confidence)),
        )
        for face_id, track in sorted(au.tracks.items())
        if len(track)
    ]
