"""FER2013 crops as PNG files through `emochat predict face --crops DIR`: accuracy and speed.

Checks that a folder of face crops scored through the real CLI (PNG written and decoded,
folder expanded, crops batched) gets what ``emochat eval fer2013`` gets on the same
arrays: the split's crops are written as ``00000.png``... to a temporary folder, one
``emochat predict face --crops DIR --format jsonl`` runs in a child process, and its
labels are scored against the gold ones and compared with
:func:`emochat.face.predict.predict_face_arrays` (eval's predictor) on the arrays.
crops/s is end to end: the child's wall time, start-up and model load included; its
peak RSS shows memory stays bounded however many files the folder holds.

    python bench/predict_face_crops.py                        # PrivateTest, 3,589 crops
    python bench/predict_face_crops.py --split val --limit 300  # a quick check

Prints a BENCHMARKS.md row (date | machine | command | figures).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from common import row

import emochat
from emochat.core.labels import BASIC_LABELS
from emochat.data.corpora import fer2013
from emochat.eval.metrics import accuracy, macro_f1
from emochat.face.predict import predict_face_arrays


def run_cli(folder: Path, out: Path) -> tuple[int, float, float]:
    """(exit code, wall s, peak RSS MiB) of `emochat predict face --crops folder` -> out."""
    # the child imports the same emochat as this process, installed or not
    src = str(Path(emochat.__file__).resolve().parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")])),
    }
    cmd = [sys.executable, "-m", "emochat", "predict", "face", "--crops", str(folder)]
    with open(out, "w") as fh:
        t0 = time.perf_counter()
        proc = subprocess.Popen([*cmd, "--format", "jsonl"], stdout=fh, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    return os.waitstatus_to_exitcode(status), wall, usage.ru_maxrss / 1024


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=["val", "test"], default="test", help="val = PublicTest")
    ap.add_argument(
        "--limit", type=int, default=None, help="only N of the split's crops (a fixed sample)"
    )
    args = ap.parse_args(argv)

    df = fer2013.load(args.split, images=True)
    if args.limit is not None and args.limit < len(df):
        # a fixed random sample: the npz holds each split sorted by class (head = all angry)
        df = df.sample(args.limit, random_state=0).sort_values("id")
    images = [np.asarray(im, np.uint8) for im in df["image"]]
    gold = list(df["basic"])
    n = len(images)
    with tempfile.TemporaryDirectory(prefix="emochat-crops-") as tmp:
        folder = Path(tmp) / "crops"
        folder.mkdir()
        for i, image in enumerate(images):
            if not cv2.imwrite(str(folder / f"{i:05d}.png"), image):
                raise SystemExit(f"could not write {folder / f'{i:05d}.png'}")
        code, wall, rss = run_cli(folder, Path(tmp) / "out.jsonl")
        rows = [json.loads(line) for line in (Path(tmp) / "out.jsonl").read_text().splitlines()]
    by_file = {Path(r["input"]).name: r for r in rows}
    missing = [i for i in range(n) if f"{i:05d}.png" not in by_file]
    if code != 0 or missing or len(rows) != n:
        print(
            f"emochat predict face exited {code}; {len(rows)} lines for {n} crops", file=sys.stderr
        )
        return 1
    cli = [by_file[f"{i:05d}.png"] for i in range(n)]
    pred = [r["label"] for r in cli]
    ref = predict_face_arrays(images)
    same_labels = sum(a["label"] == b["label"] for a, b in zip(cli, ref, strict=True))
    same_probs = sum(a["probs"] == b["probs"] for a, b in zip(cli, ref, strict=True))
    name = {"val": "PublicTest", "test": "PrivateTest"}[args.split]
    print(
        row(
            f"`emochat predict face --crops DIR` on FER2013 {name} (n={n}) as PNG files: "
            f"accuracy {accuracy(gold, pred):.1%}, macro-F1 "
            f"{macro_f1(gold, pred, BASIC_LABELS):.3f}; {n / wall:.0f} crops/s end to end "
            f"({wall:.1f} s with start-up, peak RSS {rss:.0f} MiB); same as predict_face_arrays "
            f"(eval fer2013's predictor): labels {same_labels}/{n}, probs {same_probs}/{n}"
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
