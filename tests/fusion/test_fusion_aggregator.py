"""Correlation Aggregator: the time-tolerant rule part, the attention's time bias, fusion use.

The model tests use a seeded random-weight network (labelled as such): they check the
relative-time bias and the shapes, not learned behaviour; the shipped model's accuracy
is in models/aggregator/CARD.md and its in-pipeline behaviour in test_fusion_aggregator_clip.py.
"""

from __future__ import annotations

import numpy as np
import torch

from emochat.fusion.aggregator import Aggregator, AggregatorConfig, SegmentInput, premix
from emochat.report.model import AggregatorEvidence, Emotion, VoiceEvidence
from emochat.voice import prosody as pros
from emochat.voice.speech_emotion import RAVDESS_LABELS, EncoderFrames


def _frames(n: int = 300, voiced_from: float = 1.0) -> pros.Frames:
    t = np.arange(n) * 0.01 + 0.01
    pitch = np.where(t >= voiced_from, 30.0, 0.0)
    loud = np.where(t >= voiced_from, 2.0, 0.1)
    values = {"pitch": pitch, "loudness": loud, "jitter": pitch * 0, "shimmer": pitch * 0}
    values["hnr"] = pitch * 0
    return pros.Frames(t, values)


def test_tolerance_window_reads_the_voice_just_outside_the_asr_span():
    frames = _frames(voiced_from=1.0)
    # an ASR word ending 50 ms before the voicing starts: the hard span sees silence
    hard = pros.summarize(frames, 0.6, 0.95)
    soft = pros.summarize(frames, 0.6, 0.95, tolerance_s=0.08)
    assert hard.voiced_fraction == 0.0 and hard.pitch_mean_st is None
    assert soft.voiced_fraction > 0 and soft.pitch_mean_st == 30.0
    assert soft.loudness > hard.loudness
    # frames beyond the tolerance never count
    far = pros.summarize(frames, 0.3, 0.9, tolerance_s=0.08)
    assert far.voiced_fraction == 0.0


def _random_model(seed: int = 0) -> Aggregator:
    torch.manual_seed(seed)
    return Aggregator(AggregatorConfig(RAVDESS_LABELS, meta={"note": "random weights"}))


def _segment(rng, spans) -> SegmentInput:
    t = np.arange(0.0, 3.0, 0.04, dtype=np.float32) + 0.02
    return SegmentInput(
        [f"w{i}" for i in range(len(spans))],
        np.array(spans, np.float32),
        t,
        rng.normal(size=(t.size, 512)).astype(np.float32),
        np.zeros((t.size, 6), np.float32),
        rng.normal(size=(len(spans), 384)).astype(np.float32),
    )


def test_each_word_attends_to_the_frames_under_it():
    rng = np.random.default_rng(0)
    spans = [[0.2, 0.5], [1.0, 1.3], [2.2, 2.6]]
    (result,) = _random_model().predict([_segment(rng, spans)])
    centres = [c for c, _ in result.word_attention_s]
    assert centres == sorted(centres)
    for (a, b), c in zip(spans, centres, strict=True):
        assert a - 0.2 <= c <= b + 0.2, (a, b, c)
    assert abs(sum(result.probs.values()) - 1) < 1e-3 and 0 <= result.agreement <= 1
    assert len(result.pooled) == 128 and len(result.word_vectors) == 3


def test_batching_pads_without_changing_answers():
    rng = np.random.default_rng(1)
    model = _random_model()
    short, long = _segment(rng, [[0.2, 0.6]]), _segment(rng, [[0.1, 0.4], [0.5, 1.2]])
    long.frame_t, long.frames, long.lld = long.frame_t[:50], long.frames[:50], long.lld[:50]
    alone = model.predict([short])[0]
    together = model.predict([short, long])[0]
    assert np.allclose(list(alone.probs.values()), list(together.probs.values()), atol=1e-3)


def test_premix_keeps_times_and_halves_the_frame_rate():
    states = np.random.default_rng(2).normal(size=(7, 11, 512)).astype(np.float32)
    t = 0.5 + 0.02 * np.arange(11) + 0.01
    frames = EncoderFrames(t, states, tuple(range(7)))
    model = _random_model()
    kept = model.reduce_frames(frames)
    assert kept.states.shape == (1, 5, 512) and kept.states.dtype == np.float16
    assert np.allclose(kept.t_s, (t[:10:2] + t[1:10:2]) / 2)
    t2, x = premix(states, t, tuple(range(7)), (2, 3, 4, 5))
    assert np.allclose(x, kept.states[0], atol=1e-2) and np.allclose(t2, kept.t_s)


def test_voice_cue_is_one_cue_whatever_the_policy():
    linear = Emotion("sad", {k: (0.65 if k == "sad" else 0.05) for k in RAVDESS_LABELS})
    agg_probs = {k: (0.65 if k == "happy" else 0.05) for k in RAVDESS_LABELS}
    agg = AggregatorEvidence(
        emotion=Emotion("happy", agg_probs, source="aggregator"),
        agreement=0.5,
        vector=[],
        model="test",
        fusion_policy="evidence_only",
    )
    ev = VoiceEvidence(start_s=0.0, end_s=1.0, text="", emotion=linear, aggregator=agg)
    assert ev.emotion_for_fusion is linear
    agg.fusion_policy = "replace"
    assert ev.emotion_for_fusion.label == "happy"
    agg.fusion_policy = "ensemble"
    mixed = ev.emotion_for_fusion
    assert abs(mixed.probs["sad"] - mixed.probs["happy"]) < 1e-6
    assert abs(sum(mixed.probs.values()) - 1) < 1e-3
