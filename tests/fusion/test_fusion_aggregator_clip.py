"""The shipped Correlation Aggregator on a real clip: espeak-ng speech muxed with a face video.

The sentence is one of RAVDESS' two, the vocabulary the aggregator was trained on. The
agreement score is checked on real held-out RAVDESS speech: words at their ASR times
must score higher than the same words moved half a second off the speech.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from emochat.cli import main
from emochat.fusion.aggregator_stage import segment_inputs, shipped_model
from emochat.report.model import validate_report
from emochat.testing.synth import espeak, mux_with_video

SENTENCE = "Kids are talking by the door."


@pytest.fixture(scope="module")
def clip(sample_clip, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("aggregator_clip")
    audio = np.concatenate([np.zeros(8000, np.float32), espeak(SENTENCE, wpm=150)])
    return mux_with_video(sample_clip, audio, tmp / "kids.mp4"), audio


@pytest.fixture(scope="module")
def report(clip, tmp_path_factory):
    out = tmp_path_factory.mktemp("aggregator_out")
    assert main(["analyze", str(clip[0]), "-o", str(out), "-q"]) == 0
    data = json.loads((out / "report.json").read_text())
    validate_report(data)
    return data


def test_words_are_aligned_and_the_token_is_in_the_report(report):
    seg = next(s for s in report["segments"] if s.get("text"))
    voice = seg["evidence"]["voice"]
    agg = voice["aggregator"]
    assert 0.0 <= agg["agreement"] <= 1.0 and len(agg["vector"]) == 128
    assert abs(sum(agg["emotion"]["probs"].values()) - 1) < 1e-2
    assert agg["fusion_policy"] in ("replace", "ensemble", "evidence_only")
    words = voice["words"]
    assert [w["text"].strip(".").lower() for w in words] == SENTENCE.strip(".").lower().split()
    for w in words:
        lo, hi = w["window_s"]
        assert lo < w["start_s"] < w["end_s"] < hi
        # each word's attention centre lies on or near its own span (within 150 ms)
        assert w["start_s"] - 0.15 <= w["attention_s"] <= w["end_s"] + 0.15, w
    centres = [w["attention_s"] for w in words]
    assert centres == sorted(centres)
    assert report["timings_s"]["aggregator"] >= 0
    assert "voice" in seg["emotion"]["weights"]


def test_agreement_drops_when_the_words_are_moved_off_their_audio():
    """On real speech (RAVDESS held-out actors, ASR words), not synthetic: on espeak-ng
    voices the agreement is near 0 whatever the times (out of domain, see the card)."""
    from emochat.data.corpora import ravdess
    from emochat.ingest import load_audio
    from emochat.voice import analyze_voice

    model = shipped_model()
    true, moved = [], []
    for path in ravdess.load("test")["path"].iloc[::48][:5]:
        voice = analyze_voice(load_audio(path), keep_frames=model.reduce_frames)
        (item,) = [it for it in segment_inputs(voice, voice.encoder_frames) if it is not None]
        true.append(model.predict([item])[0].agreement)
        for shift in (-0.6, 0.6):
            off = type(item)(item.words, item.spans + shift, item.frame_t, item.frames, item.lld)
            moved.append(model.predict([off])[0].agreement)
    assert np.mean(true) > np.mean(moved) + 0.3, (true, moved)
    assert max(moved) < 0.05, moved


def test_encoder_frames_are_released_once_the_tokens_exist(clip):
    """The voice stage puts the kept frames as their own artifact; the aggregator frees them."""
    from emochat.api import Analyzer
    from emochat.pipeline import Hooks
    from emochat.voice.analysis import UtteranceFrames, VoiceAnalysis
    from emochat.voice.speech_emotion import FrameStore

    class Artifacts(Hooks):
        def __init__(self):
            self.made = {}

        def on_artifact(self, kind, artifact):
            self.made[kind] = artifact
            if kind is UtteranceFrames:  # as the aggregator will read them
                self.count, self.first = len(artifact.frames), artifact.frames[0]

    hooks = Artifacts()
    ctx = Analyzer().run(clip[0], hooks)
    assert hooks.count == len(ctx.get(VoiceAnalysis).utterances) >= 1
    assert hooks.first.states.dtype == np.float16  # reduced to what the aggregator reads
    assert ctx.find(UtteranceFrames) is None and ctx.get(VoiceAnalysis).encoder_frames == []
    store = hooks.made[UtteranceFrames].frames  # spilled to disk, and the file closed
    assert isinstance(store, FrameStore) and len(store) == 0 and store._file is None
    assert any(s.evidence["voice"].aggregator for s in ctx.segments if "voice" in s.evidence)
