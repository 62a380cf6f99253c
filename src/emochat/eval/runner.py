"""Run a model over a corpus split or a manifest and score it; write JSON, markdown, PNG.

The model comes from :mod:`emochat.eval.registry` (or is passed in, which is how
tests and scripts score any callable). Predictions are read into the label space of
the evaluation: in the ``basic`` space both gold and predicted labels are folded
with :func:`~emochat.core.labels.to_basic` (gold rows with no basic counterpart are
left out and counted); in the ``native`` space labels are compared as spelled.

The corpus's protocol comes from its :class:`~emochat.data.registry.DatasetSpec` and
reader, never from special cases here: a ``context`` column and the spec's
``calibration`` are passed to a text predictor as hints (:func:`predictor_hints`), and
the spec's ``labels`` restrict a prediction that has probabilities to the classes the
corpus annotates (:func:`prediction_label`). What was applied is recorded in
:attr:`EvalResult.protocol`.
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emochat.core.errors import DataError, EmochatError
from emochat.core.labels import BASIC_LABELS, to_basic
from emochat.data.corpora import load_dataset
from emochat.data.labels import CORPUS_TO_BASIC
from emochat.data.manifest import read_manifest
from emochat.data.registry import DATASETS, DatasetSpec, check_split
from emochat.eval.metrics import (
    ClassificationReport,
    ccc,
    classification_report,
    label_order,
    write_confusion_png,
)
from emochat.eval.registry import Predict, load_analyze, load_predictor

FAILED = "<failed>"
"""Predicted label recorded for an input the model could not process (always wrong)."""

_INPUT_COLUMN = {"text": "text", "speech": "path", "face": "image", "video": "path"}


def _probabilities(result: Any) -> Mapping[str, float] | None:
    """The label -> probability map of a result (``probs``, or its ``overall``'s)."""
    if isinstance(result, dict):
        probs = result.get("probs")
        if probs is None and "label" not in result and result.get("overall") is not None:
            return _probabilities(result["overall"])
    else:
        probs = getattr(result, "probs", None)
        if probs is None and getattr(result, "overall", None) is not None:
            return _probabilities(result.overall)
    return probs if isinstance(probs, Mapping) and probs else None


def prediction_label(result: Any, allowed: Collection[str] | None = None) -> str:
    """The label in one predictor result: a string, a dict or object with ``label``,
    a Report (its ``overall`` emotion), or an error (:data:`FAILED`).

    With ``allowed`` (basic labels) a result with probabilities is read as its most
    probable allowed label, as a model restricted to the corpus's classes would say;
    a bare label is taken as given (outside ``allowed`` it simply counts as wrong).
    """
    if result is None or isinstance(result, BaseException):
        return FAILED
    if allowed is not None:
        probs = _probabilities(result)
        inside = {k: float(v) for k, v in (probs or {}).items() if to_basic(k) in allowed}
        if inside:
            return max(inside, key=inside.__getitem__).strip().lower()
    if isinstance(result, str):
        return result.strip().lower()
    if isinstance(result, dict):
        if "label" in result:
            return prediction_label(result["label"])
        overall = result.get("overall")
        return prediction_label(overall) if overall is not None else FAILED
    if hasattr(result, "overall"):
        return prediction_label(result.overall)
    if hasattr(result, "label"):
        return prediction_label(result.label)
    return FAILED


def prediction_valence(result: Any) -> float:
    """Valence in a predictor result (a Report's overall emotion), else NaN."""
    if isinstance(result, dict):
        inner = result.get("overall", result)
        value = inner.get("valence") if isinstance(inner, dict) else None
    else:
        inner = getattr(result, "overall", result)
        value = getattr(inner, "valence", None)
    try:
        return float(value) if value is not None else math.nan
    except (TypeError, ValueError):
        return math.nan


def _fold(label: str, space: str, corpus: str | None = None) -> str:
    """A label in the evaluation's space: basic, or the corpus's own spelling.

    In the native space a prediction given in another spelling is read as the
    corpus label with the same basic meaning when there is exactly one (RAVDESS
    "fear" -> "fearful", MELD "happy" -> "joy"); otherwise it is kept as is.
    """
    if label == FAILED:
        return label
    if space == "basic":
        return to_basic(label) or label
    table = CORPUS_TO_BASIC.get(corpus or "", {})
    if not table or label in table:
        return label
    basic = to_basic(label)
    natives = [native for native, b in table.items() if basic is not None and b == basic]
    return natives[0] if len(natives) == 1 else label


@dataclass
class EvalResult:
    """The scores of one evaluation run and what it covered."""

    name: str
    split: str
    modality: str
    label_space: str
    report: ClassificationReport
    n_excluded: int = 0
    excluded_reason: str = ""
    failures: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    protocol: dict[str, Any] = field(default_factory=dict)
    """What the corpus's protocol applied: ``context``, ``calibration``, ``label_subset``."""

    @property
    def stem(self) -> str:
        return f"{self.name}-{self.split}-{self.modality}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.name,
            "split": self.split,
            "modality": self.modality,
            "label_space": self.label_space,
            "n_excluded": self.n_excluded,
            "excluded_reason": self.excluded_reason,
            "failures": list(self.failures),
            "protocol": dict(self.protocol),
            **self.extra,
            **self.report.as_dict(),
        }

    def summary_table(self) -> str:
        """Headline metrics and the per-class table, fixed width, 4 decimals."""
        r = self.report
        lines = [
            f"{self.name} split={self.split} modality={self.modality} "
            f"labels={self.label_space} n={r.n}"
            + (f" (excluded: {self.excluded_reason})" if self.n_excluded else ""),
            *([f"protocol: {self.protocol_text()}"] if self.protocol else []),
            f"{'accuracy':<12}{r.accuracy:.4f}",
            f"{'weighted F1':<12}{r.weighted_f1:.4f}",
            f"{'macro F1':<12}{r.macro_f1:.4f}",
            f"{'UAR':<12}{r.uar:.4f}",
            f"{'WAR':<12}{r.war:.4f}",
        ]
        for key, value in self.extra.items():
            if isinstance(value, float):
                lines.append(f"{key:<12}{value:.4f}")
        if self.failures:
            lines.append(f"failed inputs: {len(self.failures)}")
        lines.append("")
        lines.append(
            f"{'class':<12}{'support':>8}{'pred':>8}{'precision':>10}{'recall':>10}{'F1':>10}"
        )
        for row in r.per_class:
            lines.append(
                f"{row.label:<12}{row.support:>8d}{row.predicted:>8d}"
                f"{row.precision:>10.4f}{row.recall:>10.4f}{row.f1:>10.4f}"
            )
        return "\n".join(lines)

    def protocol_text(self) -> str:
        parts = []
        for key, value in self.protocol.items():
            shown = ",".join(value) if isinstance(value, (list, tuple)) else value
            parts.append(f"{key}={shown}")
        return " ".join(parts)

    def markdown(self) -> str:
        r = self.report
        out = [
            f"## {self.name} ({self.split}, {self.modality})",
            "",
            f"{r.n} samples, {self.label_space} labels"
            + (f"; excluded: {self.excluded_reason}" if self.n_excluded else "")
            + "."
            + (f" Protocol: {self.protocol_text()}." if self.protocol else ""),
            "",
            "| accuracy | weighted F1 | macro F1 | UAR | WAR |",
            "|---:|---:|---:|---:|---:|",
            f"| {r.accuracy:.4f} | {r.weighted_f1:.4f} | {r.macro_f1:.4f} | {r.uar:.4f} "
            f"| {r.war:.4f} |",
            "",
            "| class | support | predicted | precision | recall | F1 |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for row in r.per_class:
            out.append(
                f"| {row.label} | {row.support} | {row.predicted} | {row.precision:.4f} "
                f"| {row.recall:.4f} | {row.f1:.4f} |"
            )
        return "\n".join(out) + "\n"


def write_outputs(result: EvalResult, out_dir: str | Path) -> dict[str, Path]:
    """``STEM.json``, ``STEM.md`` and ``STEM-confusion.png`` in ``out_dir``.

    The plot needs matplotlib (the ``train`` extra); without it the numbers are still
    written (STEM.json holds the confusion matrix) and a line says why there is no PNG.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out / f"{result.stem}.json",
        "markdown": out / f"{result.stem}.md",
        "confusion": out / f"{result.stem}-confusion.png",
    }
    paths["json"].write_text(
        json.dumps(result.as_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    paths["markdown"].write_text(result.markdown(), encoding="utf-8")
    if importlib.util.find_spec("matplotlib") is None:
        print(
            f"{paths['confusion']}: not written, matplotlib is not installed "
            "(pip install 'emochat[train]')",
            file=sys.stderr,
        )
        del paths["confusion"]
        return paths
    write_confusion_png(
        result.report.confusion,
        result.report.labels,
        paths["confusion"],
        title=f"{result.name} {result.split} ({result.modality})",
    )
    return paths


def score(
    gold: Sequence[str],
    results: Sequence[Any],
    label_space: str = "basic",
    corpus: str | None = None,
    allowed: Collection[str] | None = None,
) -> tuple[ClassificationReport, list[int]]:
    """Classification report of predictor results against gold labels; failed indices.

    ``allowed``: the basic labels the corpus annotates (see :func:`prediction_label`).
    """
    if len(results) != len(gold):
        raise EmochatError(
            None, f"the model returned {len(results)} results for {len(gold)} inputs"
        )
    preds = [_fold(prediction_label(r, allowed), label_space, corpus) for r in results]
    gold = [_fold(str(g).strip().lower(), label_space, corpus) for g in gold]
    preferred = BASIC_LABELS if label_space == "basic" else ()
    labels = label_order([*gold, *(p for p in preds if p != FAILED)], preferred)
    failed = [i for i, p in enumerate(preds) if p == FAILED]
    return classification_report(gold, preds, labels), failed


def predictor_hints(
    spec: DatasetSpec, df: Any, modality: str, calibration: str | None = None
) -> dict[str, Any]:
    """Keyword arguments a predictor gets beside its inputs (the registry's contract).

    Only text predictors take hints: ``context`` when the adapter gives each sample its
    dialogue's earlier utterances, ``domain`` = ``calibration`` or the spec's.
    """
    if modality != "text":
        return {}
    hints: dict[str, Any] = {}
    if "context" in df.columns:
        hints["context"] = [list(c) for c in df["context"]]
    domain = calibration or spec.calibration
    if domain:
        hints["domain"] = domain
    return hints


def _protocol(hints: dict[str, Any], allowed: Sequence[str] | None) -> dict[str, Any]:
    protocol: dict[str, Any] = {}
    if "context" in hints:
        protocol["context"] = "earlier turns of the dialogue"
    if "domain" in hints:
        protocol["calibration"] = hints["domain"]
    if allowed is not None:
        protocol["label_subset"] = list(allowed)
    return protocol


def evaluate_dataset(
    name: str,
    split: str | None = None,
    modality: str | None = None,
    *,
    predictor: Predict | None = None,
    label_space: str = "basic",
    limit: int | None = None,
    root: str | Path | None = None,
    media_root: str | Path | None = None,
    calibration: str | None = None,
) -> EvalResult:
    """Score a model on one corpus split (default: its held-out split).

    The model is resolved first, so a modality without a model fails at once with
    :class:`~emochat.eval.registry.NoModelError`, before any data is read.
    ``calibration`` overrides the spec's for a text model (e.g. its default, "dialogue").
    """
    if name not in DATASETS:
        raise DataError(None, f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    spec = DATASETS[name]
    split = split or spec.held_out
    modality = modality or spec.modalities[0]
    if modality not in spec.modalities:
        raise DataError(
            None, f"{name} has no {modality} input; choose from {', '.join(spec.modalities)}"
        )
    check_split(name, split)
    if label_space not in ("basic", "native"):
        raise DataError(None, f"label space must be basic or native, not {label_space!r}")
    if name == "meld" and modality == "video" and media_root is None:
        raise DataError(None, "meld video evaluation needs --media-root (the MELD.Raw folder)")
    predict = predictor or load_predictor(modality)

    kwargs: dict[str, Any] = {"root": root}
    if name == "fer2013":
        kwargs["images"] = True
    if name == "meld" and media_root is not None:
        kwargs["media_root"] = media_root
    df = load_dataset(spec, split, **kwargs)

    gold_col = "basic" if label_space == "basic" else "label"
    keep = df[gold_col].notna()
    reasons = []
    if (~keep).any():
        what = "multi-label or" if name == "goemotions" else "label"
        reasons.append(f"{int((~keep).sum())} {what} outside the {label_space} space")
    if name == "meld" and modality == "video":
        no_media = keep & ~df["has_media"]
        if no_media.any():
            reasons.append(f"{int(no_media.sum())} without a media file")
        keep &= df["has_media"]
    n_excluded = int((~keep).sum())
    df = df[keep]
    if limit is not None:
        df = df.head(limit)
    if df.empty:
        raise DataError(None, f"{name} {split}: no samples to evaluate")
    inputs = list(df[_INPUT_COLUMN[modality]])
    hints = predictor_hints(spec, df, modality, calibration)
    results = list(predict(inputs, **hints))
    report, failed = score(
        list(df[gold_col]), results, label_space, corpus=name, allowed=spec.labels
    )
    return EvalResult(
        name=name,
        split=split,
        modality=modality,
        label_space=label_space,
        report=report,
        n_excluded=n_excluded,
        excluded_reason="; ".join(reasons),
        failures=[str(df["id"].iloc[i]) for i in failed],
        protocol=_protocol(hints, spec.labels),
    )


def evaluate_manifest(
    path: str | Path,
    *,
    analyze: Callable[..., Any] | None = None,
    language: str | None = None,
    limit: int | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> EvalResult:
    """Run the full pipeline (``emochat.analyze``) on every clip of a manifest and score it.

    The pipeline answers in the basic labels, so gold labels are compared in the basic
    space (:func:`emochat.core.labels.gold_to_basic`: "anger", "surprised", JAFFE's "AN"
    all count as theirs); clips whose label has no basic counterpart (CK+'s contempt) are
    left out of the scores and named in ``excluded_reason``, rather than one such label
    sending every clip to a literal comparison. Only when no label has a counterpart are
    they compared as spelled. With a ``valence`` column the CCC between it and the
    reports' overall valence is added (``extra["valence_ccc"]``).
    """
    analyze = analyze or load_analyze()
    df = read_manifest(path)
    if limit is not None:
        df = df.head(limit)
    unscored = df[df["basic"].isna()] if df["basic"].notna().any() else df.iloc[:0]
    df = df.drop(index=unscored.index)
    space = "basic" if df["basic"].notna().all() else "native"
    results: list[Any] = []
    for i, row in enumerate(df.itertuples(index=False)):
        if progress:
            progress(i, len(df), row.path)
        transcript = row.transcript if isinstance(row.transcript, str) else None
        try:
            results.append(analyze(row.path, transcript=transcript, language=language))
        except EmochatError as exc:
            results.append(exc)
    report, failed = score(list(df["basic" if space == "basic" else "label"]), results, space)
    extra: dict[str, Any] = {}
    pairs = [(v, prediction_valence(r)) for v, r in zip(df["valence"], results, strict=True)]
    pairs = [(t, p) for t, p in pairs if not (math.isnan(t) or math.isnan(p))]
    if len(pairs) >= 2:
        extra["valence_ccc"] = ccc([t for t, _ in pairs], [p for _, p in pairs])
        extra["valence_n"] = len(pairs)
    failures = []
    for i in failed:
        err = results[i]
        failures.append(
            f"{df['path'].iloc[i]}: {err}"
            if isinstance(err, BaseException)
            else str(df["path"].iloc[i])
        )
    counts = unscored["label"].value_counts()
    return EvalResult(
        name=Path(path).stem,
        split="manifest",
        modality="video",
        label_space=space,
        report=report,
        n_excluded=len(unscored),
        excluded_reason=(
            f"{len(unscored)} clip(s) whose label has no basic counterpart, not analysed ("
            + ", ".join(f"{label} {n}" for label, n in counts.items())
            + ")"
            if len(unscored)
            else ""
        ),
        failures=failures,
        extra=extra,
    )
