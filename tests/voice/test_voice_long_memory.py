"""What the voice path keeps per utterance stays off the heap for long media (issue #24):
the encoder frames kept for the aggregator live in a scratch file, and word prosody reads
only the frames near its span, with the results of the whole-clip computation."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from emochat.ingest import load_audio
from emochat.voice import prosody as pros
from emochat.voice.speech_emotion import EncoderFrames, FrameStore


def _frames(rng, n: int, layers: int = 1, offset: float = 0.0) -> EncoderFrames:
    t = (offset + np.arange(n) / 25).astype(np.float32)
    x = rng.normal(size=(layers, n, 512)).astype(np.float16)
    return EncoderFrames(t, x, tuple(range(layers)) if layers > 1 else (-1,))


def test_frame_store_gives_the_frames_back_bit_for_bit():
    rng = np.random.default_rng(0)
    given = [_frames(rng, 100), _frames(rng, 0), _frames(rng, 37, layers=3, offset=9.0)]
    store = FrameStore()
    for f in given:
        store.append(f)
    assert len(store) == 3 and store.nbytes == sum(f.t_s.nbytes + f.states.nbytes for f in given)
    for got, want in zip([store[0], store[1], store[-1]], given, strict=True):
        assert got.layers == want.layers and got.states.dtype == want.states.dtype
        assert np.array_equal(got.t_s, want.t_s) and np.array_equal(got.states, want.states)
    assert [f.t_s.size for f in store[1:]] == [0, 37] and [f.t_s.size for f in store] == [
        100,
        0,
        37,
    ]
    store.close()
    assert len(store) == 0 and not store


def test_frame_store_memory_does_not_grow_with_the_speech_kept():
    """A list of the frames of 40 min of speech holds 60 MB; the store holds its index."""
    rng = np.random.default_rng(1)
    one = _frames(rng, 100)  # a 4-s utterance premixed as the aggregator keeps it: 100 KB

    def held_after(utterances: int) -> int:
        store = FrameStore()
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            for _ in range(utterances):
                store.append(one)
            held = tracemalloc.get_traced_memory()[0] - base
        finally:
            tracemalloc.stop()
        assert store.nbytes == utterances * (one.t_s.nbytes + one.states.nbytes)
        store.close()
        return held

    short, long = held_after(150), held_after(600)  # 10 and 40 minutes of speech
    per_utterance = (long - short) / 450
    assert long < 1_000_000, long  # a list would hold 61 MB
    assert per_utterance < 1_000, per_utterance  # the index entry, not the 100 KB of frames


def _summarize_whole_clip(frames, start_s, end_s, tolerance_s=0.0):
    """prosody.summarize as it was: weights over every frame of the clip, then masks."""
    p = pros.Prosody(round(start_s, 3), round(end_s, 3))
    t = frames.t_s
    if tolerance_s > 0:
        dist = np.maximum(np.maximum(start_s - t, t - end_s), 0.0)
        weight = np.clip(1.0 - dist / tolerance_s, 0.0, 1.0)
        weight[(t >= start_s) & (t < end_s)] = 1.0
    else:
        weight = ((t >= start_s) & (t < end_s)).astype(float)
    m = weight > 0
    if not m.any():
        return p
    voiced = m & frames.voiced
    v = frames.values

    def wmean(x, mask):
        return float(np.average(x[mask], weights=weight[mask]))

    p.loudness = pros._r(wmean(v["loudness"], m))
    p.voiced_fraction = round(float(weight[voiced].sum() / weight[m].sum()), 3)
    if voiced.sum() >= 3:
        core = voiced & (weight >= 0.5)
        f0 = v["pitch"][core if core.sum() >= 3 else voiced]
        p.pitch_mean_st = pros._r(wmean(v["pitch"], voiced), 2)
        p.pitch_range_st = pros._r(float(np.percentile(f0, 90) - np.percentile(f0, 10)), 2)
        p.jitter = pros._r(wmean(v["jitter"], voiced), 4)
        p.shimmer_db = pros._r(wmean(v["shimmer"], voiced), 3)
        p.hnr_db = pros._r(wmean(v["hnr"], voiced), 2)
    return p


@pytest.mark.parametrize("tolerance_s", [0.0, 0.08])
def test_span_prosody_from_nearby_frames_equals_the_whole_clip_computation(media_dir, tolerance_s):
    frames = pros.lld_frames(load_audio(media_dir / "talking/retalking_5.mp4"))
    assert frames.values["pitch"].dtype == np.float32  # as openSMILE gives them: half of float64
    # the reference as it ran before: on float64 copies of every frame of the clip
    whole = pros.Frames(frames.t_s, {k: v.astype(np.float64) for k, v in frames.values.items()})
    rng = np.random.default_rng(2)
    end = float(frames.t_s[-1])
    starts, lengths = rng.uniform(-0.5, end, 300), rng.uniform(0, 2, 300)
    spans = [(a, a + d) for a, d in zip(starts, lengths, strict=True)]
    spans += [(0.0, end + 1), (end - 0.05, end + 0.2), (-1.0, 0.02), (5.0, 5.0)]
    for a, b in spans:
        assert pros.summarize(frames, a, b, tolerance_s) == _summarize_whole_clip(
            whole, a, b, tolerance_s
        ), (a, b)


def test_the_voice_steps_report_progress_as_they_go(media_dir):
    """A long media's voice stage (VAD alone is ~30 min for 6 h here) must not sit at 0:
    VAD per 30-s chunk, ASR per window, then prosody and the speech emotion batches."""
    from emochat.voice.analysis import analyze_voice

    clip = load_audio(media_dir / "talking/retalking_5.mp4")
    audio = np.tile(clip, int(np.ceil(32 * 16_000 / clip.size)))  # two 30-s VAD chunks
    seen: list[float] = []
    voice = analyze_voice(audio, asr_model="tiny.en", beam_size=1, progress=seen.append)
    assert voice.utterances
    assert seen == sorted(seen) and seen[-1] == 1.0
    vad = [f for f in seen if f <= 0.4]
    assert len(vad) >= 2 and 0 < vad[0] < 0.4 and vad[-1] == pytest.approx(0.4, abs=0.01)
    assert any(0.4 < f <= 0.8 for f in seen) and 0.85 in seen


def test_aggregator_prosody_from_float32_frames_and_stats_once_equals_the_float64_run(
    media_dir,
):
    from emochat.fusion.aggregator import lld_at, lld_stats
    from emochat.models.aggregator.features import lld_frames

    lld_t, lld_x = lld_frames(pros.lld_frames(load_audio(media_dir / "talking/retalking_5.mp4")))
    assert lld_x.dtype == np.float32
    stats = lld_stats(lld_x, np.float64)
    for start in (0.0, 1.3, 4.0):
        t = (start + np.arange(60) / 25).astype(np.float32)
        got = lld_at(t, lld_t, lld_x, stats)
        assert np.array_equal(got, lld_at(t, lld_t, lld_x.astype(np.float64)))
        assert np.abs(got[:, :5]).max() > 0.1  # z-scores, not zeros
