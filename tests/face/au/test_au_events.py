"""Events and their description in words, on hand-made intensity series."""

import numpy as np
import pytest

from emochat.face.au import AU_CODES
from emochat.face.au.definitions import intensity_word
from emochat.face.au.events import AUEvent, describe_events, find_events

AU4 = AU_CODES.index("AU04")


def series(values, fps=10.0, au="AU04", every=1):
    """Times, intensities, presence and decoded-frame indices of one AU's series, sampled
    at ``fps`` from a video whose native rate is ``every`` times that."""
    t = np.arange(len(values)) / fps
    intensity = np.zeros((len(values), len(AU_CODES)), dtype=np.float32)
    intensity[:, AU_CODES.index(au)] = values
    return t, intensity, intensity >= 1.0, np.arange(len(values)) * every


def test_onset_apex_offset_and_peak():
    t, i, p, f = series([0, 0, 1.2, 2.5, 3.1, 2.0, 1.1, 0.2, 0, 0])
    (ev,) = find_events(3, t, i, p, f)
    assert ev.face_id == 3 and ev.au == "AU04"
    assert (ev.onset_s, ev.apex_s, ev.offset_s) == (0.2, 0.4, 0.7)
    assert abs(ev.peak - 3.1) < 1e-6 and ev.micro  # 0.5 s is not under 0.5 s? 0.7-0.2 = 0.5
    assert ev.duration_s == 0.7 - 0.2


def test_long_event_is_not_micro_and_a_gap_splits_events():
    values = [0] + [2.0] * 8 + [0]
    t, i, p, f = series(values)
    (ev,) = find_events(0, t, i, p, f)
    assert not ev.micro and ev.duration_s > 0.5
    t = np.concatenate([t[:5], t[5:] + 2.0])  # the face was unseen for 2 s
    events = find_events(0, t, i, p, f)
    assert len(events) == 2 and events[0].offset_s == t[4]


def test_event_running_when_the_track_starts_is_not_micro():
    t, i, p, f = series([2.0, 2.0, 0.0])
    (ev,) = find_events(0, t, i, p, f)
    assert not ev.micro


BRIEF = [0, 0, 1.2, 2.5, 3.1, 2.0, 1.1, 0.2, 0, 0]


@pytest.mark.parametrize("au", ["AU45", "AU25", "AU26"])
def test_blinks_and_mouth_opening_are_never_micro(au):
    (ev,) = find_events(0, *series(BRIEF, au=au))
    assert ev.duration_s < 0.6 and not ev.micro


def test_micro_needs_every_native_frame_seen():
    """The same brief brow lowering sampled at a third of the video's rate is not micro,
    nor is a one-sample blip whose apex is its onset."""
    (ev,) = find_events(0, *series(BRIEF, every=3))
    assert not ev.micro
    (blip,) = find_events(0, *series([0, 0, 2.0, 0, 0]))
    assert not blip.micro


def test_description_wording_and_times():
    events = [
        AUEvent(0, "AU04", 1.2, 1.5, 1.8, 3.2, False),
        AUEvent(0, "AU15", 0.0, 1.0, 3.0, 2.1, False),
        AUEvent(0, "AU12", 5.0, 5.1, 5.3, 1.2, True),
    ]
    text = describe_events(events, 0.0, 3.0)
    assert text == (
        "brow lowerer (AU4) strong (peak 3.2), 1.2-1.8 s; "
        "lip corner depressor (AU15) moderate (peak 2.1)"
    )
    assert describe_events(events, 4.0, 6.0).endswith("micro-expression")
    assert [intensity_word(v) for v in (1.0, 2.0, 3.0, 4.5)] == [
        "slight", "moderate", "strong", "very strong",
    ]  # fmt: skip
    # graded as shown at one decimal: a value printed "2.5" is never called moderate
    assert [intensity_word(v) for v in (2.44, 2.46, 1.449, 3.46)] == [
        "moderate", "strong", "slight", "very strong",
    ]  # fmt: skip


def test_au_definitions_doc_is_generated_from_the_code():
    from pathlib import Path

    from emochat.face.au.definitions import ACTION_UNITS, render_markdown

    doc = Path(__file__).resolve().parents[3] / "docs" / "au_definitions.md"
    assert doc.read_text(encoding="utf-8") == render_markdown(), (
        "regenerate: python -m emochat.face.au.definitions > docs/au_definitions.md"
    )
    assert [au.code for au in ACTION_UNITS] == list(AU_CODES) and len(AU_CODES) == 17
