"""Face detection recall by face size on real photos, and false faces on real clips (#22).

    python bench/bench_face_detection.py [--min-face 16] [--confidence 0.5] [--max-faces 256]

Recall: on the four WIDER FACE val photos in media/faces-wild (wider_val_boxes.json) and
dlib's PASCAL test photos (faces-wild/dlib/testing.xml); a ground-truth box counts as
found when a detection overlaps it at IoU >= 0.3 (greedy, larger faces first, each
detection used once). Six finders: BlazeFace's ``FaceDetector.find`` (whole frame +
tiles), MTCNN alone (O-Net >= 0.9, from 16 px), RetinaFace alone (score >= 0.8, boxes
from 12 px, at two scales as is and mirrored: as the tracker runs it on a photo; on video it reads
one scale, as is and mirrored), and the face stage's tracker on each
photo (static_image_mode, up to ``--max-faces``; RetinaFace its second detector): the
faces it tracks (read by the mesh: landmarks, AUs, expression), and those plus the
faces it reports found but not read (FaceTracker.unread: what report.json's ``faces``
lists), and the same on video: each photo held still for 4.5 s at 10 frames/s through
the video face stage (``analyze_faces``; read tracks and box-only faces, as a video's
report lists them). ``--only NAME`` (repeatable) runs only those finders and/or "false faces".
False faces: the face stage's tracker at 10 frames/s on no_face.mp4 (nothing to find),
the one-person talking clips and the clips where one man enters or leaves; every face
beyond the first in those, read or reported by its box only, is counted as false (each
shows one person, checked by eye).
The WIDER photos chose the tile pyramid step, MTCNN over OpenCV's res10 SSD and
RetinaFace over MTCNN (BENCHMARKS.md); the score thresholds of MTCNN and RetinaFace
come from dlib's photos and the clips.
"""

from __future__ import annotations

import argparse
import json
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
from common import row

from emochat.core.settings import media_root
from emochat.face import FaceTracker
from emochat.face.au.analysis import analyze_faces
from emochat.face.detector import FaceDetector
from emochat.face.mtcnn import MtcnnDetector
from emochat.face.retinaface import PHOTO_SCALES, RetinaFaceDetector
from emochat.face.tracker import RETINAFACE_SURE_SCORE, SECOND_DETECTORS
from emochat.ingest import Frame, iter_frames

FINDERS = (
    "detector",
    "MTCNN",
    "RetinaFace",
    "face stage, read faces",
    "face stage, all faces",
    "face stage on video, all faces",
)
MATCH_IOU = 0.3
SIZE_BINS = ((0, 16), (16, 32), (32, 10_000))


def wider_truth(root: Path) -> dict[Path, np.ndarray]:
    boxes = json.loads((root / "wider_val_boxes.json").read_text())["boxes"]
    return {root / name: _corners(b) for name, b in boxes.items()}


def dlib_truth(root: Path) -> dict[Path, np.ndarray]:
    truth = {}
    for image in ET.parse(root / "testing.xml").getroot().iter("image"):
        boxes = [
            [int(b.get(k)) for k in ("left", "top", "width", "height")]
            for b in image.iter("box")
            if b.get("ignore") != "1"
        ]
        truth[root / image.get("file")] = _corners(boxes)
    return truth


def _corners(xywh) -> np.ndarray:
    a = np.asarray(xywh, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([a[:, :2], a[:, :2] + a[:, 2:]], axis=1)


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    lo, hi = np.maximum(box[:2], boxes[:, :2]), np.minimum(box[2:], boxes[:, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=1)
    area = lambda b: np.prod(b[..., 2:] - b[..., :2], axis=-1)  # noqa: E731
    return inter / (area(box) + area(boxes) - inter)


def match(truth: np.ndarray, found: np.ndarray) -> tuple[np.ndarray, int]:
    """Which truth boxes are found, and how many detections matched nothing."""
    hit, used = np.zeros(len(truth), bool), np.zeros(len(found), bool)
    for i in np.argsort(-(truth[:, 3] - truth[:, 1])):
        if not len(found):
            break
        overlap = np.where(used, 0.0, _iou(truth[i], found))
        j = int(overlap.argmax())
        if overlap[j] >= MATCH_IOU:
            hit[i], used[j] = True, True
    return hit, int((~used).sum())


def detector_boxes(detector: FaceDetector, min_face: float):
    return lambda rgb: np.array([d.box for d in detector.find(rgb, min_face)])


def mtcnn_boxes(detector: MtcnnDetector, min_face: float):
    return lambda rgb: np.array([d.box for d in detector.find(rgb, min_face)])


def retinaface_boxes(detector: RetinaFaceDetector, min_face: float):
    return lambda rgb: np.array([d.box for d in detector.find_views(rgb, min_face, PHOTO_SCALES)])


def tracker_boxes(tracker: FaceTracker, with_unread: bool = True):
    """The faces the report gets: those tracked (read by the mesh) and, unless
    ``with_unread`` is False, those found but not read (FaceTracker.unread)."""

    def find(rgb: np.ndarray) -> np.ndarray:
        faces = tracker.process(Frame(0, 0.0, rgb))
        boxes = [(x, y, x + w, y + h) for x, y, w, h in (o.bbox for o in faces)]
        if with_unread:
            boxes += [tuple(d.box) for d in tracker.unread]
        return np.array(boxes)

    return find


def video_boxes(max_faces: int, seconds: float = 4.5, fps: float = 10.0):
    """The faces a video's report gets when the photo is held still for ``seconds``
    (video mode: the second detector looks every 2 s, BlazeFace's tiles in turn): each
    read track's median box and each box-only face's box."""

    def find(rgb: np.ndarray) -> np.ndarray:
        frames = [Frame(i, i / fps, rgb) for i in range(int(seconds * fps))]
        analysis = analyze_faces(frames, tracker=FaceTracker(max_faces))
        boxes = [np.median(np.asarray(t.bbox, float), axis=0) for t in analysis.au.tracks.values()]
        boxes += [np.asarray(f.bbox, float) for f in analysis.faces if not f.read]
        return _corners(boxes) if boxes else np.empty((0, 4))

    return find


def recall(find, truth: dict[Path, np.ndarray]) -> str:
    """Recall overall and by face height, for ``find``: RGB image -> (N, 4) boxes."""
    heights, hits, unmatched, seconds = [], [], 0, 0.0
    for path, boxes in truth.items():
        rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        start = time.perf_counter()
        found = find(rgb).reshape(-1, 4)
        seconds += time.perf_counter() - start
        hit, extra = match(boxes, found)
        heights.append(boxes[:, 3] - boxes[:, 1])
        hits.append(hit)
        unmatched += extra
    h, hit = np.concatenate(heights), np.concatenate(hits)
    parts = [f"all {hit.mean():.2f} ({hit.sum()}/{len(hit)})"]
    for lo, hi in SIZE_BINS:
        sel = (h >= lo) & (h < hi)
        if sel.any():
            parts.append(
                f"{lo}-{hi if hi < 10_000 else ''} px {hit[sel].mean():.2f} ({hit[sel].sum()}/{sel.sum()})"
            )
    parts.append(f"unmatched detections {unmatched}; {seconds / len(truth):.2f} s/photo")
    return ", ".join(parts)


def false_faces(clips: list[Path]) -> str:
    """Extra faces (beyond the one person), read or box-only, and frames with more than
    one read face."""
    extra_ids, extra_frames, seconds = 0, 0, 0.0
    per_clip = []
    for clip in clips:
        # the video defaults: tiles down to 24 px, faces the mesh cannot read by their box
        analysis = analyze_faces(iter_frames(clip, fps=10), tracker=FaceTracker(max_faces=8))
        frames = np.concatenate(
            [np.asarray(t.frame_index) for t in analysis.au.tracks.values()] or [np.empty(0)]
        )
        extra_frames += int((np.unique(frames, return_counts=True)[1] > 1).sum())
        allowed = 0 if clip.name.startswith("no_face") else 1
        extra_ids += max(0, len(analysis.faces) - allowed)
        seconds += float(analysis.frame_times[-1, 0]) if len(analysis.frame_times) else 0.0
        unread = sum(not f.read for f in analysis.faces)
        per_clip.append(
            f"{clip.stem} {len(analysis.faces)}" + (f" ({unread} box only)" if unread else "")
        )
    per_min = extra_ids / max(seconds, 1e-9) * 60
    return (
        f"{extra_ids} false faces in {seconds:.0f} s ({per_min:.1f}/min), "
        f"{extra_frames} frames with >1 face; faces per clip: {', '.join(per_clip)}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-face", type=float, default=16.0, help="smallest face on photos, px")
    parser.add_argument("--confidence", type=float, default=0.5)
    parser.add_argument("--max-faces", type=int, default=256, help="the tracker's, on photos")
    parser.add_argument(
        "--only", action="append", choices=FINDERS + ("false faces",), help="run only these"
    )
    args = parser.parse_args(argv)
    only = set(args.only or FINDERS + ("false faces",))
    media = media_root()
    makers = {
        "detector": lambda: detector_boxes(FaceDetector(args.confidence, 2), args.min_face),
        "MTCNN": lambda: mtcnn_boxes(MtcnnDetector(), args.min_face),
        "RetinaFace": lambda: retinaface_boxes(  # as the tracker runs it on a photo
            RetinaFaceDetector(RETINAFACE_SURE_SCORE),
            min(args.min_face, SECOND_DETECTORS["retinaface"].photo_min_px),
        ),
        "face stage, read faces": lambda: tracker_boxes(
            FaceTracker(
                args.max_faces, args.confidence, static_image_mode=True, min_face_px=args.min_face
            ),
            with_unread=False,
        ),
        "face stage, all faces": lambda: tracker_boxes(
            FaceTracker(
                args.max_faces, args.confidence, static_image_mode=True, min_face_px=args.min_face
            )
        ),
        "face stage on video, all faces": lambda: video_boxes(args.max_faces),
    }
    wild = media / "faces-wild"
    for name in FINDERS:
        if name not in only:
            continue
        find = makers[name]()
        print(row(f"WIDER faces-wild, {name}: " + recall(find, wider_truth(wild))))
        print(row(f"dlib PASCAL test, {name}: " + recall(find, dlib_truth(wild / "dlib"))))
    if "false faces" in only:
        talking = sorted((media / "talking").glob("*.mp4"))
        clips = [
            media / "no_face.mp4",
            *talking,
            media / "noface_face.mov",
            media / "face_noface.mov",
        ]
        print(row("false faces (tracker, 10 fps): " + false_faces(clips)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
