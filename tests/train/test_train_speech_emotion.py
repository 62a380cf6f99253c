"""The speech recipe's own arithmetic: balanced weights and the fitted temperature."""

from __future__ import annotations

import numpy as np
import pytest

from emochat.train.speech_emotion.recipe import Speech, balanced_weights, fit_temperature


def test_every_corpus_and_every_class_within_it_weigh_the_same():
    corpus = np.array(["a"] * 6 + ["b"] * 2)
    y = np.array([0, 0, 0, 0, 1, 1, 0, 2])
    s = Speech(np.zeros((8, 1)), y, corpus, corpus, np.full(8, "fit"), np.arange(8))
    w = balanced_weights(s)
    assert w.mean() == pytest.approx(1.0)
    assert w[corpus == "a"].sum() == pytest.approx(w[corpus == "b"].sum())
    assert w[(corpus == "a") & (y == 0)].sum() == pytest.approx(w[(corpus == "a") & (y == 1)].sum())


def test_temperature_undoes_a_known_overconfidence():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(size=(4000, 5))
    p = np.exp(true_logits) / np.exp(true_logits).sum(1, keepdims=True)
    y = np.array([rng.choice(5, p=row) for row in p])
    # a model three times too sure of itself: the fitted T brings it back
    assert fit_temperature(3.0 * true_logits, y) == pytest.approx(3.0, rel=0.1)
    assert fit_temperature(true_logits, y) == pytest.approx(1.0, rel=0.1)
