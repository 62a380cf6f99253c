"""Shared by the face detector tests: the WIDER val photos in faces-wild, their labelled
boxes, and matching at IoU >= 0.3 (the benches' rule)."""

import json

import cv2
import numpy as np
import pytest

MATCH_IOU = 0.3


class WiderPhotos:
    """Photos as RGB arrays and their WIDER boxes as (x0, y0, x1, y1) rows."""

    def __init__(self, folder):
        self.folder = folder

    def read(self, name):
        """The photo ``name`` in faces-wild (or any path given whole), RGB."""
        return cv2.cvtColor(cv2.imread(str(self.folder / name)), cv2.COLOR_BGR2RGB)

    def truth(self, name):
        boxes = json.loads((self.folder / "wider_val_boxes.json").read_text())
        return np.array([(x, y, x + w, y + h) for x, y, w, h in boxes["boxes"][name]], float)

    @staticmethod
    def iou(a, b):
        w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
        return w * h / union

    @classmethod
    def found(cls, truth, boxes):
        """Per truth box: matched by some box."""
        return np.array([any(cls.iou(t, b) >= MATCH_IOU for b in boxes) for t in truth], bool)

    @classmethod
    def on_faces(cls, boxes, truth):
        """Per box: on some labelled face."""
        return [max(cls.iou(b, t) for t in truth) >= MATCH_IOU for b in boxes]


@pytest.fixture(scope="session")
def wider(media_dir):
    return WiderPhotos(media_dir / "faces-wild")
