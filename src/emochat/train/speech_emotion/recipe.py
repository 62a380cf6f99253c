"""Train the shipped speech-emotion head on RAVDESS, EmoDB and URDU (issue #23).

Labels: the basic seven (``neutral, happy, sad, angry, fear, disgust, surprise``), so the
output needs no folding and means the same on every corpus. RAVDESS ``calm`` is trained
as neutral (the fused space has no calm, and "calm" was what the RAVDESS-only model said
of much foreign speech); EmoDB ``boredom`` (81 clips) has no basic twin and is left out
of training and scores (as :data:`emochat.data.labels.EMODB_TO_BASIC` says).

Splits, per corpus, by speaker (never one speaker in two parts):

* ``test``: the DESIGN.md held-out speakers (RAVDESS actors 21-24, EmoDB 15 and 16, URDU
  SF1 SF6 SF7 SM3 SM6 SM7); read once, by ``heldout`` and ``loco``, after every choice;
* ``val``: :data:`VALIDATION_SPEAKERS`, which choose the normalisation and C and set the
  out-of-domain threshold (and give the fusion stage its speech, read across corpora);
* ``fit``: the other speakers, which the shipped head is trained on.

The temperature is fitted on the fit and validation speakers read across corpora
(:func:`cross_corpus_logits`: each corpus by the head fitted without it), because a
user's recording is never from a training corpus and the head is over-confident there.

Each training row is weighted so that every corpus weighs the same and, within a corpus,
every class does (balanced sampling without the sampling noise).

    emochat train speech_emotion features  # pooled whisper states of every clip (.cache/voice)
    emochat train speech_emotion select    # normalisation x C on the validation speakers
    emochat train speech_emotion fit       # fit, temperature, OOD check; write the npz
    emochat train speech_emotion heldout   # held-out speakers of each corpus (once)
    emochat train speech_emotion loco      # leave-one-corpus-out: train on two, test the third
    emochat train speech_emotion all

Deterministic: fixed splits, seeded solvers, single-threaded torch.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass

import numpy as np

from emochat.core.labels import BASIC_LABELS
from emochat.core.probabilities import softmax
from emochat.eval.metrics import confusion_matrix, expected_calibration_error, uar
from emochat.train.paths import CACHE_ROOT
from emochat.train.speech_emotion import STEPS
from emochat.voice.speech_emotion import MODEL_FILE, SpeechEmotionModel, pooled_whisper_states

CACHE = CACHE_ROOT / "voice"
SEED = 0
CORPORA = ("ravdess", "emodb", "urdu")
VALIDATION_SPEAKERS: dict[str, frozenset] = {
    "ravdess": frozenset({"17", "18", "19", "20"}),
    "emodb": frozenset({"12", "14"}),
    # URDU speakers mostly speak one emotion each: one or two speakers per class
    "urdu": frozenset({"SM2", "SM20", "SF4", "SF5", "SM23"}),
}
"""Training speakers held back from the fit: RAVDESS 2 m / 2 f, EmoDB 1 m / 1 f, URDU one
or two speakers of each class (CARD.md)."""
CORPUS_LABELS: dict[str, tuple[str, ...]] = {
    "ravdess": BASIC_LABELS,
    "emodb": ("neutral", "happy", "sad", "angry", "fear", "disgust"),
    "urdu": ("neutral", "happy", "sad", "angry"),
}
"""The basic labels each corpus annotates: scores read a prediction within them."""
NORMALISATIONS = ("pooled", "corpus-balanced")
CS = (0.001, 0.003, 0.01, 0.1)
OOD_COMPONENTS = 64
OOD_QUANTILE = 0.95
SELECTION = CACHE / "select.json"


# --- data --------------------------------------------------------------------------------


def corpus_rows(corpus: str):
    """A speech corpus's clips (path, basic label, split) with a ``speaker`` column."""
    from emochat.data.corpora import READERS

    df = READERS[corpus].load("all")
    speaker_col = "actor" if corpus == "ravdess" else "speaker"
    return df.assign(speaker=df[speaker_col].astype(str))


def _read(path: str) -> np.ndarray:
    import soundfile as sf

    audio, sr = sf.read(path, dtype="float32", always_2d=False)
    if sr != 16000:
        raise SystemExit(f"{path}: expected 16 kHz, got {sr}")
    return audio if audio.ndim == 1 else audio.mean(axis=1)


def features(say_cached: bool = True) -> None:
    """Pooled whisper-base states (7 layers x mean+std) of every clip, one file per corpus;
    a corpus already cached is kept (and said so unless ``say_cached`` is False: another
    recipe making sure the cache is there)."""
    import torch

    torch.set_num_threads(1)
    CACHE.mkdir(parents=True, exist_ok=True)
    for corpus in CORPORA:
        out = CACHE / f"{corpus}_whisper.npz"
        if out.exists():
            if say_cached:
                print(f"{out} exists; delete it to recompute")
            continue
        df = corpus_rows(corpus)
        t0, pooled = time.time(), []
        for i, path in enumerate(df["path"]):
            pooled.append(pooled_whisper_states(_read(path)))
            if i % 100 == 0:
                print(f"{corpus} {i}/{len(df)} {time.time() - t0:.0f} s", flush=True)
        np.savez(out, whisper=np.stack(pooled), ids=np.array(df["id"], dtype=str))
        print(f"wrote {out} in {time.time() - t0:.0f} s")


@dataclass
class Speech:
    """Every scored clip of the three corpora: features, basic label index, where from."""

    x: np.ndarray
    y: np.ndarray
    corpus: np.ndarray
    speaker: np.ndarray
    part: np.ndarray
    """``fit``, ``val`` or ``test``."""
    ids: np.ndarray

    def take(self, mask: np.ndarray) -> Speech:
        return Speech(*(getattr(self, k)[mask] for k in self.__dataclass_fields__))


def load_speech() -> Speech:
    parts = []
    for corpus in CORPORA:
        df = corpus_rows(corpus)
        with np.load(CACHE / f"{corpus}_whisper.npz") as z:
            if list(z["ids"]) != list(df["id"]):
                raise SystemExit(
                    f"{corpus}: feature cache does not match the corpus; rerun features"
                )
            x = z["whisper"].reshape(len(df), -1)
        keep = df["basic"].notna().to_numpy()
        df = df[keep]
        part = np.where(
            df["split"] == "test",
            "test",
            np.where(df["speaker"].isin(VALIDATION_SPEAKERS[corpus]), "val", "fit"),
        )
        parts.append(
            Speech(
                x[keep],
                np.array([BASIC_LABELS.index(b) for b in df["basic"]]),
                np.full(len(df), corpus),
                df["speaker"].to_numpy(),
                part,
                df["id"].to_numpy(),
            )
        )
    return Speech(
        *(np.concatenate([getattr(p, k) for p in parts]) for k in Speech.__dataclass_fields__)
    )


# --- the head ----------------------------------------------------------------------------


def balanced_weights(s: Speech) -> np.ndarray:
    """Each corpus the same total weight, each class within a corpus the same; mean 1."""
    w = np.zeros(len(s.y))
    corpora = np.unique(s.corpus)
    for c in corpora:
        in_c = s.corpus == c
        classes = np.unique(s.y[in_c])
        for k in classes:
            m = in_c & (s.y == k)
            w[m] = 1.0 / (len(corpora) * len(classes) * m.sum())
    return w * len(w)


def standardiser(s: Speech, normalisation: str) -> tuple[np.ndarray, np.ndarray]:
    """(mean, scale) applied to every input at run time.

    ``pooled``: over all training rows; ``corpus-balanced``: every corpus weighs the
    same, so the larger RAVDESS does not set the origin the other languages are read from.
    """
    if normalisation == "pooled":
        w = np.ones(len(s.y))
    elif normalisation == "corpus-balanced":
        w = np.zeros(len(s.y))
        for c in np.unique(s.corpus):
            w[s.corpus == c] = 1.0 / np.sum(s.corpus == c)
    else:
        raise ValueError(normalisation)
    w = w / w.sum()
    mean = w @ s.x
    scale = np.sqrt(w @ (s.x - mean) ** 2) + 1e-6
    return mean.astype(np.float32), scale.astype(np.float32)


def fit_head(s: Speech, normalisation: str, c: float, meta: dict | None = None):
    """Standardisation + class- and corpus-balanced multinomial logistic regression."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = standardiser(s, normalisation)
    clf = LogisticRegression(C=c, max_iter=3000, random_state=SEED)
    clf.fit((s.x - mean) / scale, s.y, sample_weight=balanced_weights(s))
    coef = np.zeros((len(BASIC_LABELS), s.x.shape[1]), np.float32)
    intercept = np.full(len(BASIC_LABELS), -30.0, np.float32)  # a class never seen: never said
    coef[clf.classes_] = clf.coef_
    intercept[clf.classes_] = clf.intercept_
    return SpeechEmotionModel(np.arange(7), mean, scale, coef, intercept, BASIC_LABELS, meta)


def predict_within(probs: np.ndarray, corpus: str) -> np.ndarray:
    """The most probable of the corpus's own classes (as ``emochat eval`` reads a model)."""
    allowed = np.array([BASIC_LABELS.index(lab) for lab in CORPUS_LABELS[corpus]])
    return allowed[probs[:, allowed].argmax(1)]


def scores(model: SpeechEmotionModel, s: Speech, corpus: str) -> dict:
    """Accuracy and UAR within the corpus's labels; ECE of the full distribution."""
    probs = model.predict_features(s.x)
    pred = predict_within(probs, corpus)
    return {
        "n": len(s.y),
        "accuracy": round(float(np.mean(pred == s.y)), 4),
        "uar": round(uar(s.y, pred), 4),
        "ece": round(expected_calibration_error(probs, s.y), 4),
        "mean_max_prob": round(float(probs.max(1).mean()), 4),
    }


def select() -> list[dict]:
    """Normalisation x C, fitted on ``fit`` speakers, scored on ``val`` speakers."""
    s = load_speech()
    fit_rows, val = s.take(s.part == "fit"), s.take(s.part == "val")
    rows = []
    for normalisation in NORMALISATIONS:
        for c in CS:
            t0 = time.time()
            model = fit_head(fit_rows, normalisation, c)
            per = {k: scores(model, val.take(val.corpus == k), k) for k in CORPORA}
            row = {
                "normalisation": normalisation,
                "C": c,
                "val_uar_mean": round(float(np.mean([p["uar"] for p in per.values()])), 4),
                **{f"val_uar_{k}": p["uar"] for k, p in per.items()},
                **{f"val_acc_{k}": p["accuracy"] for k, p in per.items()},
            }
            rows.append(row)
            print(json.dumps(row), f"{time.time() - t0:.0f} s", flush=True)
    SELECTION.write_text(json.dumps(rows, indent=1))
    return rows


def choose() -> dict:
    """The configuration with the best mean validation UAR over the three corpora."""
    rows = json.loads(SELECTION.read_text())
    return max(rows, key=lambda r: r["val_uar_mean"])


# --- calibration and the out-of-domain check ---------------------------------------------


CALIBRATION = (
    "temperature fitted on leave-one-corpus-out reads of the fit and validation speakers "
    "(each corpus read by the head fitted on the other two): a user's recording is never "
    "from a training corpus; temperature_in_corpus is the one the validation speakers ask for"
)


def loco_fit_rows(s: Speech, left_out: str) -> Speech:
    """The fit speakers of every corpus but ``left_out``: what its held-out head learns."""
    return s.take((s.part == "fit") & (s.corpus != left_out))


def cross_corpus_logits(
    s: Speech, best: dict, parts: tuple[str, ...], corpora: tuple[str, ...] = CORPORA
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Logits (before any temperature), labels and corpus of the ``parts`` speakers of
    ``corpora``, each corpus read by the chosen head fitted without it
    (:func:`loco_fit_rows`): how the head does on speech unlike all it was trained on,
    which is what users bring. A clip whose label that head never learned (RAVDESS
    surprise: only RAVDESS has it) is left out."""
    logits, labels, corpus = [], [], []
    for left_out in corpora:
        train = loco_fit_rows(s, left_out)
        head = fit_head(train, best["normalisation"], best["C"])
        rows = s.take(np.isin(s.part, parts) & (s.corpus == left_out) & np.isin(s.y, train.y))
        logits.append(head.logits(rows.x))
        labels.append(rows.y)
        corpus.append(rows.corpus)
    return np.concatenate(logits), np.concatenate(labels), np.concatenate(corpus)


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The T that minimises the negative log-likelihood of softmax(logits / T)."""
    from scipy.optimize import minimize_scalar

    def nll(log_t: float) -> float:
        z = logits / np.exp(log_t)
        z = z - z.max(1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(1)) - z[np.arange(len(y)), y]))

    return float(np.exp(minimize_scalar(nll, bounds=(-3, 3), method="bounded").x))


def fit_domain(model: SpeechEmotionModel, fit_rows: Speech, val: Speech) -> None:
    """Principal subspace of the fit speakers' standardised features, and the threshold:
    the :data:`OOD_QUANTILE` quantile of the validation speakers' distances."""
    z = (fit_rows.x - model.mean) / model.scale
    centre = z.mean(0)
    _, sv, vt = np.linalg.svd(z - centre, full_matrices=False)
    components = vt[:OOD_COMPONENTS]
    spread = sv[:OOD_COMPONENTS] / np.sqrt(len(z) - 1)
    model.domain = {
        "centre": centre.astype(np.float32),
        "components": components.astype(np.float32),
        "spread": spread.astype(np.float32),
        "threshold": 1.0,  # distances in raw units until the threshold is known
    }
    model.domain["threshold"] = float(np.quantile(model.domain_distance(val.x), OOD_QUANTILE))


def fit() -> None:
    best = choose()
    s = load_speech()
    fit_rows, val = s.take(s.part == "fit"), s.take(s.part == "val")
    meta = {
        "representation": "whisper-base all layers (L0-6), mean+std over frames",
        "layers": list(range(7)),
        "head": "logistic regression, corpus- and class-balanced sample weights",
        "normalisation": best["normalisation"],
        "C": best["C"],
        "labels": "basic seven; RAVDESS calm trained as neutral; EmoDB boredom left out",
        "train": "fit speakers of RAVDESS, EmoDB, URDU "
        + ", ".join(f"{k}: {int(np.sum(fit_rows.corpus == k))}" for k in CORPORA),
        "validation_speakers": {k: sorted(v) for k, v in VALIDATION_SPEAKERS.items()},
        "val_uar_mean": best["val_uar_mean"],
        "license": "trained on RAVDESS (CC BY-NC-SA 4.0), EmoDB and URDU (research use): "
        "non-commercial research use only",
        "script": "python -m emochat.train.speech_emotion",
    }
    model = fit_head(fit_rows, best["normalisation"], best["C"], meta)
    model.temperature = fit_temperature(*cross_corpus_logits(s, best, ("fit", "val"))[:2])
    fit_domain(model, fit_rows, val)
    model.meta["temperature"] = round(model.temperature, 4)
    model.meta["temperature_in_corpus"] = round(fit_temperature(model.logits(val.x), val.y), 4)
    model.meta["calibration"] = CALIBRATION
    model.meta["ood"] = (
        f"distance in the top {OOD_COMPONENTS} principal axes of the fit speakers' features; "
        f"threshold = the validation speakers' {OOD_QUANTILE:.0%} quantile"
    )
    model.save(MODEL_FILE)
    print(f"wrote {MODEL_FILE} ({MODEL_FILE.stat().st_size / 1e6:.1f} MB): {model.meta}")


# --- held-out figures --------------------------------------------------------------------


def _calibration(model: SpeechEmotionModel, s: Speech) -> dict:
    """ECE of the top label before (T = 1) and after the fitted temperature."""
    logits = model.logits(s.x)
    after = softmax(logits / model.temperature)
    before = softmax(logits)
    return {
        "ece_before": round(expected_calibration_error(before, s.y), 4),
        "ece_after": round(expected_calibration_error(after, s.y), 4),
        "mean_max_prob_before": round(float(before.max(1).mean()), 4),
        "mean_max_prob_after": round(float(after.max(1).mean()), 4),
    }


def heldout(baseline: str | None = None) -> dict:
    """The one look at each corpus's held-out speakers, through the shipped file; with
    ``baseline`` (an earlier head's npz, e.g. the RAVDESS-only one), its scores beside."""
    model = SpeechEmotionModel.load(MODEL_FILE)
    s = load_speech()
    _check_runtime_matches_cache(model, s)
    result = {"temperature": model.temperature, "ood_threshold": model.domain["threshold"]}
    for corpus in (*CORPORA, "all"):
        m = s.part == "test" if corpus == "all" else (s.part == "test") & (s.corpus == corpus)
        test = s.take(m)
        row = _calibration(model, test)
        row["ood_rate"] = round(float(np.mean(model.out_of_domain(test.x))), 4)
        if corpus != "all":
            row.update(scores(model, test, corpus))
            pred = predict_within(model.predict_features(test.x), corpus)
            classes = [BASIC_LABELS.index(lab) for lab in CORPUS_LABELS[corpus]]
            row["confusion"] = confusion_matrix(test.y, pred, labels=classes).tolist()
        result[corpus] = row
    val = s.take(s.part == "val")
    result["validation"] = {**_calibration(model, val), "ood_rate": _ood_rate(model, val)}
    if baseline is not None:
        result["baseline"] = _baseline_scores(SpeechEmotionModel.load(baseline), s)
    (CACHE / "heldout.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return result


def _baseline_scores(model: SpeechEmotionModel, s: Speech) -> dict:
    """An earlier head on the same held-out clips, its labels folded to the basic seven."""
    from emochat.core.labels import fold_to_basic

    out = {}
    for corpus in CORPORA:
        test = s.take((s.part == "test") & (s.corpus == corpus))
        folded = [
            fold_to_basic(dict(zip(model.labels, row, strict=True)))
            for row in model.predict_features(test.x)
        ]
        probs = np.array([[p[lab] for lab in BASIC_LABELS] for p in folded])
        pred = predict_within(probs, corpus)
        out[corpus] = {
            "accuracy": round(float(np.mean(pred == test.y)), 4),
            "uar": round(uar(test.y, pred), 4),
            "ece": round(expected_calibration_error(probs, test.y), 4),
            "mean_max_prob": round(float(probs.max(1).mean()), 4),
        }
    return out


def _ood_rate(model: SpeechEmotionModel, s: Speech) -> float:
    return round(float(np.mean(model.out_of_domain(s.x))), 4)


def _check_runtime_matches_cache(model: SpeechEmotionModel, s: Speech) -> None:
    """The cached features must be what the runtime computes: a few clips end to end."""
    row = {(c, i): n for n, (c, i) in enumerate(zip(s.corpus, s.ids, strict=True))}
    for corpus in CORPORA:
        df = corpus_rows(corpus)
        df = df[(df["split"] == "test") & df["basic"].notna()].iloc[::40]
        for cid, path in zip(df["id"], df["path"], strict=True):
            run = model.predict([_read(path)])[0]
            cached = model.predict_features(s.x[row[corpus, cid]])[0]
            assert run.label == BASIC_LABELS[int(cached.argmax())], (path, run, cached)


def loco() -> dict:
    """Leave one corpus out: the chosen head fitted on the fit speakers of the other two,
    scored on the whole left-out corpus and on its held-out speakers; beside it, the
    shipped head on the same held-out speakers (in-corpus)."""
    best = choose()
    shipped = SpeechEmotionModel.load(MODEL_FILE)
    s = load_speech()
    result = {}
    for left_out in CORPORA:
        train = loco_fit_rows(s, left_out)
        val = s.take((s.part == "val") & (s.corpus != left_out))
        model = fit_head(train, best["normalisation"], best["C"])
        model.temperature = fit_temperature(model.logits(val.x), val.y)
        fit_domain(model, train, val)
        whole = s.take(s.corpus == left_out)
        test = s.take((s.corpus == left_out) & (s.part == "test"))
        result[left_out] = {
            "trained_on": [k for k in CORPORA if k != left_out],
            "whole_corpus": {**scores(model, whole, left_out), "ood_rate": _ood_rate(model, whole)},
            "heldout_speakers": {
                **scores(model, test, left_out),
                "ood_rate": _ood_rate(model, test),
            },
            "in_corpus_heldout_speakers": scores(shipped, test, left_out),
            "flagged_vs_not": _flag_split(model, whole, left_out),
            "ood_auroc": _ood_auroc(model, val, whole),
            "cross_corpus_calibration": _nested_calibration(model, s, best, left_out, test),
        }
        print(left_out, json.dumps(result[left_out]), flush=True)
    (CACHE / "loco.json").write_text(json.dumps(result, indent=1))
    return result


def _nested_calibration(
    model: SpeechEmotionModel, s: Speech, best: dict, left_out: str, test: Speech
) -> dict:
    """The held-out speakers of the left-out corpus (labels the head learned) at the
    head's in-corpus temperature and at the cross-corpus one fitted as :func:`fit` does,
    on the other two corpora only: does a temperature fitted across corpora hold on one
    it never saw?"""
    others = tuple(k for k in CORPORA if k != left_out)
    t_cross = fit_temperature(*cross_corpus_logits(s, best, ("fit", "val"), others)[:2])
    test = test.take(np.isin(test.y, loco_fit_rows(s, left_out).y))
    logits = model.logits(test.x)
    out = {"n": len(test.y)}
    for name, t in (("in_corpus", model.temperature), ("cross_corpus", t_cross)):
        probs = softmax(logits / t)
        out[name] = {
            "temperature": round(t, 4),
            "ece": round(expected_calibration_error(probs, test.y), 4),
            "mean_max_prob": round(float(probs.max(1).mean()), 4),
        }
    out["accuracy"] = round(float(np.mean(logits.argmax(1) == test.y)), 4)
    return out


def _flag_split(model: SpeechEmotionModel, s: Speech, corpus: str) -> dict:
    """Accuracy of the clips the OOD check flags vs those it passes: does the flag mean
    the answer is less trustworthy?"""
    flagged = model.out_of_domain(s.x)
    out = {}
    for name, m in (("flagged", flagged), ("passed", ~flagged)):
        out[name] = scores(model, s.take(m), corpus) if m.any() else {"n": 0}
    return out


def _ood_auroc(model: SpeechEmotionModel, seen: Speech, unseen: Speech) -> dict:
    """How well each candidate score tells the unseen corpus from the seen corpora's
    validation speakers (ROC AUC; 0.5 = not at all)."""
    from sklearn.metrics import roc_auc_score

    is_unseen = np.r_[np.zeros(len(seen.y)), np.ones(len(unseen.y))]
    x = np.concatenate([seen.x, unseen.x])
    return {
        "domain_distance": round(float(roc_auc_score(is_unseen, model.domain_distance(x))), 4),
        "one_minus_max_prob": round(
            float(roc_auc_score(is_unseen, 1 - model.predict_features(x).max(1))), 4
        ),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="emochat.train.speech_emotion",
        description=__doc__,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    ap.add_argument("step", choices=list(STEPS))
    ap.add_argument(
        "--baseline",
        metavar="NPZ",
        help="heldout: also score this earlier head (e.g. git show "
        "fa9aebc:src/emochat/models/speech_emotion/speech_emotion.npz, RAVDESS only)",
    )
    args = ap.parse_args(argv)
    for step, run in (
        ("features", features),
        ("select", select),
        ("fit", fit),
        ("heldout", lambda: heldout(args.baseline)),
        ("loco", loco),
    ):
        if args.step in (step, "all"):
            run()


if __name__ == "__main__":
    main()
