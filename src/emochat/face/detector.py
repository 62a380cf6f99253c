"""BlazeFace full-range face detector (MediaPipe's model, vendored) run through LiteRT.

Full range rather than short range because group photos hold small faces: on
multi_face.jpg the short-range model (what mediapipe's FaceMesh uses) finds 1-3 of 5.
Decoding follows mediapipe's face_detection_full_range graph: 48x48 fixed-size
anchors, scores through a sigmoid, weighted non-maximum suppression.

The model sees the frame squeezed into 192x192, where a 30 px face of a 1024 px photo
is 6 px and never found; :meth:`FaceDetector.find` therefore also runs it on
overlapping tiles (an image pyramid) so that the smallest face wanted fills at least
1/8 of a tile, and merges all levels by weighted suppression. Dark frames are
lifted by a gamma curve for the detector only.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from emochat.face.runtime import load_interpreter
from emochat.models import registry

INPUT_SIZE = 192
_GRID = 48
_NMS_IOU = 0.3
TILE_PER_FACE = 8
"""Tile side per pixel of the smallest face wanted: the model finds faces down to about
1/12 of its input (16-32 px faces in 192 px tiles of WIDER's marching band: 62 of 62)."""
_PYRAMID_STEP = 1.5
"""Tile side ratio between levels: x2 finds 14 of WIDER's 48 faces >= 32 px, x1.5 finds 18."""
_TILE_OVERLAP = 0.5  # a face under half a tile lies whole in some tile
_EDGE_PX = 2  # a box this close to a tile's inner border is a cut face, found whole elsewhere
DARK_LUMA = 60.0
"""Mean grey level below which a frame is brightened before detection."""


@dataclass(frozen=True)
class Detection:
    """A face box (x0, y0, x1, y1) and 6 keypoints in pixels; keypoint 0 and 1 are the eyes
    on the image's left and right."""

    box: np.ndarray
    keypoints: np.ndarray
    score: float


def _anchors() -> np.ndarray:
    centers = (np.arange(_GRID, dtype=np.float32) + 0.5) / _GRID
    ys, xs = np.meshgrid(centers, centers, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def weighted_nms(boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray):
    """Blend overlapping candidates by score (mediapipe's WEIGHTED suppression)."""
    order = np.argsort(-scores)
    boxes, keypoints, scores = boxes[order], keypoints[order], scores[order]
    remaining = np.ones(len(scores), dtype=bool)
    out = []
    for i in range(len(scores)):
        if not remaining[i]:
            continue
        group = remaining & (_iou(boxes[i], boxes) > _NMS_IOU)
        remaining &= ~group
        w = scores[group][:, None]
        out.append(
            (
                (boxes[group] * w).sum(0) / w.sum(),
                (keypoints[group] * w[:, :, None]).sum(0) / w.sum(),
                float(scores[i]),
            )
        )
    return out


class FaceDetector:
    """Find faces in an RGB frame; boxes come back in the frame's pixels."""

    def __init__(self, min_confidence: float = 0.5, num_threads: int = 2):
        self.min_confidence = min_confidence
        self._net = load_interpreter(registry.existing_file("face_detector"), num_threads)
        inputs = self._net.get_input_details()
        outputs = sorted(self._net.get_output_details(), key=lambda o: o["shape"][-1])
        self._input = inputs[0]["index"]
        self._scores, self._regressors = outputs[0]["index"], outputs[1]["index"]
        self._anchors = _anchors()

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        tensor, scale, pad = _letterbox(rgb, INPUT_SIZE)
        self._net.set_tensor(self._input, tensor)
        self._net.invoke()
        logits = self._net.get_tensor(self._scores)[0, :, 0]
        keep = logits > np.log(self.min_confidence / (1.0 - self.min_confidence))
        if not keep.any():
            return []
        raw = self._net.get_tensor(self._regressors)[0][keep] / INPUT_SIZE
        anchors = self._anchors[keep]
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits[keep], -100, 100)))
        centers = raw[:, :2] + anchors
        half = raw[:, 2:4] / 2
        boxes = np.concatenate([centers - half, centers + half], axis=1)
        keypoints = raw[:, 4:16].reshape(-1, 6, 2) + anchors[:, None, :]
        found = []
        for box, kps, score in weighted_nms(boxes, keypoints, scores):
            to_px = lambda v: (v * INPUT_SIZE - pad) / scale  # noqa: E731
            found.append(Detection(to_px(box.reshape(2, 2)).ravel(), to_px(kps), score))
        return found

    def find(
        self, rgb: np.ndarray, min_face_px: float | None = None, tiles: list | None = None
    ) -> list[Detection]:
        """Faces in the whole frame, and down to ``min_face_px`` high through tiles.

        None looks at the whole frame only (one model run); ``tiles`` (x, y, side) looks
        at those tiles instead of the whole pyramid. Dark frames are brightened.
        """
        rgb = brighten_if_dark(rgb)
        h, w = rgb.shape[:2]
        found = list(self.detect(rgb))
        for x, y, side in pyramid_tiles(w, h, min_face_px) if tiles is None else tiles:
            for det in self.detect(rgb[y : y + side, x : x + side]):
                if not _touches_inner_edge(det.box, x, y, side, w, h):
                    found.append(_shifted(det, x, y))
        if len(found) < 2:
            return found
        merged = weighted_nms(
            np.array([d.box for d in found]),
            np.array([d.keypoints for d in found]),
            np.array([d.score for d in found]),
        )
        return _without_face_parts([Detection(box, kps, score) for box, kps, score in merged])


def _without_face_parts(found: list[Detection]) -> list[Detection]:
    """Drop boxes lying mostly inside a box at least twice as wide: a tile that sees only
    part of a big face can fire on an eye or a mouth (357 such boxes, scores up to 0.78,
    on 2-frames/s samples of the talking clips and single_face at threshold 0.4)."""
    width = lambda d: d.box[2] - d.box[0]  # noqa: E731
    kept: list[Detection] = []
    for det in sorted(found, key=width, reverse=True):
        area = width(det) * (det.box[3] - det.box[1])
        if not any(
            width(big) >= 2 * width(det) and _overlap(det.box, big.box) >= 0.5 * area
            for big in kept
        ):
            kept.append(det)
    return sorted(kept, key=lambda d: -d.score)


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return float(max(w, 0.0) * max(h, 0.0))


def pyramid_sides(width: int, height: int, min_face_px: float | None) -> list[int]:
    """Tile sides, smallest first, growing by ``_PYRAMID_STEP``, so faces of ``min_face_px`` and up are seen.

    The smallest side is ``TILE_PER_FACE * min_face_px``; sides stop below the frame's
    long side, which the whole-frame pass covers.
    """
    if min_face_px is None:
        return []
    long_side = max(width, height)
    side, sides = max(int(round(TILE_PER_FACE * min_face_px)), 32), []
    while side < long_side / 1.5 and side <= min(width, height):
        sides.append(side)
        side = int(round(side * _PYRAMID_STEP))
    return sides


def pyramid_tiles(width: int, height: int, min_face_px: float | None) -> list:
    """Every tile (x, y, side) of the pyramid, small tiles first."""
    sides = pyramid_sides(width, height, min_face_px)
    return [(x, y, side) for side in sides for x, y in tile_origins(width, height, side)]


def tile_origins(width: int, height: int, side: int) -> list[tuple[int, int]]:
    """Top-left corners of ``side``-px square tiles overlapping by half, covering the frame."""

    def starts(length: int) -> list[int]:
        step = max(1, int(side * (1 - _TILE_OVERLAP)))
        out = list(range(0, max(length - side, 0) + 1, step))
        if out[-1] + side < length:
            out.append(length - side)
        return out

    return [(x, y) for y in starts(height) for x in starts(width)]


def _touches_inner_edge(box: np.ndarray, x: int, y: int, side: int, w: int, h: int) -> bool:
    """A box cut by a tile border that is not also the frame's border."""
    return bool(
        (x > 0 and box[0] < _EDGE_PX)
        or (y > 0 and box[1] < _EDGE_PX)
        or (x + side < w and box[2] > side - _EDGE_PX)
        or (y + side < h and box[3] > side - _EDGE_PX)
    )


def _shifted(det: Detection, x: int, y: int) -> Detection:
    offset = np.array([x, y], dtype=np.float32)
    return Detection(det.box + np.tile(offset, 2), det.keypoints + offset, det.score)


_GAMMA = 0.5
_BRIGHTEN = np.clip(255 * (np.arange(256) / 255.0) ** _GAMMA, 0, 255).astype(np.uint8)


def brighten_if_dark(rgb: np.ndarray) -> np.ndarray:
    """The frame lifted by a gamma-0.5 curve when it is dark, else as is.

    Measured on 36 frames of four face clips darkened to 1/24 (mean grey ~4): the
    detector finds the face in 24 as they are, in all 36 lifted (CLAHE: also 36, but it
    lowers the score more often at 1/8). Only the detector's input is lifted.
    """
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if float(grey.mean()) >= DARK_LUMA:
        return rgb
    return _BRIGHTEN[rgb]


LIFT_FROM_LUMA = 48.0
"""Mean grey below which :func:`lift_for_reading` starts to lift a frame."""
FULL_LIFT_LUMA = 24.0
"""Mean grey at and below which :func:`lift_for_reading` lifts by the full gamma 0.5."""


def lift_for_reading(rgb: np.ndarray) -> np.ndarray:
    """A dark frame lifted for the models that read a face (the mesh, RetinaFace), by a
    gamma that eases from 1 at mean grey LIFT_FROM_LUMA to 0.5 at FULL_LIFT_LUMA and below.

    Measured on 3 s of the 7 talking clips and single_face.mp4 at 10 frames/s, darkened
    (``bench/bench_dark_frames.py``): a full gamma-0.5 lift brought the mesh's landmarks
    no nearer their full-light positions at mean grey 58 (0.48 against 0.46 % of the eye
    distance, a first scratch run) and nearer from 38 down, so the lift starts half-way,
    at 48. With this ramp: 0.59 against 0.68 % at 38, 0.83 against 1.23 at 14, 1.07
    against 1.81 at 7. A ramp, not :func:`brighten_if_dark`'s step, so that a clip whose
    light hovers about a threshold does not flick between two pictures of one face (and
    its landmarks and AUs with it).
    """
    grey = float(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).mean())
    if grey >= LIFT_FROM_LUMA:
        return rgb
    depth = (LIFT_FROM_LUMA - grey) / (LIFT_FROM_LUMA - FULL_LIFT_LUMA)
    if depth >= 1.0:
        return _BRIGHTEN[rgb]  # the full lift: brighten_if_dark's table, not built again
    gamma = 1.0 - (1.0 - _GAMMA) * depth
    return np.clip(255 * (np.arange(256) / 255.0) ** gamma, 0, 255).astype(np.uint8)[rgb]


def confirm_face(
    detector: FaceDetector, rgb: np.ndarray, box: np.ndarray, zoom: float = 4.0
) -> float:
    """Score of the face found again in a crop ``zoom`` times the box, seen at full detail.

    A whole frame squeezed into 192 px leaves a small face a few pixels wide, where text
    and textures can pass for one; in the close-up they do not. Zoom 4 rather than 2: a
    small face cropped tight is blown up into a blur (WIDER faces that pass the mesh: 60%
    confirmed at zoom 4, 15% at 2); on 2-frames/s samples of the talking clips, no_face,
    noface_face and single_face real faces score 0.73-0.9 at zoom 4 (0.53 and up at 2),
    the boxes the mesh passes elsewhere at most 0.69 (0.82 at 2).
    0 when nothing sits near the crop centre.
    """
    h, w = rgb.shape[:2]
    centre = (box[:2] + box[2:]) / 2
    half = max(box[2] - box[0], box[3] - box[1]) * zoom / 2
    x0, y0 = (max(0, int(v)) for v in centre - half)
    x1, y1 = min(w, int(centre[0] + half)), min(h, int(centre[1] + half))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return 0.0
    local = centre - (x0, y0)
    best = 0.0
    for det in detector.detect(brighten_if_dark(rgb[y0:y1, x0:x1])):
        if np.all(np.abs((det.box[:2] + det.box[2:]) / 2 - local) < half / 2):
            best = max(best, det.score)
    return best


def _letterbox(rgb: np.ndarray, size: int):
    """Fit the frame into a size x size square (aspect kept, zero border), scaled to [-1, 1]."""
    h, w = rgb.shape[:2]
    scale = size / max(h, w)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    pad = np.array([(size - nw) // 2, (size - nh) // 2], dtype=np.float32)
    canvas = np.zeros((size, size, 3), dtype=np.float32)
    small = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA)
    canvas[int(pad[1]) : int(pad[1]) + nh, int(pad[0]) : int(pad[0]) + nw] = small
    canvas = canvas * (2.0 / 255.0) - 1.0
    # the border must read as black (-1), like mediapipe's zero-padded [-1, 1] tensor
    return canvas[None], scale, pad
