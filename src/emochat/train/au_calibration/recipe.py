"""Rebuild the shipped frontal template and population neutral from FER2013 *train* faces.

    python -m emochat.train.au_calibration [--per-class 1500]

Landmarks come from the same LiteRT mesh model the tracker uses, on 48x48 faces
upscaled to 192; only split 0 (train) is read, never the held-out PrivateTest.
Writes ``emochat/face/frontal_template.npz`` and ``emochat/face/au/neutral_prior.json`` (beside
the modules that load them).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from emochat.core.errors import DataError
from emochat.core.settings import data_root
from emochat.face import pose
from emochat.face.au import baseline
from emochat.face.au.baseline import PRIOR_FILE
from emochat.face.au.definitions import MEASUREMENT_NAMES
from emochat.face.au.geometry import measure
from emochat.face.landmarker import Landmarker, Region, region_from_landmarks
from emochat.face.pose import TEMPLATE_FILE, align
from emochat.face.template import build_template

NEUTRAL = 6  # FER2013 label order: angry disgust fear happy sad surprise neutral
TRAIN_SPLIT = 0
MIN_PRESENCE = 0.9


def fer_landmarks(
    per_class: int, labels_wanted: tuple[int, ...] = (NEUTRAL,), seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(landmarks N x 478 x 3, labels N) for faces the mesh model is sure of."""
    path = data_root() / "fer2013" / "fer2013.npz"
    if not path.is_file():
        raise DataError(path, "FER2013 not found (see data/README.md)")
    data = np.load(path)
    images, labels, split = data["images"], data["labels"], data["split"]
    rng = np.random.default_rng(seed)
    chosen = []
    for label in labels_wanted:
        idx = np.flatnonzero((split == TRAIN_SPLIT) & (labels == label))
        chosen += list(rng.choice(idx, size=min(per_class, len(idx)), replace=False))
    chosen = sorted(chosen)
    shapes, presence = crop_landmarks(images[chosen])
    sure = presence >= MIN_PRESENCE
    return shapes[sure], labels[chosen][sure]


def crop_landmarks(crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(landmarks N x 478 x 3 in 192 px coordinates, mesh presence N) of 48x48 face crops,
    each upscaled to 192 px; the region is refined three times from the mesh itself."""
    landmarker = Landmarker(with_iris=True, num_threads=1)
    shapes, presences = [], []
    for crop in crops:
        rgb = cv2.cvtColor(
            cv2.resize(crop, (192, 192), interpolation=cv2.INTER_CUBIC), cv2.COLOR_GRAY2RGB
        )
        region = Region(96.0, 100.0, 192 * 1.3, 0.0)  # FER crops are tight: the face fills it
        for _ in range(3):
            pts, presence = landmarker.run(rgb, region)
            region = region_from_landmarks(pts)
        shapes.append(pts)
        presences.append(presence)
    return np.stack(shapes), np.asarray(presences)


def neutral_prior(frontal_neutral: np.ndarray) -> dict:
    values = measure(frontal_neutral)
    median = np.median(values, axis=0)
    spread = 1.4826 * np.median(np.abs(values - median), axis=0)
    return {
        "source": "FER2013 train split, neutral label, LiteRT face_landmark mesh",
        "n_faces": int(len(values)),
        "measurements": list(MEASUREMENT_NAMES),
        "median": [round(float(v), 5) for v in median],
        "spread": [round(float(v), 5) for v in spread],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="emochat.train.au_calibration", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--per-class", type=int, default=2000)
    parser.add_argument("--template-faces", type=int, default=1000)
    args = parser.parse_args(argv)
    shapes, labels = fer_landmarks(args.per_class)
    neutral = shapes[labels == NEUTRAL].astype(np.float64)
    template = build_template(neutral[: args.template_faces])
    np.savez(Path(pose.__file__).parent / TEMPLATE_FILE, landmarks=template)
    frontal = np.stack([align(s, template.astype(np.float64)).to_frontal(s) for s in neutral])
    prior = neutral_prior(frontal)
    (Path(baseline.__file__).parent / PRIOR_FILE).write_text(
        json.dumps(prior, indent=1) + "\n", encoding="utf-8"
    )
    print(
        f"template from {min(len(neutral), args.template_faces)} faces, prior from {len(neutral)}"
    )


if __name__ == "__main__":
    main()
