"""Classification and regression metrics, each as the community computes it.

Small pure functions over label sequences (any hashable labels, usually strings).
Which benchmark quotes which number:

* accuracy: FER2013, RAVDESS, GoEmotions-Ekman and most image/speech tables;
* weighted F1: MELD, EmoryNLP, MER2023 (support-weighted mean of per-class F1);
* macro F1: GoEmotions, SMP2020-EWECT (every class counts the same);
* UAR / WAR: DFEW, FERV39k, speech emotion (UAR = mean per-class recall, robust to
  class imbalance; WAR = support-weighted recall, which equals accuracy);
* CCC: valence / arousal regression (Lin's concordance correlation coefficient);
* ECE: whether a model's top probability means what it says (calibration).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emochat.core.labels import BASIC_LABELS


def label_order(labels: Iterable[str], preferred: Iterable[str] = BASIC_LABELS) -> list[str]:
    """Distinct labels ordered by ``preferred`` first, then alphabetically.

    A stable order keeps confusion matrices and tables comparable across runs.
    """
    seen = {label for label in labels if label is not None}
    pref = [label for label in preferred if label in seen]
    return pref + sorted(seen - set(pref))


def _check_pair(y_true: Sequence, y_pred: Sequence) -> tuple[list, list]:
    y_true, y_pred = list(y_true), list(y_pred)
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} items but y_pred has {len(y_pred)}")
    if not y_true:
        raise ValueError("no samples to score")
    return y_true, y_pred


def _labels(y_true: list, y_pred: list, labels: Sequence[Hashable] | None) -> list:
    if labels is not None:
        return list(labels)
    return label_order([*y_true, *y_pred])


def confusion_matrix(
    y_true: Sequence[Hashable],
    y_pred: Sequence[Hashable],
    labels: Sequence[Hashable] | None = None,
) -> np.ndarray:
    """Counts ``cm[i, j]`` of samples with true ``labels[i]`` predicted as ``labels[j]``.

    ``labels`` defaults to every label seen, basic labels first in canonical order.
    Samples whose true or predicted label is not in ``labels`` are not counted
    (pass the full label list to keep them).
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    labels = _labels(y_true, y_pred, labels)
    index = {label: i for i, label in enumerate(labels)}
    cm = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(y_true, y_pred, strict=True):
        if t in index and p in index:
            cm[index[t], index[p]] += 1
    return cm


def accuracy(y_true: Sequence[Hashable], y_pred: Sequence[Hashable]) -> float:
    """Fraction of exact matches."""
    y_true, y_pred = _check_pair(y_true, y_pred)
    return float(np.mean([t == p for t, p in zip(y_true, y_pred, strict=True)]))


def _per_class_prf(
    y_true: list, y_pred: list, labels: list
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall, F1, support and predicted count per label.

    Counted over all samples, so a prediction outside ``labels`` is still a miss for
    its true class. 0/0 is scored 0, as scikit-learn does with ``zero_division=0``.
    """
    index = {label: i for i, label in enumerate(labels)}
    tp = np.zeros(len(labels))
    support = np.zeros(len(labels))
    predicted = np.zeros(len(labels))
    for t, p in zip(y_true, y_pred, strict=True):
        if t in index:
            support[index[t]] += 1
            if t == p:
                tp[index[t]] += 1
        if p in index:
            predicted[index[p]] += 1
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return precision, recall, f1, support, predicted


def weighted_f1(
    y_true: Sequence[Hashable],
    y_pred: Sequence[Hashable],
    labels: Sequence[Hashable] | None = None,
) -> float:
    """Per-class F1 averaged with weights = true support (MELD / MER2023 "WAF").

    Matches ``sklearn.metrics.f1_score(average="weighted", zero_division=0)``.
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    _, _, f1, support, _ = _per_class_prf(y_true, y_pred, _labels(y_true, y_pred, labels))
    if support.sum() == 0:
        return 0.0
    return float(np.sum(f1 * support) / support.sum())


def macro_f1(
    y_true: Sequence[Hashable],
    y_pred: Sequence[Hashable],
    labels: Sequence[Hashable] | None = None,
) -> float:
    """Unweighted mean of per-class F1 over ``labels`` (default: labels seen in either).

    Matches ``sklearn.metrics.f1_score(average="macro", zero_division=0)``.
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    _, _, f1, _, _ = _per_class_prf(y_true, y_pred, _labels(y_true, y_pred, labels))
    return float(np.mean(f1))


def uar(
    y_true: Sequence[Hashable],
    y_pred: Sequence[Hashable],
    labels: Sequence[Hashable] | None = None,
) -> float:
    """Unweighted average recall: mean recall over the classes present in ``y_true``.

    Classes that only appear among predictions have no recall and are not averaged
    (unlike ``recall_score(average="macro")``, which would count them as 0); this is
    ``sklearn.metrics.balanced_accuracy_score``, the DFEW / speech-emotion UAR.
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    _, recall, _, support, _ = _per_class_prf(y_true, y_pred, _labels(y_true, y_pred, labels))
    present = support > 0
    if not present.any():
        return 0.0
    return float(np.mean(recall[present]))


def war(
    y_true: Sequence[Hashable],
    y_pred: Sequence[Hashable],
    labels: Sequence[Hashable] | None = None,
) -> float:
    """Weighted average recall: per-class recall weighted by true support.

    Algebraically this is the accuracy over the samples whose labels are in
    ``labels``; DFEW-style tables print it beside UAR.
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    _, recall, _, support, _ = _per_class_prf(y_true, y_pred, _labels(y_true, y_pred, labels))
    if support.sum() == 0:
        return 0.0
    return float(np.sum(recall * support) / support.sum())


def expected_calibration_error(probs: np.ndarray, y_true: Sequence[int], bins: int = 15) -> float:
    """Top-label expected calibration error (Guo et al. 2017): the support-weighted mean
    gap between confidence and accuracy over ``bins`` equal-width confidence bins.

    ``probs`` is (n, classes); ``y_true`` the true class indices.
    """
    probs = np.asarray(probs, dtype=np.float64)
    y = np.asarray(y_true)
    if probs.ndim != 2 or len(probs) != len(y):
        raise ValueError(f"probs {probs.shape} and {len(y)} labels do not pair up")
    if not len(y):
        return 0.0
    confidence = probs.max(1)
    correct = probs.argmax(1) == y
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    gap = 0.0
    for b in np.unique(which):
        m = which == b
        gap += m.sum() * abs(correct[m].mean() - confidence[m].mean())
    return float(gap / len(y))


def ccc(y_true: Sequence[float], y_pred: Sequence[float]) -> float:
    """Lin's concordance correlation coefficient, population (1/N) moments.

    ``2 cov(x, y) / (var x + var y + (mean x - mean y)^2)``: 1 only when predictions
    equal the truth, penalising both poor correlation and bias/scale errors, hence the
    standard for valence/arousal. NaN pairs are dropped (as in MERTools). Two equal
    constant series (0/0) score 1.0; fewer than two pairs raise ``ValueError``.
    """
    x = np.asarray(y_true, dtype=float)
    y = np.asarray(y_pred, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"need two 1-D series of equal length, got {x.shape} and {y.shape}")
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    if x.size < 2:
        raise ValueError("CCC needs at least two (true, predicted) pairs")
    mx, my = x.mean(), y.mean()
    cov = np.mean((x - mx) * (y - my))
    denom = x.var() + y.var() + (mx - my) ** 2
    if denom == 0:
        return 1.0
    return float(2 * cov / denom)


@dataclass
class ClassRow:
    """One row of the per-class table."""

    label: str
    support: int
    predicted: int
    precision: float
    recall: float
    f1: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "support": self.support,
            "predicted": self.predicted,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
        }


def per_class_table(
    y_true: Sequence[Hashable],
    y_pred: Sequence[Hashable],
    labels: Sequence[Hashable] | None = None,
) -> list[ClassRow]:
    """Support, predicted count, precision, recall and F1 for every label, in order."""
    y_true, y_pred = _check_pair(y_true, y_pred)
    labels = _labels(y_true, y_pred, labels)
    precision, recall, f1, support, predicted = _per_class_prf(y_true, y_pred, labels)
    return [
        ClassRow(
            str(label),
            int(support[i]),
            int(predicted[i]),
            float(precision[i]),
            float(recall[i]),
            float(f1[i]),
        )
        for i, label in enumerate(labels)
    ]


@dataclass
class ClassificationReport:
    """Every classification number a benchmark row may quote, for one run."""

    n: int
    labels: list[str]
    accuracy: float
    weighted_f1: float
    macro_f1: float
    uar: float
    war: float
    confusion: np.ndarray
    per_class: list[ClassRow] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "labels": list(self.labels),
            "accuracy": self.accuracy,
            "weighted_f1": self.weighted_f1,
            "macro_f1": self.macro_f1,
            "uar": self.uar,
            "war": self.war,
            "confusion": self.confusion.tolist(),
            "per_class": [row.as_dict() for row in self.per_class],
        }


def classification_report(
    y_true: Sequence[Hashable],
    y_pred: Sequence[Hashable],
    labels: Sequence[Hashable] | None = None,
) -> ClassificationReport:
    """All the classification metrics above over one label list.

    Accuracy counts every sample; the label-based metrics use ``labels`` (default:
    every label seen), so a prediction outside ``labels`` still counts as an error.
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    labels = _labels(y_true, y_pred, labels)
    return ClassificationReport(
        n=len(y_true),
        labels=[str(label) for label in labels],
        accuracy=accuracy(y_true, y_pred),
        weighted_f1=weighted_f1(y_true, y_pred, labels),
        macro_f1=macro_f1(y_true, y_pred, labels),
        uar=uar(y_true, y_pred, labels),
        war=war(y_true, y_pred, labels),
        confusion=confusion_matrix(y_true, y_pred, labels),
        per_class=per_class_table(y_true, y_pred, labels),
    )


def write_confusion_png(
    cm: np.ndarray,
    labels: Sequence[str],
    path: str | Path,
    *,
    normalize: bool = True,
    title: str | None = None,
) -> Path:
    """Draw a confusion matrix (rows: truth, columns: prediction) into a PNG file.

    Uses matplotlib's object API with the Agg canvas, so importing or calling this
    never touches the process-wide backend. With ``normalize`` each row is divided by
    its support (rows without samples stay 0) and cells show fractions; counts are
    shown otherwise.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] != len(labels):
        raise ValueError(f"confusion matrix of shape {cm.shape} does not fit {len(labels)} labels")
    values = cm.astype(float)
    if normalize:
        rows = values.sum(axis=1, keepdims=True)
        values = np.divide(values, rows, out=np.zeros_like(values), where=rows > 0)
    size = max(4.0, 0.7 * len(labels) + 2.0)
    fig = Figure(figsize=(size, size), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(
        values,
        interpolation="nearest",
        cmap="Blues",
        vmin=0.0,
        vmax=1.0 if normalize else max(1.0, float(values.max())),
    )
    ticks = np.arange(len(labels))
    ax.set_xticks(ticks, labels=list(labels), rotation=45, ha="right")
    ax.set_yticks(ticks, labels=list(labels))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title)
    threshold = (1.0 if normalize else float(values.max())) / 2.0
    for i in range(len(labels)):
        for j in range(len(labels)):
            text = f"{values[i, j]:.2f}" if normalize else str(int(cm[i, j]))
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=8,
                color="white" if values[i, j] > threshold else "black",
            )
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path
