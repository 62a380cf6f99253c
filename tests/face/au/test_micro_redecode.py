"""Micro-expressions at the default analysis rate: candidates re-read at the native rate.

Real media: a brief smile spliced into a still MEAD face (the apex frames of the same
actor's posed happy clip, 5 frames = 0.17 s at 30 fps) must be found at 10 fps once the
candidate is re-decoded, and a talking clip must give none.
"""

import cv2
import numpy as np
import pytest

from emochat.core.settings import media_root
from emochat.face.au import AU_CODES, AUAgent, AUEvent, AUResult, analyze_faces, refine_micro
from emochat.face.au.events import SPEECH_OPENINGS, mouth_openings
from emochat.face.au.micro import candidates
from emochat.ingest import iter_frames, iter_frames_in

MEAD = media_root() / "mead-video"
FPS = 30.0


def _frame_where(path, au, pick) -> int:
    track = next(iter(analyze_faces(iter_frames(path)).au.tracks.values()))
    return int(track.frame_index[int(pick(track.intensity[:, AU_CODES.index(au)]))])


@pytest.fixture(scope="module")
def spliced(tmp_path_factory):
    """A still neutral face for 1.5 s, 5 frames of a smile's apex, the still face again.

    The still frame is the neutral clip's frame with the lips closest together (the actor
    talks); the apex is the happy clip's frame of strongest AU12 and its two neighbours
    each side."""
    neutral_path = MEAD / "M030_front_neutral_level1_001.mp4"
    happy_path = MEAD / "M030_front_happy_level3_001.mp4"
    still = _frame_where(neutral_path, "AU25", np.argmin)
    apex = _frame_where(happy_path, "AU12", np.argmax)
    neutral = next(f.rgb for f in iter_frames(neutral_path) if f.index == still)
    frames = {f.index: f.rgb for f in iter_frames(happy_path) if apex - 2 <= f.index <= apex + 2}
    seq = [neutral] * 45 + [frames[i] for i in sorted(frames)] + [neutral] * 45
    path = tmp_path_factory.mktemp("micro") / "spliced_smile.mp4"
    h, w = neutral.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (w, h))
    for rgb in seq:
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def _micro(path, fps):
    agent = AUAgent()
    analysis = analyze_faces(iter_frames(path, fps=fps), agent=agent)
    return analysis, refine_micro(path, analysis, agent)


def test_a_brief_smile_is_found_at_10_fps_after_re_decoding(spliced):
    sampled, refined = _micro(spliced, 10.0)
    assert not any(e.micro for e in sampled.au.events)  # 10 fps alone cannot tell
    micro = [e for e in refined.au.events if e.micro]
    assert [e.au for e in micro] == ["AU12"]
    (ev,) = micro
    assert 1.4 <= ev.onset_s <= ev.apex_s < ev.offset_s <= 1.8  # the splice is 1.5-1.67 s
    assert ev.duration_s < 0.5 and ev.peak >= 1.5
    assert ev.offset_s - ev.onset_s < 0.3  # native times, not the 0.1 s grid's


def test_the_same_smile_is_micro_at_the_native_rate(spliced):
    native, unchanged = _micro(spliced, None)
    assert unchanged is native  # nothing to re-read: every frame was analysed
    assert [e.au for e in native.au.events if e.micro] == ["AU12"]


@pytest.mark.parametrize("clip", ["talking/retalking_2.mp4", "talking/hdtf_katiehill.mp4"])
def test_talking_clip_has_no_micro_expression_at_the_default_rate(clip):
    """Each of these clips had an AU12 'micro-expression' that was the lips' articulation."""
    path = media_root() / clip
    analysis, refined = _micro(path, 10.0)
    assert analysis.au.events, "the clip has AU events to judge"
    assert not [e for e in refined.au.events if e.micro]


def test_blinks_and_speech_aus_are_never_candidates():
    events = [AUEvent(0, au, 1.0, 1.1, 1.2, 3.0, False) for au in ("AU45", "AU25", "AU26", "AU12")]
    assert [e.au for e in candidates(AUResult(tracks={}, events=events), 0.1)] == ["AU12"]


def test_syllable_rhythm_is_counted_and_one_opening_is_not_speech():
    t = np.arange(0, 1.5, 1 / 30)
    syllables = 2.0 + 2.0 * np.sin(2 * np.pi * 4 * t)  # lips open and close 4 times a second
    assert mouth_openings(syllables) >= 5
    gasp = np.concatenate([np.zeros(10), np.full(6, 3.0), np.zeros(10)])
    assert mouth_openings(gasp) == 1 < SPEECH_OPENINGS
    assert mouth_openings(np.full(20, 4.9)) == 0  # open and still: no rhythm


@pytest.mark.parametrize(
    "clip", ["mead-video/M030_front_neutral_level1_001.mp4", "talking/hdtf_aoc.mp4"]
)
def test_window_decoding_gives_the_frames_a_full_decode_gives(clip):
    """Windows near each other are decoded on, a far one (hdtf_aoc: 6 s on) is sought:
    either way every frame inside, with the full decode's time, index and pixels."""
    path = media_root() / clip
    windows = [(0.5, 0.7), (1.0, 1.1), (6.6, 6.9)]
    got = list(iter_frames_in(path, windows, max_side=None))
    full = list(iter_frames(path, max_side=None))
    for k, (a, b) in enumerate(windows):
        want = [f for f in full if a - 1e-6 <= f.t_s <= b + 1e-6]
        mine = [f for w, f in got if w == k]
        assert [f.t_s for f in mine] == pytest.approx([f.t_s for f in want], abs=1e-4)
        assert [f.index for f in mine] == [f.index for f in want]
        assert all(np.array_equal(x.rgb, y.rgb) for x, y in zip(mine, want, strict=True))
    assert {k for k, _ in got} == ({0, 1, 2} if full[-1].t_s > 6.9 else {0, 1})


def test_without_the_re_read_nothing_is_flagged_micro_and_the_report_says_so(spliced):
    """``micro_reread=False`` (``--no-micro-reread``): the spliced smile, micro with the
    default options, is not flagged, and a warning says why."""
    from emochat.api import Analyzer
    from emochat.options import AnalyzeOptions

    analyzer = Analyzer()
    default = analyzer.run(spliced).report
    assert [e["au"] for e in default.au["events"] if e["micro"]] == ["AU12"]
    assert "micro_not_checked" not in {w.code for w in default.warnings}
    off = analyzer.run(spliced, options=AnalyzeOptions(micro_reread=False)).report
    assert off.au["events"] and not any(e["micro"] for e in off.au["events"])
    (warning,) = [w for w in off.warnings if w.code == "micro_not_checked"]
    assert "no event is flagged micro" in warning.message
