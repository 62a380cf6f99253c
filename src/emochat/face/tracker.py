"""Face tracking: stable ids for several faces, landmarks, pose and confidence per frame.

Per frame, each live track's landmarks are re-fitted in the region its last landmarks
predict (cheap); the detector runs only when a face may be new: on the first frame,
when a track was lost, and every ``redetect_interval_s`` while fewer than
``max_faces`` are tracked. Such a look covers the whole frame and overlapping tiles
that find faces down to ``min_face_px`` high (detector.FaceDetector.find; by default
16 px on photos, 24 px on video): on a photo all of them, on video the next few of
the pyramid in turn, ``tiles_per_s`` per second of video, so the cost stays bounded. A new face first tries to revive a lost track: one lost within
``reacquire_within_s`` at the same place (a head turn, a hand over the face), else one
with a matching appearance signature, so a face that leaves and returns keeps its id.

A second, stronger detector looks at photos, first frames and every
``SECOND_INTERVAL_S`` of video (RetinaFace's faces from 12 px on photos, 16 on video):
RetinaFace (retinaface.py, trained on WIDER FACE) by default, MTCNN (mtcnn.py) on
request. A face it vouches for needs less of the mesh and no BlazeFace close-up
(profiles and up-turned faces, #22): see :data:`SECOND_DETECTORS`.

BlazeFace lifts a dark frame for itself (detector.brighten_if_dark); the mesh and the
second detector read it lifted too (detector.lift_for_reading, once per frame): with
only BlazeFace's input lifted, faces in frames darkened to 1/16 and 1/32 of their light
were found and then lost by the mesh (BENCHMARKS.md, "Dark frames"). Appearance
signatures and the shot-change test keep the frame as decoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from emochat.face.detector import (
    Detection,
    FaceDetector,
    confirm_face,
    lift_for_reading,
    pyramid_tiles,
)
from emochat.face.gaze import eye_gaze
from emochat.face.identity import appearance_signature, signature_distance
from emochat.face.landmarker import Landmarker, region_from_detection, region_from_landmarks
from emochat.face.mtcnn import MtcnnDetector
from emochat.face.pose import align
from emochat.face.retinaface import PHOTO_SCALES, RetinaFaceDetector
from emochat.face.types import FaceObservation
from emochat.ingest import Frame

_SAME_FACE_IOU = 0.5
# Hellinger distance (identity.py): one face across clips <= 0.18, two people in a photo >= 0.2
_REVIVE_MAX_DISTANCE = 0.2
_SIGNATURE_EVERY = 10  # frames between updates of a live track's signature
_CUT_DIFFERENCE = 35.0
"""Mean absolute grey-level change of a 32x18 thumbnail that marks a shot cut: within
a shot it stays under 12 at 10 fps and 21 at 2 fps; cuts in the test media give 75-145."""
_SPLIT_DISTANCE = 0.35  # a followed face whose appearance drifts this far is someone else
_STEADY_IOU = 0.5
"""A followed box overlapping its last one this much is the same head moving (a turn,
a hand, a change of light all shift the colours past _SPLIT_DISTANCE): never split."""
_REACQUIRE_IOU = 0.3  # a face found again this close to where a track was lost is that face
_REACQUIRE_MAX_DISTANCE = 0.5
"""Colour bar for taking back a track lost moments ago at the same place: different
people measured 0.2-0.79 apart (multi_face.jpg, the conversation clips), so colours
only veto plainly different faces; the place and the short gap carry the decision."""
PHOTO_MIN_FACE_PX = 16.0
VIDEO_MIN_FACE_PX = 24.0
"""Smallest face looked for by tiles. Each tile is one model run (~5 ms of CPU); video
sees 20 a second, so the pyramid of a 640x360 frame (26 tiles at 24 px; 71 at 16 px)
is covered every 1.3 s, of a 1280x720 one (144) every 7 s; a photo is looked at once,
so there the tiles go down to 16 px."""
_MIN_FOLLOW_IOU = 0.3  # a followed box that jumps further was a cut, not motion
NEW_FACE_PRESENCE = 0.9
NEW_FACE_CONFIRMATION = 0.7
"""Starting a track needs clearer evidence than keeping one: on no_face.mp4 and the
title card of noface_face.mov the detector fires at 0.5-0.7 on textures the mesh then
rates up to 0.998; re-detected in a close-up (detector.confirm_face, zoom 4) such boxes
on the talking clips, no_face, noface_face and single_face score at most 0.69, their
real faces 0.73-0.9 (a thin margin, chosen on those clips, not on the WIDER photos)."""
MTCNN_AGREE_SCORE = 0.7
"""MTCNN's faces are looked at from this O-Net score (MTCNN's own default final
threshold); below MTCNN_ALONE_SCORE only where BlazeFace found the same face too."""
MTCNN_ALONE_SCORE = 0.9
"""O-Net score from which an MTCNN face BlazeFace missed is taken up. A face MTCNN vouches
for (this, or BlazeFace and MTCNN agreeing) skips BlazeFace's close-up confirmation,
which profiles and up-turned faces fail, and needs only VOUCHED_PRESENCE of the mesh."""
VOUCHED_PRESENCE = 0.5
"""Mesh presence a face the second detector vouches for needs to be tracked and read
(BlazeFace's own need NEW_FACE_PRESENCE). A vouched-for face the mesh cannot read (a
profile, a face looking up or down, a small one) is still reported, by its box:
FaceTracker.unread."""
MTCNN_UNREAD_SCORE = 0.95
"""O-Net score from which a photo's MTCNN face that BlazeFace missed and the mesh cannot
read is still reported: nothing else checks it. On dlib's PASCAL test photos the
best-scoring MTCNN box on no face (a shirt) scores 0.949; chosen there, not on WIDER."""
PHOTO_MTCNN_MIN_FACE_PX = 12.0
"""Smallest face MTCNN looks for on a photo: its P-Net's own 12 px window."""
RETINAFACE_AGREE_SCORE = 0.5
"""RetinaFace's faces are looked at from this score (the score threshold of the frozen
graph it comes from); below RETINAFACE_SURE_SCORE only where BlazeFace found the face too."""
RETINAFACE_SURE_SCORE = 0.8
"""RetinaFace score from which a face BlazeFace missed is taken up (vouched for: no
close-up, mesh presence VOUCHED_PRESENCE) and, on a photo, reported by its box when the
mesh cannot read it. Chosen on dlib's PASCAL test photos, not on WIDER: its 25 faces
score 0.998-1.0, its best box on no face 0.604 (0.8 lies between, with room either
side); on no_face.mp4 and the talking clips at 1 frame/s the best box on no face
scores 0.073."""
SECOND_INTERVAL_S = 2.0
"""Video: seconds between the second detector's looks at the whole frame (RetinaFace:
~50 ms of CPU at 640x360, MTCNN ~30 ms; more than BlazeFace's whole look, so not at
every ``redetect_interval_s``); photos and first frames always get one."""


@dataclass(frozen=True)
class SecondDetector:
    """How the tracker uses a second detector's faces: ``look`` (the score from which
    they are considered at all: where BlazeFace agrees), ``alone`` (vouched for without
    BlazeFace), ``unread`` (a face the mesh cannot read is still reported by its box),
    ``photo_min_px`` (smallest face looked for on a photo) and ``video_min_px`` (on
    video, unless the tracker's ``min_face_px`` is smaller)."""

    look: float
    alone: float
    unread: float
    photo_min_px: float
    video_min_px: float


SECOND_DETECTORS = {
    # RetinaFace reads the whole frame in one run, so its cost does not grow as the
    # smallest face shrinks: on video it looks as small as the photo tiles (16 px; on the
    # WIDER photos held still as video, faces of 16-32 px found 0.26 -> 0.72, no false
    # face on the clips). MTCNN's image pyramid does grow: it keeps the video tiles' 24.
    "retinaface": SecondDetector(
        RETINAFACE_AGREE_SCORE, RETINAFACE_SURE_SCORE, RETINAFACE_SURE_SCORE, 12.0, 16.0
    ),
    "mtcnn": SecondDetector(
        MTCNN_AGREE_SCORE,
        MTCNN_ALONE_SCORE,
        MTCNN_UNREAD_SCORE,
        PHOTO_MTCNN_MIN_FACE_PX,
        VIDEO_MIN_FACE_PX,
    ),
}
"""The tracker's second detectors by name. RetinaFace is the default: on the four WIDER
val photos it finds 209 of 328 faces (35 of the 48 >= 32 px) at its sure score, against
MTCNN's 150 (31) at its, with no box on no face in dlib's photos (MTCNN: one). That
choice was made after seeing those photos, so they are not held out from it;
BENCHMARKS.md's face-detection section."""


@dataclass
class _Track:
    face_id: int
    landmarks: np.ndarray
    last_t: float
    signature: np.ndarray | None
    n_frames: int = 1
    lost_at_cut: bool = False  # a new shot's face at the same place is not this one
    box: np.ndarray = field(init=False)

    def __post_init__(self):
        self.box = _landmark_box(self.landmarks)


@dataclass
class _Candidate:
    landmarks: np.ndarray
    confidence: float
    track: _Track | None = None


class FaceTracker:
    """Track faces through a frame stream; call :meth:`process` once per frame, in order.

    Runs MediaPipe's full-range detector and mesh + iris models (vendored in
    ``emochat/models``) through LiteRT, and a second detector (``second_detector``:
    RetinaFace or MTCNN, onnxruntime) for the faces BlazeFace misses; faces found but not
    readable by the mesh are left in :attr:`unread` after each :meth:`process`.
    ``static_image_mode`` treats every frame as an unrelated photo (detect every time).
    """

    def __init__(
        self,
        max_faces: int = 4,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        *,
        static_image_mode: bool = False,
        redetect_interval_s: float = 0.5,
        tiles_per_s: float = 20.0,
        min_face_px: float | None = None,
        reacquire_within_s: float = 1.5,
        revive_within_s: float = 30.0,
        with_iris: bool = True,
        second_detector: str | None = "retinaface",
        num_threads: int = 2,
    ):
        """``second_detector``: a name in :data:`SECOND_DETECTORS`, or None for
        BlazeFace alone."""
        self.max_faces = max_faces
        self.min_tracking_confidence = min_tracking_confidence
        self.static_image_mode = static_image_mode
        self.redetect_interval_s = redetect_interval_s
        self.tiles_per_s = tiles_per_s
        if min_face_px is None:
            min_face_px = PHOTO_MIN_FACE_PX if static_image_mode else VIDEO_MIN_FACE_PX
        self.min_face_px = min_face_px
        self.reacquire_within_s = reacquire_within_s
        self.revive_within_s = revive_within_s
        self._detector = FaceDetector(min_detection_confidence, num_threads)
        if second_detector is not None and second_detector not in SECOND_DETECTORS:
            raise ValueError(
                f"second_detector {second_detector!r}: one of {sorted(SECOND_DETECTORS)} or None"
            )
        self._second_rules = SECOND_DETECTORS[second_detector] if second_detector else None
        self._second: MtcnnDetector | RetinaFaceDetector | None = None  # one thread each
        if second_detector == "retinaface":
            self._second = RetinaFaceDetector(self._second_rules.look)
        elif second_detector == "mtcnn":
            self._second = MtcnnDetector(self._second_rules.look)
        self._landmarker = Landmarker(with_iris=with_iris, num_threads=num_threads)
        self.reset()

    def reset(self) -> None:
        """Forget every track (the next frame is treated as the first)."""
        self._live: list[_Track] = []
        self._lost: list[_Track] = []
        self._next_id = 0
        self._last_detection_t: float | None = None
        self._last_tiling_t: float | None = None
        self._last_second_t: float | None = None
        self._tile_cursor = 0  # where in the pyramid's tiles the next look starts
        self._tile_credit = 0.0  # tiles owed to video time passed, not yet looked at
        self._thumbnail: np.ndarray | None = None
        self.left_out = 0
        """The most faces the second detector vouched for in one look that were not
        followed because ``max_faces`` already were (a lower bound: while at the limit on
        video, the tracker looks for no new face)."""
        self.unread: list[Detection] = []
        """Faces found in the last frame (by the second detector and BlazeFace, or by the
        second detector alone at its ``unread`` score) that the mesh could not read, so no
        landmarks, pose, AUs or expression; the second detector's box and score. On video
        only frames where the second detector looked (every ``SECOND_INTERVAL_S``) can
        hold any."""

    def process(self, frame: Frame) -> list[FaceObservation]:
        """Faces in this frame, sorted by id; call once per frame in time order."""
        if self._shot_changed(frame.rgb):
            for track in self._live:  # following across a cut lands on the wrong face
                track.lost_at_cut = True
            self._lost += self._live
            self._live = []
        return self._assign(frame, self._candidates(frame, lift_for_reading(frame.rgb)))

    # -- finding faces ---------------------------------------------------------------

    def _candidates(self, frame: Frame, seen: np.ndarray) -> list[_Candidate]:
        """Faces followed and found; ``seen`` is the frame as the mesh and the second
        detector read it (lifted when dark)."""
        found: list[_Candidate] = []
        self.unread = []
        if not self.static_image_mode:
            for track in self._live:
                pts, presence = self._landmarker.run(seen, region_from_landmarks(track.landmarks))
                moved_on = _iou(_landmark_box(pts), track.box) >= _MIN_FOLLOW_IOU
                if presence >= self.min_tracking_confidence and moved_on:
                    found.append(_Candidate(pts, presence, track))
        if not self._should_detect(frame.t_s, len(found)):
            return found
        self._last_detection_t = frame.t_s
        boxes = [_landmark_box(c.landmarks) for c in found]
        tiles = self._tiles_now(frame)
        blaze = self._detector.find(frame.rgb, tiles=tiles)
        rules = self._second_rules
        pairs = list(_with_second_opinion(blaze, self._second_now(frame.t_s, seen)))
        for k, (det, second) in enumerate(pairs):
            if len(found) >= self.max_faces:
                self._count_left_out(pairs[k:], boxes)
                break
            if _centre_in_any(det.box, boxes):
                continue
            agreed = second is not None and second is not det
            vouched = self._vouched(det, second)
            if second is det and not vouched:
                continue  # the second detector alone, unsure
            region = region_from_detection(det.box, det.keypoints)
            pts, presence = self._landmarker.run(seen, region)
            if presence >= self.min_tracking_confidence:
                # a second pass from the landmarks' own region: detector boxes are coarse
                pts, presence = self._landmarker.run(seen, region_from_landmarks(pts))
            if vouched:  # the mesh need only read it
                if presence < max(VOUCHED_PRESENCE, self.min_tracking_confidence):
                    if agreed or second.score >= rules.unread:
                        self._keep_unread(second, boxes, len(found))
                    continue
            elif presence < max(NEW_FACE_PRESENCE, self.min_tracking_confidence):
                continue
            elif confirm_face(self._detector, frame.rgb, det.box) < NEW_FACE_CONFIRMATION:
                continue
            found.append(_Candidate(pts, presence))
            boxes.append(_landmark_box(pts))
        self.unread = [u for u in self.unread if not _centre_in_any(u.box, boxes)]
        self._trim_unread(len(found))
        return found

    def _trim_unread(self, n_read: int) -> None:
        """At most ``max_faces`` faces at once, read or not: box-only faces kept while
        fewer were known give way, lowest score first, to the faces read after them (and
        count as left out)."""
        room = max(self.max_faces - n_read, 0)
        if len(self.unread) > room:
            self.left_out = max(self.left_out, len(self.unread) - room)
            self.unread = sorted(self.unread, key=lambda d: -d.score)[:room]

    def _vouched(self, det: Detection, second: Detection | None) -> bool:
        """Whether the second detector vouches for ``det``: it found the face together
        with BlazeFace, or alone at its ``alone`` score."""
        return second is not None and (
            second is not det or second.score >= self._second_rules.alone
        )

    def _count_left_out(self, pairs, boxes: list[np.ndarray]) -> None:
        """Note how many faces the second detector vouches for (alone or with BlazeFace)
        were not looked at because ``max_faces`` were already followed."""
        n = sum(
            self._vouched(det, second) and not _centre_in_any(det.box, boxes)
            for det, second in pairs
        )
        self.left_out = max(self.left_out, n)

    def _keep_unread(self, det: Detection, boxes: list[np.ndarray], n_read: int) -> None:
        """A vouched-for face the mesh cannot read: reported by its box alone."""
        if n_read + len(self.unread) >= self.max_faces:
            self.left_out = max(self.left_out, 1)
            return
        if _centre_in_any(det.box, boxes + [u.box for u in self.unread]):
            return
        self.unread.append(det)

    def _second_now(self, t_s: float, rgb: np.ndarray) -> list[Detection]:
        """The second detector's faces in ``rgb`` on a photo, a first frame, or every
        ``SECOND_INTERVAL_S`` of video."""
        if self._second is None:
            return []
        last = self._last_second_t
        due = last is None or t_s < last or t_s - last >= SECOND_INTERVAL_S
        if not (self.static_image_mode or due):
            return []
        self._last_second_t = t_s
        rules = self._second_rules
        floor = min(
            self.min_face_px, rules.photo_min_px if self.static_image_mode else rules.video_min_px
        )
        if isinstance(self._second, RetinaFaceDetector):
            scales = PHOTO_SCALES if self.static_image_mode else (1.0,)
            return self._second.find_views(rgb, floor, scales)
        return self._second.find(rgb, floor)

    def _shot_changed(self, rgb: np.ndarray) -> bool:
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        thumb = cv2.resize(grey, (32, 18), interpolation=cv2.INTER_AREA).astype(np.float32)
        before, self._thumbnail = self._thumbnail, thumb
        return before is not None and float(np.abs(thumb - before).mean()) > _CUT_DIFFERENCE

    def _should_detect(self, t_s: float, n_followed: int) -> bool:
        if self.static_image_mode or n_followed < len(self._live) or not self._live:
            return True
        if n_followed >= self.max_faces:
            return False
        last = self._last_detection_t
        return last is None or t_s - last >= self.redetect_interval_s or t_s < last

    def _tiles_now(self, frame: Frame) -> list:
        """The tiles to look at now: all on a photo or a first frame, else those owed
        since the last look at ``tiles_per_s``, taken in turn round the pyramid."""
        h, w = frame.rgb.shape[:2]
        tiles = pyramid_tiles(w, h, self.min_face_px)
        last, self._last_tiling_t = self._last_tiling_t, frame.t_s
        if self.static_image_mode or last is None or frame.t_s < last or not tiles:
            return tiles
        self._tile_credit = min(
            self._tile_credit + (frame.t_s - last) * self.tiles_per_s, float(len(tiles))
        )
        owed = int(self._tile_credit)
        self._tile_credit -= owed
        start = self._tile_cursor % len(tiles)
        self._tile_cursor = start + owed
        return [tiles[(start + i) % len(tiles)] for i in range(owed)]

    # -- ids ---------------------------------------------------------------------------

    def _assign(self, frame: Frame, candidates: list[_Candidate]) -> list[FaceObservation]:
        candidates = _drop_duplicates(candidates)[: self.max_faces]
        unclaimed = [t for t in self._live if not any(c.track is t for c in candidates)]
        observations, live = [], []
        for cand in candidates:
            alignment = align(cand.landmarks)
            track = cand.track or _claim_by_overlap(cand.landmarks, unclaimed)
            signature = appearance_signature(frame.rgb, cand.landmarks)  # ~0.1 ms
            steady = (
                track is not None and _iou(_landmark_box(cand.landmarks), track.box) >= _STEADY_IOU
            )
            if track is not None and not steady and _looks_like_someone_else(track, signature):
                track = None  # the region slid onto another face (a cut): not this track
            if track is None:
                track = (
                    self._reacquire(cand.landmarks, signature, frame.t_s)
                    or self._revive(signature, frame.t_s)
                    or self._new_track(cand, signature)
                )
            else:
                track.n_frames += 1
                if track.n_frames % _SIGNATURE_EVERY == 0:
                    _refresh_signature(track, signature)
            track.landmarks, track.last_t = cand.landmarks, frame.t_s
            track.lost_at_cut = False
            track.box = _landmark_box(cand.landmarks)
            live.append(track)
            pitch, yaw, roll = alignment.euler_deg()
            x0, y0, x1, y1 = (float(v) for v in track.box)
            observations.append(
                FaceObservation(
                    frame_index=frame.index,
                    t_s=frame.t_s,
                    face_id=track.face_id,
                    bbox=(x0, y0, x1 - x0, y1 - y0),
                    confidence=float(np.clip(cand.confidence, 0.0, 1.0)),
                    landmarks=cand.landmarks,
                    yaw=yaw,
                    pitch=pitch,
                    roll=roll,
                    gaze=eye_gaze(cand.landmarks, alignment),
                )
            )
        lost_now = [t for t in self._live if t not in live]
        self._lost = [
            t for t in self._lost + lost_now if frame.t_s - t.last_t <= self.revive_within_s
        ]
        self._live = live
        return sorted(observations, key=lambda o: o.face_id)

    def _reacquire(
        self, landmarks: np.ndarray, signature: np.ndarray | None, t_s: float
    ) -> _Track | None:
        """The track lost moments ago where this face is, unless it plainly looks different.

        A turned or covered face changes its colour signature more than _REVIVE_MAX_DISTANCE
        allows, so for a short gap the place counts (_REACQUIRE_MAX_DISTANCE).
        """
        box = _landmark_box(landmarks)
        best, best_iou = None, _REACQUIRE_IOU
        for track in self._lost:
            if track.lost_at_cut or not 0 <= t_s - track.last_t <= self.reacquire_within_s:
                continue
            if _distance(track, signature) > _REACQUIRE_MAX_DISTANCE:
                continue
            iou = _iou(box, track.box)
            if iou > best_iou:
                best, best_iou = track, iou
        if best is not None:
            self._lost.remove(best)
        return best

    def _revive(self, signature: np.ndarray | None, t_s: float) -> _Track | None:
        """The recently lost track whose appearance matches, if any: same face back."""
        if signature is None:
            return None
        best, best_d = None, _REVIVE_MAX_DISTANCE
        for track in self._lost:
            if track.signature is None:
                continue
            d = signature_distance(signature, track.signature)
            if d < best_d and 0 <= t_s - track.last_t <= self.revive_within_s:
                best, best_d = track, d
        if best is not None:
            self._lost.remove(best)
        return best

    def _new_track(self, cand: _Candidate, signature: np.ndarray | None) -> _Track:
        track = _Track(self._next_id, cand.landmarks, 0.0, signature)
        self._next_id += 1
        return track


def _with_second_opinion(blaze: list[Detection], second: list[Detection]):
    """(detection, the second detector's detection of that face or None): BlazeFace's
    first, each with the second's box it overlaps at IoU >= 0.3, then the second's own
    that BlazeFace missed."""
    used = np.zeros(len(second), dtype=bool)
    out: list[tuple[Detection, Detection | None]] = []
    for det in blaze:
        ious = np.array([_iou(det.box, m.box) for m in second])
        j = int(ious.argmax()) if len(ious) else -1
        if j >= 0 and ious[j] >= 0.3 and not used[j]:
            used[j] = True
            out.append((det, second[j]))
        else:
            out.append((det, None))
    return out + [(m, m) for m, u in zip(second, used, strict=True) if not u]


def _distance(track: _Track, signature: np.ndarray | None) -> float:
    """Colour distance to the track's signature; 0 when either is unknown."""
    if signature is None or track.signature is None:
        return 0.0
    return signature_distance(signature, track.signature)


def _looks_like_someone_else(track: _Track, signature: np.ndarray | None) -> bool:
    return _distance(track, signature) > _SPLIT_DISTANCE


def _refresh_signature(track: _Track, signature: np.ndarray | None) -> None:
    if signature is None:
        return
    if track.signature is None:
        track.signature = signature
    else:  # running blend, renormalised (signatures are unit vectors)
        blended = 0.8 * track.signature + 0.2 * signature
        track.signature = blended / max(np.linalg.norm(blended), 1e-9)


def _landmark_box(landmarks: np.ndarray) -> np.ndarray:
    xy = landmarks[:468, :2]
    return np.concatenate([xy.min(0), xy.max(0)]).astype(np.float64)


def _inside(point: np.ndarray, box: np.ndarray) -> bool:
    return bool(box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3])


def _centre_in_any(box: np.ndarray, boxes) -> bool:
    """Whether ``box``'s centre lies inside any of ``boxes`` (corners x0 y0 x1 y1): the
    same face as one already followed or kept."""
    centre = (box[:2] + box[2:]) / 2
    return any(_inside(centre, b) for b in boxes)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _drop_duplicates(candidates: list[_Candidate]) -> list[_Candidate]:
    """Two regions that converged on one face: keep the older track, else the likelier."""
    ordered = sorted(candidates, key=lambda c: (c.track is None, -c.confidence))
    kept: list[_Candidate] = []
    for cand in ordered:
        box = _landmark_box(cand.landmarks)
        if all(_iou(box, _landmark_box(k.landmarks)) < _SAME_FACE_IOU for k in kept):
            kept.append(cand)
    return kept


def _claim_by_overlap(landmarks: np.ndarray, unclaimed: list[_Track]) -> _Track | None:
    """A detected face whose track lost it this frame: the live track it overlaps most."""
    box = _landmark_box(landmarks)
    best, best_iou = None, 0.3
    for track in unclaimed:
        iou = _iou(box, track.box)
        if iou > best_iou:
            best, best_iou = track, iou
    if best is not None:
        unclaimed.remove(best)
    return best
