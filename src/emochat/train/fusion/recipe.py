"""Fit the fusion weights on synthetic multimodal pairs and score them on the test pairs.

A synthetic sample is one face, one utterance and one sentence of the same label, each
drawn from its modality's corpus: FER2013 PublicTest + the speech model's validation speakers (RAVDESS 17-20, EmoDB 12 and 14, five URDU) + MELD dev
(English) or the held-back 10 % of SMP2020 train (Chinese) for the fit; FER2013
PrivateTest + the speech corpora's held-out speakers + MELD test or SMP2020 dev for the
figures. The speech is read across corpora: each corpus by the speech head fitted
without it (``predictions._voice_pool``), as a user's recording always is. Labels are
drawn uniformly over the labels all three corpora annotate (the cross-corpus speech has
no surprise, SMP2020 no disgust).
Each fitted sample is shown with every non-empty subset of its modalities, so the weights
also serve a segment where only the face or only the words were measured; the fit draws
every label, a sample leaving out the modality whose corpus lacks its label.

``emochat train fusion [--pairs N] [--out PATH]``: seconds once the predictions are cached
(``.cache/fusion``, keyed by each model's sha256); a cold cache costs the speech recipe's
features (``emochat train speech_emotion features``, run if missing: about 3 minutes on
2 cores) and the text model's ~14k sentences.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from emochat.core.files import atomic_write_text
from emochat.core.labels import BASIC_LABELS
from emochat.eval.metrics import expected_calibration_error
from emochat.fusion.fuse import FLAT_BELOW
from emochat.models import registry
from emochat.train.fusion.predictions import (
    Pool,
    face_pool,
    text_pool,
    voice_selection_pool,
    voice_test_pool,
)

MODALITIES = ("face", "voice", "text")
SEED = 0
OFFSET_L2 = 0.01
"""Ridge on the label offsets: they are only defined up to a constant per modality."""
LINEAR_PRIOR = {"face": 1.0, "voice": 0.8, "text": 1.0}
"""The linear pool shipped before this recipe, scored beside it for comparison."""


@dataclass(frozen=True)
class Pairs:
    """Aligned (n, 7) probabilities per modality, whether each modality has an item for
    the sample (its corpus may lack the label), and the shared label of each sample."""

    probs: dict[str, np.ndarray]
    present: dict[str, np.ndarray]
    labels: np.ndarray


def make_pairs(
    pools: dict[str, Pool], n: int, rng: np.random.Generator, every_label: bool = False
) -> Pairs:
    """``n`` samples: a label drawn uniformly, then one item of that label from each pool
    (with replacement). Labels are those every pool has, or with ``every_label`` those any
    pool has, a pool without the label leaving its modality out of that sample (so that
    a label one corpus lacks, EmoDB's surprise, is not learnt as rare)."""
    label_sets = [set(p.labels.tolist()) for p in pools.values()]
    drawn = set.union(*label_sets) if every_label else set.intersection(*label_sets)
    labels = rng.choice(sorted(drawn), size=n)
    probs, present = {}, {}
    for m, pool in pools.items():
        by_label = {y: np.flatnonzero(pool.labels == y) for y in drawn}
        rows = [rng.choice(by_label[y]) if by_label[y].size else -1 for y in labels]
        present[m] = np.array(rows) >= 0
        probs[m] = np.where(present[m][:, None], pool.probs[rows], 1.0 / len(BASIC_LABELS))
    return Pairs(probs, present, labels)


def _log_probs(pairs: Pairs) -> np.ndarray:
    """(modalities, n, 7) floored log-probabilities."""
    return np.log(np.maximum(np.stack([pairs.probs[m] for m in MODALITIES]), 1e-6))


def pooled(log_p: np.ndarray, mask: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Fused (n, 7) distributions: softmax of sum_m mask_m * w_m * (log p_m + b_m)."""
    z = np.einsum("mn,m,mnk->nk", mask, w, log_p + b[:, None, :])
    z -= z.max(axis=1, keepdims=True)
    q = np.exp(z)
    return q / q.sum(axis=1, keepdims=True)


def fit(pairs: Pairs) -> tuple[np.ndarray, np.ndarray]:
    """Weights (3,) and label offsets (3, 7) minimising the NLL over every modality subset."""
    log_p = _log_probs(pairs)
    k = len(BASIC_LABELS)
    subsets = [
        np.array(s, dtype=float)
        for s in itertools.product((0.0, 1.0), repeat=len(MODALITIES))
        if any(s)
    ]
    present = np.stack([pairs.present[m] for m in MODALITIES]).astype(float)
    masks = np.concatenate([s[:, None] * present for s in subsets], axis=1)
    log_p = np.concatenate([log_p] * len(subsets), axis=1)
    y = np.tile(pairs.labels, len(subsets))
    rows = np.arange(len(y))

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[: len(MODALITIES)], theta[len(MODALITIES) :].reshape(len(MODALITIES), k)
        q = pooled(log_p, masks, w, b)
        nll = -np.log(np.maximum(q[rows, y], 1e-12)).mean() + OFFSET_L2 * (b**2).sum()
        # d nll / d z = (q - onehot) / N; z = sum_m mask_m w_m (log p_m + b_m)
        g = q.copy()
        g[rows, y] -= 1.0
        g /= len(y)
        grad_w = np.einsum("nk,mn,mnk->m", g, masks, log_p + b[:, None, :])
        grad_b = np.einsum("nk,mn,m->mk", g, masks, w) + 2 * OFFSET_L2 * b
        return nll, np.concatenate([grad_w, grad_b.ravel()])

    theta0 = np.concatenate([np.ones(len(MODALITIES)), np.zeros(len(MODALITIES) * k)])
    bounds = [(0.0, 5.0)] * len(MODALITIES) + [(None, None)] * (len(MODALITIES) * k)
    best = minimize(loss, theta0, jac=True, method="L-BFGS-B", bounds=bounds)
    return best.x[: len(MODALITIES)], best.x[len(MODALITIES) :].reshape(len(MODALITIES), k)


def _scores(probs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    return {
        "accuracy": round(float((probs.argmax(1) == labels).mean()), 4),
        "ece": round(expected_calibration_error(probs, labels), 4),
    }


def evaluate(pairs: Pairs, w: np.ndarray, b: np.ndarray) -> dict:
    """Each modality alone (its model's own argmax), the linear pool shipped before, the
    log-linear pool of all three and of each pair, and how the flat-answer flag splits it."""
    log_p, n = _log_probs(pairs), len(pairs.labels)
    out = {m: _scores(pairs.probs[m], pairs.labels) for m in MODALITIES}
    linear = sum(LINEAR_PRIOR[m] * pairs.probs[m] for m in MODALITIES) / sum(LINEAR_PRIOR.values())
    out["linear pool (before)"] = _scores(linear, pairs.labels)
    for subset in [s for r in (3, 2) for s in itertools.combinations(MODALITIES, r)]:
        mask = np.array([[float(m in subset)] * n for m in MODALITIES])
        out["+".join(subset)] = _scores(pooled(log_p, mask, w, b), pairs.labels)
    fused = pooled(log_p, np.ones((len(MODALITIES), n)), w, b)
    sure = fused.max(1) >= FLAT_BELOW
    right = fused.argmax(1) == pairs.labels
    out["flat (top < 0.5)"] = {
        "share": round(float(1 - sure.mean()), 4),
        "accuracy_when_flat": round(float(right[~sure].mean()), 4) if (~sure).any() else None,
        "accuracy_when_sure": round(float(right[sure].mean()), 4) if sure.any() else None,
    }
    out["n"] = n
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="emochat.train.fusion", description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=4000, help="synthetic samples per language")
    ap.add_argument("--out", default=None, help="default: the shipped models/fusion/fusion.json")
    a = ap.parse_args(argv)
    rng = np.random.default_rng(SEED)
    selection, test = {}, {}
    for language in ("en", "zh"):
        pools = {
            "face": face_pool("val"),
            "voice": voice_selection_pool(),
            "text": text_pool(language, "selection"),
        }
        selection[language] = make_pairs(pools, a.pairs, rng, every_label=True)
        pools = {
            "face": face_pool("test"),
            "voice": voice_test_pool(),
            "text": text_pool(language, "test"),
        }
        test[language] = make_pairs(pools, a.pairs, rng)
    fitted = Pairs(
        *(
            {
                m: np.concatenate([getattr(p, part)[m] for p in selection.values()])
                for m in MODALITIES
            }
            for part in ("probs", "present")
        ),
        np.concatenate([p.labels for p in selection.values()]),
    )
    w, b = fit(fitted)
    metrics = {f"test_{lang}": evaluate(pairs, w, b) for lang, pairs in test.items()}
    model = {
        "labels": list(BASIC_LABELS),
        "weights": {m: round(float(x), 4) for m, x in zip(MODALITIES, w, strict=True)},
        "offsets": {
            m: [round(float(x), 4) for x in row] for m, row in zip(MODALITIES, b, strict=True)
        },
        "experts": {
            name: registry.sha256(registry.weight_file(name))
            for name in ("face_expression", "speech_emotion", "text_emotion")
        },
        "fitted_on": (
            f"{a.pairs} synthetic samples per language, seed {SEED}: FER2013 PublicTest + "
            "the speech model's validation speakers (RAVDESS 17-20, EmoDB 12 and 14, five "
            "URDU), each corpus read by the speech head fitted without it + MELD dev (en) / "
            "SMP2020 train held-back 10 % (zh)"
        ),
        "metrics": metrics,
    }
    out = a.out or registry.weight_file("fusion")
    atomic_write_text(out, json.dumps(model, indent=1, ensure_ascii=False))
    print(json.dumps(model, indent=1, ensure_ascii=False))
    return 0
