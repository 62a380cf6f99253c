"""The AU Agent on synthetic landmark sets: one movement, one AU; head pose changes none."""

import numpy as np
import pytest

from emochat.face import FaceObservation
from emochat.face.au import AU_CODES, AUAgent
from emochat.face.pose import align, frontal_template, rotation_from_euler_deg

FPS = 30.0
LIP_CORNERS = (61, 291, 78, 308, 62, 292, 76, 306)  # outer and inner corner points
BROWS_INNER = (107, 66, 55, 65, 336, 296, 285, 295)
UPPER_LIDS = (159, 158, 160, 386, 385, 387)


def observation(frontal, i, pose=(0.0, 0.0, 0.0), scale=150.0, shift=(320.0, 200.0, 0.0)):
    """The frontal shape placed in a 640x360 frame with the given (pitch, yaw, roll)."""
    pixels = scale * frontal @ rotation_from_euler_deg(*pose).T + np.array(shift)
    pixels = pixels.astype(np.float32)
    pitch, yaw, roll = align(pixels).euler_deg()
    lo, hi = pixels[:, :2].min(0), pixels[:, :2].max(0)
    bbox = (float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1]))
    return FaceObservation(i, i / FPS, 0, bbox, 1.0, pixels, yaw, pitch, roll)


def moved(points, dy=0.0, dx_out=0.0):
    shape = frontal_template().copy()
    for p in points:
        shape[p, 1] += dy
        shape[p, 0] += dx_out * np.sign(shape[p, 0])
    return shape


def run(shapes, poses=None):
    """Feed the agent a sequence of frontal shapes; returns its last AUFrame and result."""
    agent = AUAgent()
    last = None
    for i, shape in enumerate(shapes):
        last = agent.update(observation(shape, i, poses[i] if poses else (0.0, 0.0, 0.0)))
    return last, agent.finalize()


def neutral_then(expression, n_neutral=60, n_expression=20):
    return [frontal_template()] * n_neutral + [expression] * n_expression


def by_code(values):
    return dict(zip(AU_CODES, values, strict=True))


def test_neutral_face_has_no_action_units():
    last, result = run([frontal_template()] * 30)
    assert last.intensity.max() < 0.2
    assert not result.tracks[0].presence.any()
    assert result.events == []


def test_lip_corners_up_raise_au12_and_nothing_unrelated():
    last, _ = run(neutral_then(moved(LIP_CORNERS, dy=-0.08)))
    values = by_code(last.intensity)
    assert values["AU12"] > 1.5
    assert by_code(last.presence)["AU12"]
    others = {k: v for k, v in values.items() if k != "AU12"}
    assert max(others.values()) < 0.2, others


def test_lip_corners_down_raise_au15_only():
    last, _ = run(neutral_then(moved(LIP_CORNERS, dy=0.04)))
    values = by_code(last.intensity)
    assert values["AU15"] > 1.5
    assert max(v for k, v in values.items() if k != "AU15") < 0.2


def test_inner_brows_up_raise_au01_only():
    """A 2.7 s clip is judged against the population neutral: one population spread of the
    0.05 IOD raise counts as doubt, the rest grades above presence."""
    last, _ = run(neutral_then(moved(BROWS_INNER, dy=-0.05)))
    values = by_code(last.intensity)
    assert values["AU01"] > 1.2 and by_code(last.presence)["AU01"]
    assert max(v for k, v in values.items() if k != "AU01") < 0.2


@pytest.mark.parametrize("pose", [(0, 30, 0), (20, 0, 0), (0, 0, 25), (-15, -25, 10)])
def test_pure_head_rotation_changes_no_action_unit(pose):
    """Same faces, head turned: every intensity equal to the unturned run (up to float32
    pixel rounding, a few thousandths of an intensity point)."""
    shapes = neutral_then(moved(LIP_CORNERS, dy=-0.08))
    _, upright = run(shapes)
    _, turned = run(shapes, poses=[(0.0, 0.0, 0.0)] * 60 + [pose] * 20)
    a, b = upright.tracks[0].intensity, turned.tracks[0].intensity
    assert np.abs(a - b).max() < 0.02


def test_a_turning_neutral_head_stays_neutral():
    yaws = np.linspace(-35, 35, 60)
    last, result = run([frontal_template()] * 60, poses=[(5.0, float(y), -3.0) for y in yaws])
    assert result.tracks[0].intensity.max() < 0.2
    assert result.events == []


def test_a_brief_smile_is_one_micro_expression_event():
    smile = moved(LIP_CORNERS, dy=-0.08)
    shapes = [frontal_template()] * 60 + [smile] * 6 + [frontal_template()] * 30  # 0.2 s
    _, result = run(shapes)
    events = [e for e in result.events if e.au == "AU12"]
    assert len(events) == 1
    ev = events[0]
    assert 2.0 <= ev.onset_s <= ev.apex_s <= ev.offset_s <= 2.4
    assert ev.micro and ev.peak > 1.5
    assert [e.au for e in result.events] == ["AU12"]


def test_a_smile_held_through_the_whole_clip_is_kept():
    """No relaxed frame to learn from: the neutral stays the population's, the smile stays."""
    _, result = run([moved(LIP_CORNERS, dy=-0.08)] * 150)  # 5 s
    track = result.tracks[0]
    assert track.baseline_source == "population" and track.baseline_weight == 0.0
    assert by_code(track.intensity.mean(axis=0))["AU12"] > 1.5


def test_long_varied_footage_learns_the_person():
    """14 s alternating neutral and smile (varied frames): the person's own neutral, which
    is the relaxed face, so the smile still grades."""
    smile = moved(LIP_CORNERS, dy=-0.08)
    shapes = ([frontal_template()] * 40 + [smile] * 20) * 7
    _, result = run(shapes)
    track = result.tracks[0]
    assert track.baseline_source in ("blended", "person") and track.baseline_weight > 0.5
    assert by_code(track.intensity[-1])["AU12"] > 1.5


def test_a_blink_is_an_au45_event_and_never_micro():
    shut = moved(UPPER_LIDS, dy=0.09)  # the upper lids down onto the lower ones
    shapes = [frontal_template()] * 60 + [shut] * 6 + [frontal_template()] * 30  # 0.2 s
    _, result = run(shapes)
    (blink,) = [e for e in result.events if e.au == "AU45"]
    assert blink.peak > 1.5 and blink.duration_s < 0.5
    assert not blink.micro


def test_a_held_smile_is_not_micro():
    smile = moved(LIP_CORNERS, dy=-0.08)
    _, result = run([frontal_template()] * 60 + [smile] * 45 + [frontal_template()] * 30)
    (ev,) = [e for e in result.events if e.au == "AU12"]
    assert not ev.micro and ev.duration_s > 1.4
