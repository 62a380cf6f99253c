"""The face stage classifies crops on a worker thread: the same numbers, in frame order,
and a failure in the worker surfaces in the stage."""

from __future__ import annotations

import numpy as np
import pytest

from emochat.core.settings import media_root
from emochat.face import FaceTracker
from emochat.face.expression import ExpressionModel, frame_views
from emochat.face.stage import _ExpressionTap
from emochat.ingest import iter_frames

CLIP = media_root() / "single_face.mp4"
pytestmark = pytest.mark.skipif(not CLIP.is_file(), reason=f"test media not found: {CLIP}")


def test_worker_gives_each_face_and_time_the_probabilities_of_its_own_crop():
    model = ExpressionModel.load()
    tap = _ExpressionTap(FaceTracker(max_faces=2), model, batch=3)
    expected: dict[int, list[tuple[float, np.ndarray]]] = {}
    waiting, crops, quality = [], [], []

    def classify_here():  # the same batches, classified on this thread in turn
        probs = model.predict_views(crops, quality)
        for (face_id, t_s), p in zip(waiting, probs, strict=True):
            expected.setdefault(face_id, []).append((t_s, p))
        waiting.clear(), crops.clear(), quality.clear()

    try:
        for frame in iter_frames(CLIP, fps=10):
            observations = tap.process(frame)
            views, q = frame_views(frame.rgb, [o.landmarks for o in observations])
            waiting += [(o.face_id, o.t_s) for o in observations]
            crops += views
            quality += q
            if len(crops) >= 3:
                classify_here()
        tap.flush()
    finally:
        tap.close()
    classify_here()
    assert sum(len(rows) for rows in expected.values()) >= 20
    assert tap.records.keys() == expected.keys()
    for face_id, rows in expected.items():
        got = tap.records[face_id]
        assert [t for t, _ in got] == [t for t, _ in rows]
        assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(got, rows, strict=True))


class _FailingModel:
    def predict_views(self, crops, quality):
        raise RuntimeError("the expression network failed")


def test_a_failure_on_the_worker_surfaces_in_the_stage():
    tap = _ExpressionTap(FaceTracker(max_faces=1), _FailingModel(), batch=1)
    try:
        with pytest.raises(RuntimeError, match="expression network failed"):
            for frame in iter_frames(CLIP, fps=10):
                tap.process(frame)
            tap.flush()
    finally:
        tap.close()
