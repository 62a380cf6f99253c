"""The shipped aggregator.onnx (what analysis runs, issue #28) against the torch
aggregator.pt it is exported from, on real RAVDESS segments batched at different lengths.

Tolerance: every output (probabilities, agreement, pooled vector, word vectors,
attention) within 1e-4 absolute over the real (unpadded) words and frames.
"""

from __future__ import annotations

import numpy as np
import pytest

from emochat.fusion.aggregator import MODEL_FILE, Aggregator, SegmentInput, pad_batch
from emochat.models import registry

pytest.importorskip("torch")
TOL = 1e-4


@pytest.fixture(scope="module")
def models() -> tuple[Aggregator, Aggregator]:
    from emochat.train.aggregator.export import TORCH_FILE

    onnx = registry.load("aggregator")
    assert onnx.session is not None and MODEL_FILE.suffix == ".onnx"
    return onnx, Aggregator.load(TORCH_FILE)


@pytest.fixture(scope="module")
def segments(corpus, models) -> list[SegmentInput]:
    """Three real utterances (ASR words) and a shorter cut of one: 4 frame and word counts."""
    from emochat.fusion.aggregator_stage import segment_inputs
    from emochat.ingest import load_audio
    from emochat.voice import analyze_voice

    root = corpus("ravdess-speech")
    items = []
    for name in ("03-01-01-01-01-01-17", "03-01-05-02-02-02-17", "03-01-08-02-01-02-18"):
        audio = load_audio(root / f"Actor_{name[-2:]}" / f"{name}.flac")
        voice = analyze_voice(audio, language="en", keep_frames=models[0].reduce_frames)
        items += [it for it in segment_inputs(voice, voice.encoder_frames) if it is not None]
    assert len(items) >= 3
    first = items[0]
    keep = first.frame_t < first.spans[2, 1] + 0.1  # the first three words and their frames
    items.append(
        SegmentInput(
            first.words[:3],
            first.spans[:3],
            first.frame_t[keep],
            first.frames[keep],
            first.lld[keep],
        )
    )
    for it in items:  # embed once, so both models read the same word vectors
        it.word_vecs = np.asarray(
            it.word_vecs if it.word_vecs is not None else _vectors(it.words), np.float32
        )
    assert len({it.frame_t.size for it in items}) > 1 and len({len(it.words) for it in items}) > 1
    return items


def _vectors(words):
    from emochat.fusion.aggregator import word_vectors

    return word_vectors(words)


def test_onnx_outputs_match_torch_on_a_padded_batch(models, segments):
    onnx, torch_model = models
    batch = pad_batch(segments)
    got, ref = onnx.forward(batch), torch_model.forward(batch)
    for key in ("pooled", "logits", "agree_logit"):
        assert np.abs(got[key] - ref[key]).max() < TOL, key
    for i, it in enumerate(segments):
        n, t = len(it.words), it.frame_t.size
        assert np.abs(got["words"][i, :n] - ref["words"][i, :n]).max() < TOL
        assert np.abs(got["attention"][i, :n, :t] - ref["attention"][i, :n, :t]).max() < TOL


def test_predictions_match_torch_and_do_not_depend_on_the_batch(models, segments):
    onnx, torch_model = models
    together = onnx.predict(segments)
    for got, ref, alone in zip(
        together,
        torch_model.predict(segments),
        [onnx.predict([s])[0] for s in segments],
        strict=True,
    ):
        for other in (ref, alone):
            assert got.label == other.label
            for k in got.probs:
                assert got.probs[k] == pytest.approx(other.probs[k], abs=TOL + 1e-4)  # 4 decimals
            assert got.agreement == pytest.approx(other.agreement, abs=TOL + 1e-4)
            assert np.allclose(got.pooled, other.pooled, atol=TOL + 1e-4)
            assert np.allclose(got.word_attention_s, other.word_attention_s, atol=2e-3)


def test_the_shipped_onnx_is_the_export_of_the_shipped_pt(models, tmp_path):
    """The recipe's export step reproduces the shipped graph from the shipped weights."""
    from emochat.train.aggregator.export import export

    onnx, torch_model = models
    again = Aggregator.load(export(torch_model, tmp_path / "again.onnx"))
    assert again.cfg == onnx.cfg
    assert (tmp_path / "again.onnx").read_bytes() == MODEL_FILE.read_bytes()
