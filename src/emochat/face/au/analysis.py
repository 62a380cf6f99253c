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
    """False: a detector found the face but the face mesh could not read it (a profile, a
    face looking up or down, a small face): no landmarks, AUs or expression. On video
    ``n_frames`` counts the second detector's sightings of it (one look every 2 s)."""

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
    faces_left_out: int = 0
    """Faces found but not followed because the tracker's ``max_faces`` were (at least)."""

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
    unread = UnreadFaces()
    for frame in itertools.chain(head, frames):
        for obs in tracker.process(frame):
            agent.update(obs)
        unread.add(frame.t_s, getattr(tracker, "unread", ()))
        frame_times.append((frame.t_s, frame.index))
        if progress is not None:
            progress(frame.t_s)
    au = agent.finalize()
    faces = summarise(au)
    first_free = max((f.face_id for f in faces), default=-1) + 1
    boxes_only = unread.summaries(au if len(frame_times) > 1 else None)
    faces += [replace(f, face_id=first_free + i) for i, f in enumerate(boxes_only)]
    return FaceAnalysis(
        len(frame_times),
        faces,
        au,
        frame_times.to_array(),
        frame_size,
        getattr(tracker, "left_out", 0),
    )


UNREAD_SAME_FACE_IOU = 0.3
"""Two sightings of a face the mesh cannot read, overlapping this much, are one face."""
UNREAD_GAP_S = 5.0
"""Longest gap between two sightings of one such face: on video the second detector
looks every 2 s, so one look may miss it."""


def iou_xywh(a, b) -> float:
    """Intersection over union of two boxes given as x, y, w, h."""
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


class UnreadFaces:
    """Faces found but not read by the mesh (FaceTracker.unread), gathered over frames.

    On a photo each is one face. On video the second detector sees the same face at every
    look; a sighting joins the face last seen within :data:`UNREAD_GAP_S` at an IoU of
    :data:`UNREAD_SAME_FACE_IOU`, and a face that a read track covers at one of its
    sightings (the mesh read it before or after) is left out: it is in the report already.
    """

    def __init__(self):
        self._faces: list[list[tuple[float, tuple[float, ...], float]]] = []

    def add(self, t_s: float, detections) -> None:
        joined: set[int] = set()
        for det in detections:
            x0, y0, x1, y1 = (float(v) for v in det.box)
            sighting = (t_s, (x0, y0, x1 - x0, y1 - y0), float(det.score))
            same = [
                i
                for i, face in enumerate(self._faces)
                if i not in joined
                and face[-1][0] < t_s <= face[-1][0] + UNREAD_GAP_S
                and iou_xywh(face[-1][1], sighting[1]) >= UNREAD_SAME_FACE_IOU
            ]
            if same:
                i = max(same, key=lambda k: iou_xywh(self._faces[k][-1][1], sighting[1]))
                self._faces[i].append(sighting)
                joined.add(i)
            else:
                self._faces.append([sighting])
                joined.add(len(self._faces) - 1)

    def summaries(self, read: AUResult | None) -> list[FaceSummary]:
        """One box-only FaceSummary per face (ids given later), its box the best-scoring
        sighting's; ``read``: the read tracks to leave out what they cover (None: none)."""
        out = []
        for face in self._faces:
            if read is not None and any(_covered(read, t, box) for t, box, _ in face):
                continue
            best = max(face, key=lambda s: s[2])
            out.append(
                FaceSummary(
                    face_id=0,
                    first_s=face[0][0],
                    last_s=face[-1][0],
                    n_frames=len(face),
                    mean_confidence=float(np.mean([s[2] for s in face])),
                    bbox=best[1],
                    read=False,
                )
            )
        return out


def _covered(read: AUResult, t_s: float, box, within_s: float = UNREAD_GAP_S / 2) -> bool:
    """Whether a read track has a box overlapping ``box`` within ``within_s`` of ``t_s``
    (the mesh read the face at the next or the last look of the second detector)."""
    for track in read.tracks.values():
        times = np.asarray(track.t_s, dtype=float)
        if times.size == 0:
            continue
        j = int(np.argmin(np.abs(times - t_s)))
        if abs(times[j] - t_s) <= within_s and (
            iou_xywh(np.asarray(track.bbox[j], float), box) >= UNREAD_SAME_FACE_IOU
        ):
            return True
    return False


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
