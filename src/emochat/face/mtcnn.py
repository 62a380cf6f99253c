"""MTCNN face detector (Zhang et al. 2016): a second detector for faces BlazeFace misses.

BlazeFace (detector.py) is fast but, on WIDER FACE's crowd photos, does not fire on
faces in profile or looking up. MTCNN's three small nets (weights from the
facenet-pytorch wheel, exported to ONNX by ``emochat.train.face_mtcnn``) do: an image
pyramid through the fully convolutional P-Net proposes 12 px windows, R-Net (24x24)
and O-Net (48x48) re-score and refine them. The pipeline follows facenet-pytorch's
``detect_face`` (itself the original MATLAB/TensorFlow code) in numpy and onnxruntime.
"""

from __future__ import annotations

import cv2
import numpy as np

from emochat.face.detector import Detection
from emochat.models import registry
from emochat.models.onnx_session import cpu_session

_SCALE_FACTOR = 0.709
_STAGE_THRESHOLDS = (0.6, 0.7)  # P-Net and R-Net, MTCNN's defaults


def _nms(boxes: np.ndarray, scores: np.ndarray, threshold: float, by_min: bool = False):
    """Indices kept by greedy suppression (IoU, or overlap over the smaller box)."""
    x0, y0, x1, y1 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    area = (x1 - x0 + 1) * (y1 - y0 + 1)
    order = np.argsort(scores)[::-1]
    keep = []
    while order.size:
        i, rest = order[0], order[1:]
        keep.append(i)
        w = np.maximum(0.0, np.minimum(x1[i], x1[rest]) - np.maximum(x0[i], x0[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y1[i], y1[rest]) - np.maximum(y0[i], y0[rest]) + 1)
        inter = w * h
        denom = np.minimum(area[i], area[rest]) if by_min else area[i] + area[rest] - inter
        order = rest[inter / denom <= threshold]
    return np.array(keep, dtype=np.int64)


def _square(boxes: np.ndarray) -> np.ndarray:
    out = boxes.copy()
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    out[:, 0] = boxes[:, 0] + w / 2 - side / 2
    out[:, 1] = boxes[:, 1] + h / 2 - side / 2
    out[:, 2:4] = out[:, :2] + side[:, None]
    return out


def _refine(boxes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    out = boxes.copy()
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    out[:, :4] = boxes[:, :4] + offsets * np.stack([w, h, w, h], axis=1)
    return out


def _crops(rgb: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """Each box's pixels (zero outside the image) resized to size x size, NCHW, scaled."""
    h, w = rgb.shape[:2]
    out = np.zeros((len(boxes), size, size, 3), dtype=np.float32)
    for k, b in enumerate(boxes.astype(np.int64)):
        x0, y0, x1, y1 = max(b[0], 0), max(b[1], 0), min(b[2], w), min(b[3], h)
        if x1 <= x0 or y1 <= y0:
            continue
        patch = np.zeros((b[3] - b[1], b[2] - b[0], 3), dtype=np.uint8)
        patch[y0 - b[1] : y1 - b[1], x0 - b[0] : x1 - b[0]] = rgb[y0:y1, x0:x1]
        out[k] = cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA)
    return ((out - 127.5) * 0.0078125).transpose(0, 3, 1, 2)


class MtcnnDetector:
    """Find faces with MTCNN; ``find`` returns detector.Detection boxes in frame pixels,
    with MTCNN's 5 keypoints (eyes, nose tip, mouth corners)."""

    def __init__(self, min_confidence: float = 0.9, num_threads: int = 1):
        """``num_threads``: onnxruntime's intra-op threads. One: the nets are so small that
        a second thread costs more than it saves (640x360 frame, faces from 24 px, load
        ~16: 30 ms of CPU with one thread, 111 ms with two, and slower by the clock)."""
        self.min_confidence = min_confidence
        self._nets = {
            name: cpu_session(registry.existing_file("face_mtcnn", i), num_threads)
            for i, name in enumerate(("pnet", "rnet", "onet"))
        }

    def _run(self, name: str, x: np.ndarray) -> list[np.ndarray]:
        return self._nets[name].run(None, {"image": np.ascontiguousarray(x, np.float32)})

    def find(self, rgb: np.ndarray, min_face_px: float = 20.0) -> list[Detection]:
        """Faces at least ``min_face_px`` wide whose O-Net score reaches ``min_confidence``."""
        h, w = rgb.shape[:2]
        boxes = self._proposals(rgb, min_face_px)
        if not len(boxes):
            return []
        # R-Net re-scores the proposals
        boxes = _square(boxes)
        offsets, probs = self._run("rnet", _crops(rgb, np.trunc(boxes[:, :4]), 24))
        keep = probs[:, 1] > _STAGE_THRESHOLDS[1]
        boxes, offsets = boxes[keep], offsets[keep]
        boxes[:, 4] = probs[keep, 1]
        if not len(boxes):
            return []
        keep = _nms(boxes[:, :4], boxes[:, 4], 0.7)
        boxes = _square(_refine(boxes[keep], offsets[keep]))
        # O-Net gives the final score, box and keypoints
        offsets, points, probs = self._run("onet", _crops(rgb, np.trunc(boxes[:, :4]), 48))
        keep = probs[:, 1] > self.min_confidence
        boxes, offsets, points = boxes[keep], offsets[keep], points[keep]
        boxes[:, 4] = probs[keep, 1]
        if not len(boxes):
            return []
        bw = boxes[:, 2] - boxes[:, 0] + 1
        bh = boxes[:, 3] - boxes[:, 1] + 1
        xs = bw[:, None] * points[:, :5] + boxes[:, :1] - 1
        ys = bh[:, None] * points[:, 5:] + boxes[:, 1:2] - 1
        pts = np.stack([xs, ys], axis=2)
        boxes = _refine(boxes, offsets)
        keep = _nms(boxes[:, :4], boxes[:, 4], 0.7, by_min=True)
        found = []
        for b, p in zip(boxes[keep], pts[keep], strict=True):
            box = np.array([max(b[0], 0), max(b[1], 0), min(b[2], w), min(b[3], h)], np.float32)
            found.append(Detection(box, p.astype(np.float32), float(b[4])))
        return found

    def _proposals(self, rgb: np.ndarray, min_face_px: float) -> np.ndarray:
        """P-Net over the image pyramid: (N, 5) boxes x0 y0 x1 y1 score, offsets applied."""
        h, w = rgb.shape[:2]
        scale = 12.0 / min_face_px
        shortest = min(h, w) * scale
        found = []
        while shortest >= 12:
            sh, sw = int(h * scale + 1), int(w * scale + 1)
            img = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA).astype(np.float32)
            x = ((img - 127.5) * 0.0078125).transpose(2, 0, 1)[None]
            offsets, probs = self._run("pnet", x)
            ys, xs = np.nonzero(probs[0, 1] >= _STAGE_THRESHOLDS[0])
            if len(ys):
                cells = np.stack([xs, ys], 1).astype(np.float64)
                q0 = np.floor((2 * cells + 1) / scale)
                q1 = np.floor((2 * cells + 12) / scale)
                cand = np.concatenate(
                    [q0, q1, probs[0, 1, ys, xs, None], offsets[0][:, ys, xs].T], axis=1
                )
                found.append(cand[_nms(cand[:, :4], cand[:, 4], 0.5)])
            scale *= _SCALE_FACTOR
            shortest *= _SCALE_FACTOR
        if not found:
            return np.zeros((0, 5))
        boxes = np.concatenate(found)
        boxes = boxes[_nms(boxes[:, :4], boxes[:, 4], 0.7)]
        return _refine(boxes[:, :5], boxes[:, 5:9])
