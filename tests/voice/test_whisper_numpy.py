"""The numpy whisper-base encoder (what analysis runs, issue #28) against the torch one the
speech head and the aggregator were trained on (emochat.testing.whisper_torch).

Tolerance: per layer, max |numpy - torch| <= 1e-4 x max |torch| (float32 summation order;
layers 4-5 carry activations of ~460 whose float32 spacing is ~3e-5, measured 1.8e-5 of
the scale), and speech-emotion probabilities within 1e-4.
"""

from __future__ import annotations

import numpy as np
import pytest

from emochat.ingest import load_audio
from emochat.voice import whisper_encoder

pytest.importorskip("torch")
from emochat.testing import whisper_torch  # noqa: E402  (needs torch)

CLIPS = ("Actor_17/03-01-01-01-01-01-17.flac", "Actor_17/03-01-05-02-02-02-17.flac")


@pytest.fixture(scope="module")
def speech(corpus) -> list[np.ndarray]:
    root = corpus("ravdess-speech")
    return [load_audio(root / c) for c in CLIPS]


def test_every_layer_matches_torch(speech):
    for audio in speech:
        ref = whisper_torch.hidden_states(audio)
        got = whisper_encoder.hidden_states(audio)
        assert len(got) == len(ref) == 7
        for layer, (r, g) in enumerate(zip(ref, got, strict=True)):
            assert g.shape == r.shape and g.dtype == np.float32
            rel = np.abs(g - r).max() / np.abs(r).max()
            assert rel < 1e-4, f"layer {layer}: {rel:.2e}"


def test_max_layer_stops_early_with_the_same_states(speech):
    full = whisper_encoder.hidden_states(speech[0])
    part = whisper_encoder.hidden_states(speech[0], max_layer=3)
    assert len(part) == 4  # input embedding + 3 blocks, the last not layer-normed
    for a, b in zip(part, full[:4], strict=True):
        np.testing.assert_array_equal(a, b)


def test_speech_emotion_probabilities_match_torch(speech, monkeypatch):
    from emochat.voice.speech_emotion import SpeechEmotionModel

    model = SpeechEmotionModel.load()
    got = model.predict(speech)
    monkeypatch.setattr(whisper_encoder, "hidden_states", whisper_torch.hidden_states)
    ref = model.predict(speech)
    for g, r in zip(got, ref, strict=True):
        assert g.label == r.label
        for k in model.labels:
            assert g.probs[k] == pytest.approx(r.probs[k], abs=1e-4)
