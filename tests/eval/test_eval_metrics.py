"""Classification/regression metrics: hand-worked values, scikit-learn parity, real labels."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from emochat.eval import metrics as M

# 10 samples, 3 classes, worked by hand:
# true a a a a b b b c c c ; pred a a b c b b a c c a
TRUE = list("aaaabbbccc")
PRED = list("aabcbbacca")


def test_label_order_puts_basic_labels_first_then_the_rest_alphabetically():
    assert M.label_order(["zz", "sad", "happy", "aa", "sad"]) == ["happy", "sad", "aa", "zz"]


def test_hand_worked_example():
    # per class: a tp=2 support=4 predicted=4; b tp=2 s=3 p=3; c tp=2 s=3 p=3
    assert M.accuracy(TRUE, PRED) == pytest.approx(0.6)
    f_a, f_b, f_c = 0.5, 2 / 3, 2 / 3
    assert M.macro_f1(TRUE, PRED) == pytest.approx((f_a + f_b + f_c) / 3)
    assert M.weighted_f1(TRUE, PRED) == pytest.approx((4 * f_a + 3 * f_b + 3 * f_c) / 10)
    assert M.uar(TRUE, PRED) == pytest.approx((0.5 + 2 / 3 + 2 / 3) / 3)
    assert M.war(TRUE, PRED) == pytest.approx(0.6)
    cm = M.confusion_matrix(TRUE, PRED, ["a", "b", "c"])
    assert cm.tolist() == [[2, 1, 1], [1, 2, 0], [1, 0, 2]]
    rows = M.per_class_table(TRUE, PRED, ["a", "b", "c"])
    assert [(r.label, r.support, r.predicted) for r in rows] == [
        ("a", 4, 4),
        ("b", 3, 3),
        ("c", 3, 3),
    ]
    assert rows[0].precision == pytest.approx(0.5) and rows[0].recall == pytest.approx(0.5)


def test_uar_ignores_classes_only_predicted():
    # 'x' is never true: it has no recall to average (balanced accuracy), but it is
    # still an error for the sample whose true label is 'a'.
    y_true, y_pred = ["a", "a", "b"], ["a", "x", "b"]
    assert M.uar(y_true, y_pred) == pytest.approx(0.75)
    assert M.accuracy(y_true, y_pred) == pytest.approx(2 / 3)


def test_prediction_outside_labels_is_a_miss():
    rep = M.classification_report(["happy", "sad"], ["calm", "sad"], labels=["happy", "sad"])
    assert rep.accuracy == 0.5
    happy = rep.per_class[0]
    assert (happy.support, happy.recall, happy.predicted) == (1, 0.0, 0)
    assert rep.uar == pytest.approx(0.5)


def test_empty_or_mismatched_inputs_raise():
    with pytest.raises(ValueError):
        M.accuracy([], [])
    with pytest.raises(ValueError):
        M.weighted_f1(["a"], ["a", "b"])


labels3 = st.sampled_from(["neutral", "happy", "sad"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(labels3, labels3), min_size=1, max_size=40))
def test_parity_with_sklearn(pairs):
    y_true = [t for t, _ in pairs]
    y_pred = [p for _, p in pairs]
    assert M.accuracy(y_true, y_pred) == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert M.weighted_f1(y_true, y_pred) == pytest.approx(
        skm.f1_score(y_true, y_pred, average="weighted", zero_division=0)
    )
    assert M.macro_f1(y_true, y_pred) == pytest.approx(
        skm.f1_score(y_true, y_pred, average="macro", zero_division=0)
    )
    assert M.war(y_true, y_pred) == pytest.approx(skm.accuracy_score(y_true, y_pred))
    present = sorted(set(y_true))
    recalls = skm.recall_score(y_true, y_pred, labels=present, average=None, zero_division=0)
    assert M.uar(y_true, y_pred) == pytest.approx(float(np.mean(recalls)))


def test_real_meld_labels_against_sklearn(corpus):
    from emochat.data.corpora import meld

    corpus("meld")
    gold = list(meld.load("test")["basic"])
    # a fixed, imperfect "prediction": every 3rd label replaced by neutral
    pred = ["neutral" if i % 3 == 0 else g for i, g in enumerate(gold)]
    assert len(gold) == 2610
    assert M.accuracy(gold, pred) == pytest.approx(skm.accuracy_score(gold, pred))
    assert M.weighted_f1(gold, pred) == pytest.approx(skm.f1_score(gold, pred, average="weighted"))
    assert M.uar(gold, pred) == pytest.approx(skm.balanced_accuracy_score(gold, pred))
    # all-neutral baseline: accuracy = 1256 / 2610
    base = ["neutral"] * len(gold)
    assert M.accuracy(gold, base) == pytest.approx(1256 / 2610)
    assert M.uar(gold, base) == pytest.approx(1 / 7)


def test_ccc_values():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    assert M.ccc(x, x) == pytest.approx(1.0)
    # y = x + 1: cov = var = 1.25, bias 1 -> 2*1.25 / (1.25 + 1.25 + 1) = 2.5 / 3.5
    assert M.ccc(x, x + 1) == pytest.approx(2.5 / 3.5)
    assert M.ccc(x, -x) == pytest.approx(-2 * 1.25 / (2.5 + 25.0))
    assert M.ccc([0.5, 0.5], [0.5, 0.5]) == 1.0
    # NaN pairs are dropped
    assert M.ccc([1, 2, math.nan, 4], [1, 2, 3, 4]) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        M.ccc([1.0], [1.0])


def test_ccc_matches_pearson_form():
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    y = 0.6 * x + rng.normal(scale=0.5, size=200) + 0.2
    r = np.corrcoef(x, y)[0, 1]
    expected = 2 * r * x.std() * y.std() / (x.var() + y.var() + (x.mean() - y.mean()) ** 2)
    assert M.ccc(x, y) == pytest.approx(expected)


def test_confusion_png_written_without_touching_backend(tmp_path):
    backend = matplotlib.get_backend()
    rc_backend = matplotlib.rcParams["backend"]
    cm = M.confusion_matrix(TRUE, PRED, ["a", "b", "c"])
    out = M.write_confusion_png(cm, ["a", "b", "c"], tmp_path / "sub" / "cm.png", title="t")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000
    M.write_confusion_png(cm, ["a", "b", "c"], tmp_path / "counts.png", normalize=False)
    assert (tmp_path / "counts.png").stat().st_size > 2000
    assert matplotlib.get_backend() == backend
    assert matplotlib.rcParams["backend"] == rc_backend
    with pytest.raises(ValueError):
        M.write_confusion_png(cm, ["a", "b"], tmp_path / "bad.png")


def test_report_as_dict_round_numbers():
    rep = M.classification_report(TRUE, PRED)
    d = rep.as_dict()
    assert d["n"] == 10 and d["labels"] == ["a", "b", "c"]
    assert d["confusion"] == [[2, 1, 1], [1, 2, 0], [1, 0, 2]]
    assert d["accuracy"] == pytest.approx(0.6)


def test_expected_calibration_error():
    # 0.8 confident and right 8 times in 10: calibrated
    probs = np.tile([0.8, 0.2], (10, 1))
    assert M.expected_calibration_error(probs, np.array([0] * 8 + [1] * 2)) == pytest.approx(0.0)
    # 0.8 confident and right half the time: off by 0.3
    assert M.expected_calibration_error(probs, np.array([0] * 5 + [1] * 5)) == pytest.approx(0.3)
    # confidence 0.9 right 9 times in 10: calibrated; confidence 0.9 right 5 in 10: off by 0.4
    probs = np.tile([0.9, 0.1], (10, 1))
    assert M.expected_calibration_error(probs, [0] * 9 + [1]) == pytest.approx(0.0)
    assert M.expected_calibration_error(probs, [0] * 5 + [1] * 5) == pytest.approx(0.4)
    # two bins, weighted by their support: (4 * |0.5 - 0.6| + 1 * |1 - 0.95|) / 5
    mixed = np.array([[0.6, 0.4]] * 4 + [[0.05, 0.95]])
    assert M.expected_calibration_error(mixed, [0, 0, 1, 1, 1]) == pytest.approx(0.09)
    with pytest.raises(ValueError):
        M.expected_calibration_error(probs, [0])
