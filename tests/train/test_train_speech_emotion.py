"""The speech recipe's own arithmetic: balanced weights, the fitted temperature and the
leave-one-corpus-out reads it is fitted on (small synthetic corpora)."""

from __future__ import annotations

import numpy as np
import pytest

from emochat.train.speech_emotion.recipe import (
    Speech,
    balanced_weights,
    cross_corpus_logits,
    fit_temperature,
)


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


def _corpora(rng) -> Speech:
    """Three small corpora with the classes at the same places, except that corpus "b"
    has classes 0 and 1 the other way round; only "a" has class 3."""
    xs, ys, corpora, parts = [], [], [], []
    centres = 4.0 * rng.normal(size=(4, 6))
    for name in ("a", "b", "c"):
        for k in (0, 1, 2, 3) if name == "a" else (0, 1, 2):
            place = {0: 1, 1: 0}.get(k, k) if name == "b" else k
            for part in ("fit", "fit", "val", "test"):
                xs.append(centres[place] + rng.normal(size=(10, 6)))
                ys += [k] * 10
                corpora += [name] * 10
                parts += [part] * 10
    corpus = np.array(corpora)
    return Speech(
        np.concatenate(xs), np.array(ys), corpus, corpus, np.array(parts), np.arange(len(ys))
    )


def test_cross_corpus_reads_come_from_heads_that_never_saw_the_corpus():
    s = _corpora(np.random.default_rng(0))
    best = {"normalisation": "pooled", "C": 1.0}
    logits, y, corpus = cross_corpus_logits(s, best, ("fit", "val"), ("a", "b", "c"))
    # every fit and val row, but class 3: the head fitted without "a" never learnt it
    assert len(y) == (np.isin(s.part, ("fit", "val")) & (s.y != 3)).sum()
    assert set(corpus) == {"a", "b", "c"} and not (y == 3).any()
    right = logits.argmax(1) == y
    # b's swapped classes are read by a head fitted on a and c only, so read the other way
    # round; a head that had seen b could not get all of them wrong
    swapped = (corpus == "b") & (y < 2)
    assert right[swapped].mean() < 0.1
    assert right[(corpus == "b") & (y == 2)].mean() > 0.9
    assert right[corpus == "c"].mean() > 0.5  # its head saw a (as c) and b (swapped)
