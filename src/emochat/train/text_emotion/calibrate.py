"""Fit the text model's temperature on its selection splits and write calibration.json.

``python -m emochat.train.text_emotion calibrate``: one temperature for the logits of the
default (``dialogue``) domain, fitted by negative log-likelihood on MELD dev and the
held-back 10 % of SMP2020 train (the splits the head's recipe already selected on); the
held-out MELD test and SMP2020 dev are only scored (ECE before/after), never fitted.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

import numpy as np

from emochat.core.files import atomic_write_text, file_sha256
from emochat.eval.metrics import expected_calibration_error
from emochat.models import registry
from emochat.text.model import CALIBRATION_FILE
from emochat.train.calibration import fit_temperature, soften
from emochat.train.fusion.predictions import TEXT_POOLS, text_pool


def main(argv: Sequence[str] | None = None) -> int:
    argparse.ArgumentParser(
        prog="emochat.train.text_emotion calibrate", description=__doc__.split("\n\n")[0]
    ).parse_args(argv)
    pools = {key: text_pool(*key, calibrated=False) for key in TEXT_POOLS}
    selection = [p for (_, role), p in pools.items() if role == "selection"]
    temperature = fit_temperature(
        np.concatenate([p.probs for p in selection]), np.concatenate([p.labels for p in selection])
    )
    scores = {}
    for (language, role), pool in pools.items():
        corpus, split = TEXT_POOLS[(language, role)]
        scores[f"{corpus}_{split}{'_selection' if role == 'selection' else ''}"] = {
            "n": len(pool.labels),
            "accuracy": round(pool.accuracy(), 4),
            "ece_before": round(expected_calibration_error(pool.probs, pool.labels), 4),
            "ece_after": round(
                expected_calibration_error(soften(pool.probs, temperature), pool.labels), 4
            ),
        }
    model_file = registry.weight_file("text_emotion")
    calibration = {
        "temperature": round(temperature, 4),
        "model_sha256": file_sha256(model_file),
        "fitted_on": "MELD dev + SMP2020 train held-back 10 % (seed 0), dialogue domain, NLL",
        "ece_15_bins": scores,
    }
    atomic_write_text(model_file.parent / CALIBRATION_FILE, json.dumps(calibration, indent=1))
    print(json.dumps(calibration, indent=1))
    return 0
