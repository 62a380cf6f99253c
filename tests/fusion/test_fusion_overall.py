"""The clip's answer leans on the segments that are sure, and says when none is."""

from __future__ import annotations

from emochat.core.labels import BASIC_LABELS
from emochat.fusion.stages import FusionStage, OverallStage
from emochat.pipeline.runner import Pipeline
from emochat.report.model import Emotion, Segment, TextEvidence
from emochat.testing.synth import write_media


def _e(label: str, p: float) -> Emotion:
    rest = (1 - p) / (len(BASIC_LABELS) - 1)
    return Emotion(label, {k: (p if k == label else rest) for k in BASIC_LABELS}, source="t")


class _Said:
    """Segments with their words and a text reading of them (no speech model needed)."""

    name = "fake_text"

    def __init__(self, said):
        self.said = said

    def run(self, ctx):
        ctx.segments = []
        for start, end, text, emotion in self.said:
            seg = Segment(start, end, text=text)
            seg.evidence["text"] = TextEvidence(text=text, emotion=emotion)
            ctx.segments.append(seg)


def _overall(tmp_path, said):
    clip = write_media(tmp_path / "c.mp4", 8.0, width=64, height=64, fps=5)
    return Pipeline([_Said(said), FusionStage(), OverallStage()]).run(clip).report.overall


def test_a_short_sure_segment_outweighs_a_long_flat_one(tmp_path):
    overall = _overall(
        tmp_path,
        [
            (0.0, 6.0, "hm", _e("neutral", 0.3)),
            (6.0, 7.5, "I am so angry with you right now", _e("angry", 0.9)),
        ],
    )
    assert overall.label == "angry"
    assert overall.uncertain is None


def test_only_flat_segments_make_an_uncertain_clip(tmp_path):
    overall = _overall(
        tmp_path, [(0.0, 3.0, "hm", _e("sad", 0.3)), (3.0, 6.0, "well", _e("neutral", 0.3))]
    )
    assert overall.uncertain is not None
    assert overall.uncertain["reason"] in ("flat", "segments")
