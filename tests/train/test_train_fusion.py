"""The fusion recipe: pairs share one label, and the fit trusts the informative expert."""

from __future__ import annotations

import numpy as np

from emochat.core.labels import BASIC_LABELS
from emochat.train.fusion.predictions import Pool
from emochat.train.fusion.recipe import MODALITIES, evaluate, fit, make_pairs


def _pool(rng, n: int, sharpness: float, labels: range) -> Pool:
    """Samples whose probabilities point at their label with logit margin ``sharpness``
    (0: pure noise)."""
    y = rng.choice(list(labels), size=n)
    z = rng.normal(size=(n, len(BASIC_LABELS)))
    z[np.arange(n), y] += sharpness
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    return Pool(p.astype(np.float32), y)


def test_pairs_share_a_label_every_pool_has():
    rng = np.random.default_rng(0)
    pools = {m: _pool(rng, 300, 2.0, range(7)) for m in MODALITIES}
    pools["text"] = _pool(rng, 300, 2.0, range(6))  # no surprise, like SMP2020
    pairs = make_pairs(pools, 500, rng)
    assert set(pairs.labels) <= set(range(6))
    for m in MODALITIES:
        # each drawn item is one of its pool's items of the pair's label
        rows = [np.flatnonzero((pools[m].probs == row).all(1))[0] for row in pairs.probs[m]]
        assert (pools[m].labels[rows] == pairs.labels).all()


def test_the_fit_trusts_the_informative_expert_and_beats_each_alone():
    rng = np.random.default_rng(1)
    pools = {
        "face": _pool(rng, 400, 0.0, range(7)),  # noise
        "voice": _pool(rng, 400, 2.5, range(7)),
        "text": _pool(rng, 400, 1.5, range(7)),
    }
    w, b = fit(make_pairs(pools, 1500, rng))
    weights = dict(zip(MODALITIES, w, strict=True))
    assert weights["voice"] > weights["text"] > weights["face"]
    assert weights["face"] < 0.2
    scores = evaluate(make_pairs(pools, 1500, rng), w, b)
    best_single = max(scores[m]["accuracy"] for m in MODALITIES)
    assert scores["face+voice+text"]["accuracy"] > best_single
