"""Segmentation: utterances kept, silent stretches windowed, nothing lost."""

from __future__ import annotations

from emochat.fusion.stages import SegmentStage
from emochat.pipeline.runner import Pipeline
from emochat.report.model import Segment
from emochat.testing.synth import write_media


class _Utterances:
    name = "fake_voice"

    def __init__(self, spans):
        self.spans = spans

    def run(self, ctx):
        ctx.segments = [Segment(a, b, text="words") for a, b in self.spans]


def _segments(tmp_path, spans, duration=10.0):
    clip = write_media(tmp_path / "c.mp4", duration, width=64, height=64, fps=5)
    ctx = Pipeline([_Utterances(spans), SegmentStage()]).run(clip)
    return [(s.start_s, s.end_s, s.text) for s in ctx.segments]


def test_no_speech_windows_the_whole_clip(tmp_path):
    assert _segments(tmp_path, []) == [
        (0.0, 3.333, None),
        (3.333, 6.667, None),
        (6.667, 10.0, None),
    ]


def test_gaps_between_utterances_are_windowed_and_short_gaps_are_not(tmp_path):
    got = _segments(tmp_path, [(0.5, 2.0), (2.4, 3.0), (7.0, 8.0)])
    assert got == [
        (0.5, 2.0, "words"),
        (2.4, 3.0, "words"),
        (3.0, 7.0, None),
        (7.0, 8.0, "words"),
        (8.0, 10.0, None),
    ]
