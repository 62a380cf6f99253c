"""Fit and check the face reader's calibration on FER2013 (PublicTest fits, PrivateTest checks).

    python -m emochat.train.face_reader features   # ~8 min on 2 shared cores, cached in .cache/
    python -m emochat.train.face_reader fit        # writes reader_calibration.json
    python -m emochat.train.face_reader report     # PrivateTest figures (read only)

The CNN's probabilities are the shipped model's with its default views at temperature 1.
The AU intensities are the AU Agent's for a photo: landmarks of the crop upscaled to 192
px (as ``emochat.train.au_calibration`` takes them), judged against the population
neutral with one population spread of doubt; crops whose mesh presence is under 0.9 have
no AU reading and are scored by the CNN alone, as a face without landmarks would be.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from scipy.optimize import minimize, minimize_scalar

from emochat.core.labels import BASIC_LABELS
from emochat.core.probabilities import soften
from emochat.data.corpora import fer2013
from emochat.eval.metrics import expected_calibration_error
from emochat.face.au.baseline import population_prior
from emochat.face.au.geometry import frontal_landmarks, intensities, measure
from emochat.face.expression import CALIBRATION_FILE, ExpressionModel
from emochat.fusion.face_emotion import au_log_probs, pool_log_probs, prototype_score_array
from emochat.train.au_calibration.recipe import MIN_PRESENCE, crop_landmarks
from emochat.train.paths import CACHE_ROOT

CACHE = CACHE_ROOT / "face_reader"
SPLITS = {"fit": "val", "check": "test"}
MAX_AU_WEIGHT = 1.0
"""The AU reader may at most count as much as the CNN: it is the weaker reader on every
set measured, and the fit sees it on upscaled 48 px crops only."""


def _features_file(split: str):
    return CACHE / f"fer2013_{split}.npz"


def features(split: str) -> dict[str, np.ndarray]:
    """Cached CNN probabilities, AU intensities (NaN rows: no reliable mesh) and labels."""
    path = _features_file(split)
    if path.is_file():
        with np.load(path) as z:
            return dict(z)
    df = fer2013.load(split, images=True)
    crops = np.stack(df["image"].to_list())
    labels = np.array([BASIC_LABELS.index(b) for b in df["basic"]])
    cnn = ExpressionModel.load(temperature=1.0, num_threads=1).predict(crops)
    shapes, presence = crop_landmarks(crops)
    prior = population_prior()
    au = np.full((len(crops), 17), np.nan)
    for i, (pts, sure) in enumerate(zip(shapes, presence >= MIN_PRESENCE, strict=True)):
        if sure:
            frontal, _ = frontal_landmarks(pts.astype(np.float64))
            au[i] = intensities(measure(frontal), prior.median, prior.spread)
    CACHE.mkdir(parents=True, exist_ok=True)
    out = {"cnn": cnn, "au": au, "labels": labels}
    np.savez(path, **out)
    return out


def _nll(probs: np.ndarray, labels: np.ndarray) -> float:
    return float(-np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-9, 1.0)).mean())


def reader_probs(data: dict, cal: dict) -> dict[str, np.ndarray]:
    """The CNN tempered, the AU reader alone (rows with a mesh) and the pool (all rows)."""
    cnn = soften(data["cnn"].astype(np.float64), cal["temperature"])
    seen = ~np.isnan(data["au"]).any(axis=1)
    au_log = np.zeros_like(cnn)
    au_log[seen] = au_log_probs(
        prototype_score_array(data["au"][seen]), cal["au_sharpness"], cal["au_neutral_bias"]
    )
    return {
        "cnn": cnn,
        "au": np.exp(au_log[seen]),
        "pooled": pool_log_probs(cnn, au_log, cal["au_weight"]),
        "seen": seen,
    }


def fit(data: dict) -> dict:
    """Temperature, then the AU reader on its own, then the pooling weight: NLL each."""
    labels, seen = data["labels"], ~np.isnan(data["au"]).any(axis=1)
    raw = data["cnn"].astype(np.float64)
    t = minimize_scalar(
        lambda v: _nll(soften(raw, v), labels), bounds=(0.3, 5.0), method="bounded"
    ).x
    scores, seen_labels = prototype_score_array(data["au"][seen]), labels[seen]
    au = minimize(
        lambda v: _nll(np.exp(au_log_probs(scores, v[0], v[1])), seen_labels),
        x0=[3.0, 0.5],
        method="Nelder-Mead",
    ).x
    cal = {"temperature": t, "au_sharpness": au[0], "au_neutral_bias": au[1], "au_weight": 0.0}

    def pooled_nll(w: float) -> float:
        return _nll(reader_probs(data, {**cal, "au_weight": w})["pooled"], labels)

    cal["au_weight"] = minimize_scalar(pooled_nll, bounds=(0.0, MAX_AU_WEIGHT), method="bounded").x
    return {k: round(float(v), 4) for k, v in cal.items()}


def summary(data: dict, cal: dict) -> dict:
    """Accuracy, NLL and ECE (15 bins) of each reader, raw CNN included."""
    probs = reader_probs(data, cal)
    labels, seen = data["labels"], probs["seen"]
    rows = {
        "cnn_raw": (data["cnn"].astype(np.float64), labels),
        "cnn_calibrated": (probs["cnn"], labels),
        "au_reader": (probs["au"], labels[seen]),
        "pooled": (probs["pooled"], labels),
    }
    return {
        name: {
            "n": int(len(y)),
            "accuracy": round(float((p.argmax(1) == y).mean()), 4),
            "nll": round(_nll(p, y), 4),
            "ece": round(expected_calibration_error(p, y), 4),
        }
        for name, (p, y) in rows.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="emochat.train.face_reader", description=__doc__)
    parser.add_argument("step", choices=("features", "fit", "report"))
    step = parser.parse_args(argv).step
    if step == "features":
        for split in SPLITS.values():
            n = len(features(split)["labels"])
            print(f"{split}: {n} crops -> {_features_file(split)}")
        return 0
    if step == "fit":
        data = features(SPLITS["fit"])
        cal = fit(data)
        doc = {
            **cal,
            "fitted_on": "FER2013 PublicTest (split 1), NLL; PrivateTest never read",
            "publictest": summary(data, cal),
        }
        CALIBRATION_FILE.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        print(json.dumps(doc, indent=1))
        return 0
    cal = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    print(json.dumps(summary(features(SPLITS["check"]), cal), indent=1))
    return 0
