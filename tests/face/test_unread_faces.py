"""Faces the mesh cannot read, on video: reported by their box, one face per person.

Real media: a WIDER parade photo held still for 4.5 s as 10 frames/s video; the second
detector looks at 0, 2 and 4 s and sees the same profiles and blurred faces each time.
"""

import json
from types import SimpleNamespace

import cv2
import numpy as np

from emochat.face.au.analysis import UnreadFaces, analyze_faces, iou_xywh
from emochat.face.tracker import FaceTracker
from emochat.ingest.video import Frame

PARADE = "0_Parade_Parade_0_873.jpg"
MEETING = "11_Meeting_Meeting_11_Meeting_Meeting_11_176.jpg"


def _det(x, y, w=30.0, h=40.0, score=0.9):
    return SimpleNamespace(box=np.array([x, y, x + w, y + h]), score=score)


def test_sightings_join_the_face_seen_there_last():
    faces = UnreadFaces()
    faces.add(0.0, [_det(100, 100), _det(300, 100)])  # two faces in one frame: two
    faces.add(2.0, [_det(104, 102, score=0.95), _det(300, 100)])  # both seen again
    faces.add(4.0, [_det(108, 104)])
    faces.add(10.0, [_det(108, 104)])  # after a 6-s gap: counted anew
    got = faces.summaries(None)
    assert [(f.first_s, f.last_s, f.n_frames) for f in got] == [
        (0.0, 4.0, 3),
        (0.0, 2.0, 2),
        (10.0, 10.0, 1),
    ]
    assert got[0].bbox == (104.0, 102.0, 30.0, 40.0)  # the best-scoring sighting's box
    assert not any(f.read for f in got) and abs(got[0].mean_confidence - 0.9167) < 1e-3


def test_video_reports_each_unreadable_face_once_by_its_box(media_dir):
    rgb = cv2.cvtColor(cv2.imread(str(media_dir / "faces-wild" / PARADE)), cv2.COLOR_BGR2RGB)
    frames = [Frame(i, i / 10, rgb) for i in range(45)]
    analysis = analyze_faces(frames, tracker=FaceTracker(max_faces=256))
    read = [f for f in analysis.faces if f.read]
    unread = [f for f in analysis.faces if not f.read]
    assert len(read) >= 8 and len(unread) >= 5
    # sighted at each of the second detector's looks (at 0 s and at the first detection pass
    # 2 s or more later: 2.4 s since the mesh region is snapped and no still face's track
    # drops), joined into one face each, not one per look
    looks = max(f.n_frames for f in unread)
    assert looks >= 2
    assert sum(f.n_frames == looks and f.first_s == 0.0 and f.last_s >= 2 for f in unread) >= 5
    for i, a in enumerate(unread):
        assert all(iou_xywh(a.bbox, b.bbox) < 0.3 for b in unread[i + 1 :])
        for track in analysis.au.tracks.values():  # none is a face the mesh read
            assert all(iou_xywh(a.bbox, box) < 0.3 for box in np.asarray(track.bbox, float))
    assert sorted(f.face_id for f in analysis.faces) == list(range(len(analysis.faces)))


def test_video_finds_the_small_faces_of_a_group_scene(media_dir):
    """RetinaFace reads the whole frame at once, so on video it reports faces from 16 px
    as on photos (before: from the tiles' 24 px). The marching band photo, as a 1-s
    clip: most of its faces are 16-24 px high; each reported face is a labelled one."""
    wild = media_dir / "faces-wild"
    name = "0_Parade_marchingband_1_765.jpg"
    truth = np.asarray(json.loads((wild / "wider_val_boxes.json").read_text())["boxes"][name])
    rgb = cv2.cvtColor(cv2.imread(str(wild / name)), cv2.COLOR_BGR2RGB)
    frames = [Frame(i, i / 10, rgb) for i in range(10)]
    analysis = analyze_faces(frames, tracker=FaceTracker(max_faces=256))
    boxes = [np.median(np.asarray(t.bbox, float), axis=0) for t in analysis.au.tracks.values()]
    boxes += [np.asarray(f.bbox, float) for f in analysis.faces if not f.read]
    small = [b for b in boxes if b[3] < 24]
    assert len(small) >= 20, len(small)  # 57 labelled faces are 16-24 px high (7 found before)
    for box in boxes:  # none on an unlabelled spot
        assert max(iou_xywh(box, t) for t in truth) >= 0.3, box


def test_faces_beyond_max_faces_are_counted_and_the_report_says_so(media_dir, tmp_path):
    """A crowd photo under the default limit of 8 faces: the faces past the limit had no
    entry and no word in the report; now the face stage warns, with a lower bound."""
    from emochat.face.stage import FaceStage
    from emochat.options import AnalyzeOptions
    from emochat.pipeline.runner import Pipeline

    photo = media_dir / "faces-wild" / PARADE
    ctx = Pipeline([FaceStage()]).run(photo, AnalyzeOptions(max_faces=8), None, [])
    assert len(ctx.report.faces) == 8
    (warning,) = [w for w in ctx.report.warnings if w.code == "max_faces_reached"]
    n = int(warning.message.split("at least ")[1].split()[0])
    assert n >= 10, warning.message  # dozens of faces in this parade
    roomy = Pipeline([FaceStage()]).run(photo, AnalyzeOptions(max_faces=32), None, [])
    assert len(roomy.report.faces) >= min(8 + n, 32)  # the faces it said were left out
    # read or box-only, never more than max_faces at once (42 entries before at 32)
    assert len(roomy.report.faces) == 32
    assert any(w.code == "max_faces_reached" for w in roomy.report.warnings)
    multi = media_dir / "multi_face.jpg"  # 5 faces, under the limit: no word
    few = Pipeline([FaceStage()]).run(multi, AnalyzeOptions(max_faces=8), None, [])
    assert len(few.report.faces) == 5
    assert not any(w.code == "max_faces_reached" for w in few.report.warnings)


def test_a_photo_reads_up_to_32_faces_by_default_and_a_video_follows_8(media_dir):
    """max_faces left unset: a group photo's faces are read once, so a photo gets the
    limit (the Meeting room: every labelled face the stage finds, none left out), while a
    video keeps 8 (each face costs every frame); both recorded in the provenance."""
    from emochat.api import Analyzer
    from emochat.options import MAX_FACES_LIMIT, VIDEO_MAX_FACES

    photo = Analyzer().run(media_dir / "faces-wild" / MEETING).report
    assert photo.provenance["options"]["max_faces"] == MAX_FACES_LIMIT
    assert len(photo.faces) > VIDEO_MAX_FACES
    assert not any(w.code == "max_faces_reached" for w in photo.warnings)
    video = Analyzer().run(media_dir / "single_face.mp4").report
    assert video.provenance["options"]["max_faces"] == VIDEO_MAX_FACES
