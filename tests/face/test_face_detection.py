"""Face detection on real photos (#22): tiles for small faces, merging, dark frames."""

import json

import cv2
import numpy as np
import pytest

from emochat.face.detector import (
    TILE_PER_FACE,
    FaceDetector,
    brighten_if_dark,
    pyramid_sides,
    tile_origins,
)
from emochat.ingest import iter_frames

MEETING = "11_Meeting_Meeting_11_Meeting_Meeting_11_176.jpg"


@pytest.fixture(scope="module")
def detector():
    return FaceDetector(num_threads=1)


def _read(path):
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def _iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union


@pytest.mark.parametrize(("w", "h", "side"), [(1024, 683, 128), (640, 360, 192), (200, 100, 96)])
def test_tiles_cover_every_pixel_and_stay_inside(w, h, side):
    covered = np.zeros((h, w), bool)
    for x, y in tile_origins(w, h, side):
        assert 0 <= x and x + side <= w and 0 <= y and y + side <= h
        covered[y : y + side, x : x + side] = True
    assert covered.all()


def test_pyramid_starts_at_the_smallest_face_and_stops_below_the_whole_frame():
    sides = pyramid_sides(1024, 683, 16)
    assert sides[0] == TILE_PER_FACE * 16
    assert sides == sorted(sides) and max(sides) < 1024 / 1.5
    assert pyramid_sides(1024, 683, None) == []
    assert pyramid_sides(640, 360, 200) == []  # a face that big: the whole frame suffices


def test_tiles_find_the_small_faces_of_a_meeting_room(media_dir, detector):
    """WIDER val photo, 17 labelled faces 9-66 px high: the whole frame alone finds none;
    with tiles down to 16 px at least 12 (measured 14) match at IoU >= 0.3."""
    boxes = json.loads((media_dir / "faces-wild" / "wider_val_boxes.json").read_text())
    truth = [(x, y, x + w, y + h) for x, y, w, h in boxes["boxes"][MEETING]]
    rgb = _read(media_dir / "faces-wild" / MEETING)
    assert not any(max(_iou(t, d.box) for t in truth) >= 0.3 for d in detector.find(rgb))
    found = detector.find(rgb, min_face_px=16)
    matched = [t for t in truth if any(_iou(t, d.box) >= 0.3 for d in found)]
    assert len(matched) >= 12
    assert len(found) - len(matched) <= 4  # measured 2 unlabelled or false


def test_one_face_seen_by_many_tiles_comes_back_once(media_dir, detector):
    """Every tile that holds the face, and those holding only an eye or the mouth, merge
    into one box (the detector alone may also fire on the clouds: the tracker's close-up
    confirmation is what rejects those)."""
    rgb = next(iter_frames(media_dir / "single_face.jpg")).rgb
    face = detector.find(rgb)[0].box
    found = detector.find(rgb, min_face_px=16)
    on_face = [d for d in found if _iou(d.box, face) > 0 or _inside(d.box, face)]
    assert len(on_face) == 1
    assert _iou(on_face[0].box, face) > 0.7 and on_face[0].score > 0.8


def _inside(box, outer):
    centre = (box[:2] + box[2:]) / 2
    return bool((outer[:2] <= centre).all() and (centre <= outer[2:]).all())


def test_a_dark_frame_is_brightened_for_the_detector(media_dir, detector):
    """single_face.mp4 at 1/24 of its brightness (mean grey ~5): the face scores higher
    lifted than as it is (measured 0.64-0.74 -> 0.81-0.92 over its 3 seconds)."""
    for frame in iter_frames(media_dir / "single_face.mp4", fps=1):
        dark = (frame.rgb.astype(np.float32) / 24).astype(np.uint8)
        assert brighten_if_dark(frame.rgb) is frame.rgb  # a normal frame goes through as is
        found = detector.find(dark)
        assert len(found) == 1 and found[0].score > 0.75
        assert found[0].score > detector.detect(dark)[0].score + 0.05
        assert _iou(found[0].box, detector.find(frame.rgb)[0].box) > 0.7
