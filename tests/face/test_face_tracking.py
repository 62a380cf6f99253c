"""Face tracking on the shared test media (issue 3 criteria)."""

import json

import numpy as np
import pytest

from emochat.core.settings import media_root
from emochat.face import FaceObservation, FaceTracker
from emochat.ingest import Frame, iter_frames, probe

MEDIA = media_root()
pytestmark = pytest.mark.skipif(not MEDIA.is_dir(), reason=f"test media not found at {MEDIA}")
FPS = 10


def track_clip(name, **tracker_args):
    tracker = FaceTracker(**tracker_args)
    return [(f.t_s, tracker.process(f)) for f in iter_frames(MEDIA / name, fps=FPS)]


def face_times(results):
    return [t for t, faces in results if faces]


@pytest.fixture(scope="module")
def tracked():
    return {
        name: track_clip(name)
        for name in ("no_face.mp4", "face_noface.mov", "noface_face.mov", "single_face.mp4")
    }


def test_no_face_clip_has_no_face_frames(tracked):
    assert face_times(tracked["no_face.mp4"]) == []


def test_face_that_leaves_is_seen_only_in_the_first_part(tracked):
    duration = probe(MEDIA / "face_noface.mov").duration_s
    seen = face_times(tracked["face_noface.mov"])
    assert seen and seen[0] < 0.2
    assert max(seen) < duration / 2
    # one continuous track
    assert {o.face_id for _, faces in tracked["face_noface.mov"] for o in faces} == {0}


def test_face_that_enters_is_seen_only_in_the_last_part(tracked):
    duration = probe(MEDIA / "noface_face.mov").duration_s
    seen = face_times(tracked["noface_face.mov"])
    assert seen and min(seen) > duration / 2
    assert max(seen) > duration - 0.3


def test_observation_contract(tracked):
    _, faces = tracked["single_face.mp4"][5]
    assert len(faces) == 1
    obs = faces[0]
    assert isinstance(obs, FaceObservation)
    assert obs.landmarks.shape == (478, 3) and obs.landmarks.dtype == np.float32
    x, y, w, h = obs.bbox
    assert 100 < w < 400 and 100 < h < 400 and 0 <= x < 640 and 0 <= y < 360
    assert 0.9 <= obs.confidence <= 1.0
    assert all(abs(a) < 20 for a in (obs.yaw, obs.pitch, obs.roll))  # he faces the camera
    # landmarks lie inside the face box, irises inside it too
    lm = obs.landmarks
    assert (lm[:, 0] >= x - 2).all() and (lm[:, 0] <= x + w + 2).all()
    assert abs(lm[468, 0] - lm[[33, 133], 0].mean()) < 0.2 * w  # iris centre in its eye


def test_every_clearly_visible_face_in_the_group_photo_is_found():
    """multi_face.jpg shows five people, all facing the camera (checked by eye)."""
    frame = next(iter_frames(MEDIA / "multi_face.jpg"))
    faces = FaceTracker(max_faces=8, static_image_mode=True).process(frame)
    assert len(faces) == 5
    centres = sorted((o.bbox[0] + o.bbox[2] / 2, o.bbox[1] + o.bbox[3] / 2) for o in faces)
    expected = [(260, 125), (365, 300), (475, 265), (585, 375), (735, 360)]  # x, y by eye
    for (cx, cy), (ex, ey) in zip(centres, expected, strict=True):
        assert abs(cx - ex) < 40 and abs(cy - ey) < 40
    assert len({o.face_id for o in faces}) == 5


def test_max_faces_caps_the_group_photo():
    frame = next(iter_frames(MEDIA / "multi_face.jpg"))
    assert len(FaceTracker(max_faces=3, static_image_mode=True).process(frame)) == 3


def test_a_face_that_returns_keeps_its_id_and_a_new_person_gets_a_new_one():
    """The man leaves (blank frames), returns; a cut to the woman; a cut back to him."""
    man_a = list(iter_frames(MEDIA / "face_noface.mov", fps=FPS, end_s=3.0))
    man_b = list(iter_frames(MEDIA / "single_face.mp4", fps=FPS))
    woman = list(iter_frames(MEDIA / "WolfgangLanger_Pexels.mp4", fps=FPS, end_s=2.0))
    tracker = FaceTracker()
    ids = []
    for i, f in enumerate(man_a + man_b + woman + man_b):
        ids.append([o.face_id for o in tracker.process(Frame(i, i / FPS, f.rgb))])
    a, b, w = len(man_a), len(man_b), len(woman)
    seen = lambda part: {i for frame_ids in part for i in frame_ids}  # noqa: E731
    assert seen(ids[:a]) == {0}
    assert seen(ids[a : a + b]) == {0}
    assert seen(ids[a + b : a + b + w]) == {1}
    assert seen(ids[a + b + w :]) == {0}
    assert all(len(x) <= 1 for x in ids)


def test_pose_is_json_friendly(tracked):
    _, faces = tracked["single_face.mp4"][0]
    json.dumps([faces[0].yaw, faces[0].pitch, faces[0].roll, faces[0].confidence, *faces[0].bbox])
