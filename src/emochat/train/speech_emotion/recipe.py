"""Train the shipped speech-emotion head (src/emochat/models/speech_emotion/speech_emotion.npz) on RAVDESS.

Protocol: actors 1-20 for training and every choice (representation, layers, C), by
5-fold cross-validation grouped by actor (4 actors per fold, never split across folds);
actors 21-24 are touched once, by ``heldout``, for the figure in models/speech_emotion/CARD.md.

    emochat train speech_emotion features  # cache features in .cache/voice (slow part)
    emochat train speech_emotion compare   # actor-CV table of representations
    emochat train speech_emotion fit       # fit the chosen head on actors 1-20, write npz
    emochat train speech_emotion heldout   # accuracy / UAR on actors 21-24 (once)
    emochat train speech_emotion all

Deterministic: fixed fold assignment, seeded solvers, single-threaded torch.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from emochat.core.settings import data_root
from emochat.eval.metrics import confusion_matrix, uar
from emochat.train.paths import CACHE_ROOT
from emochat.train.speech_emotion import STEPS
from emochat.voice.speech_emotion import (
    MODEL_FILE,
    RAVDESS_LABELS,
    SpeechEmotionModel,
    pooled_whisper_states,
    trim_silence,
)

CACHE = CACHE_ROOT / "voice"
SEED = 0
TRAIN_ACTORS = range(1, 21)
HELDOUT_ACTORS = range(21, 25)
# RAVDESS emotion code 01..08 -> index in RAVDESS_LABELS (same order)
FOLDS = [[1, 6, 11, 16], [2, 7, 12, 17], [3, 8, 13, 18], [4, 9, 14, 19], [5, 10, 15, 20]]


def corpus() -> list[tuple[Path, int, int]]:
    """(path, label index, actor) for every RAVDESS speech clip."""
    root = data_root() / "ravdess-speech"
    items = []
    for p in sorted(root.glob("Actor_*/*.flac")):
        parts = p.stem.split("-")
        items.append((p, int(parts[2]) - 1, int(parts[6])))
    if len(items) != 1440:
        raise SystemExit(f"expected 1440 RAVDESS clips under {root}, found {len(items)}")
    return items


def read(path: Path) -> np.ndarray:
    import soundfile as sf

    audio, sr = sf.read(str(path), dtype="float32", always_2d=False)
    if sr != 16000:
        raise SystemExit(f"{path}: expected 16 kHz, got {sr}")
    return audio if audio.ndim == 1 else audio.mean(axis=1)


def egemaps_functionals(audio: np.ndarray) -> np.ndarray:
    from emochat.voice.prosody import smile

    return smile("functionals").process_signal(trim_silence(audio), 16000).to_numpy()[0]


def features() -> None:
    import torch

    torch.set_num_threads(1)
    CACHE.mkdir(parents=True, exist_ok=True)
    items = corpus()
    out = CACHE / "ravdess_features.npz"
    if out.exists():
        print(f"{out} exists; delete it to recompute")
        return
    whisper, egemaps = [], []
    t0 = time.time()
    for i, (path, _, _) in enumerate(items):
        audio = read(path)
        whisper.append(pooled_whisper_states(audio))
        egemaps.append(egemaps_functionals(audio))
        if i % 100 == 0:
            print(f"{i}/{len(items)} {time.time() - t0:.0f} s", flush=True)
    np.savez(
        out,
        whisper=np.stack(whisper),
        egemaps=np.stack(egemaps).astype(np.float32),
        y=np.array([y for _, y, _ in items]),
        actor=np.array([a for _, _, a in items]),
        names=np.array([p.name for p, _, _ in items]),
    )
    print(f"wrote {out} in {time.time() - t0:.0f} s")


def load_features() -> dict[str, np.ndarray]:
    with np.load(CACHE / "ravdess_features.npz") as z:
        return {k: z[k] for k in z.files}


def make_head(kind: str, c: float):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    if kind == "lr":
        clf = LogisticRegression(C=c, max_iter=3000, random_state=SEED)
    elif kind == "svm-rbf":
        clf = SVC(C=c, kernel="rbf", gamma="scale", random_state=SEED)
    else:
        raise ValueError(kind)
    return make_pipeline(StandardScaler(), clf)


def per_actor_norm(x: np.ndarray, actor: np.ndarray) -> np.ndarray:
    """Z-score features within each actor (speaker normalisation)."""
    out = np.empty_like(x)
    for a in np.unique(actor):
        m = actor == a
        out[m] = (x[m] - x[m].mean(0)) / (x[m].std(0) + 1e-6)
    return out


def actor_cv(x: np.ndarray, y: np.ndarray, actor: np.ndarray, kind: str, c: float):
    pred = np.full_like(y, -1)
    for fold in FOLDS:
        test = np.isin(actor, fold)
        train = np.isin(actor, list(TRAIN_ACTORS)) & ~test
        pred[test] = make_head(kind, c).fit(x[train], y[train]).predict(x[test])
    m = np.isin(actor, list(TRAIN_ACTORS))
    return float(np.mean(pred[m] == y[m])), uar(y[m], pred[m])


def representations(f: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    w = f["whisper"]
    reps = {"egemaps88": f["egemaps"]}
    for layer in range(w.shape[1]):
        reps[f"whisper L{layer}"] = w[:, layer]
    reps["whisper L3-4"] = w[:, 3:5].reshape(len(w), -1)
    reps["whisper L2-5"] = w[:, 2:6].reshape(len(w), -1)
    reps["whisper all"] = w.reshape(len(w), -1)
    return reps


def compare(out_json: Path | None = None) -> list[dict]:
    f = load_features()
    y, actor = f["y"], f["actor"]
    rows = []
    for name, x in representations(f).items():
        for kind, cs in (("lr", (0.01, 0.1)), ("svm-rbf", (1.0, 10.0))):
            for c in cs:
                t0 = time.time()
                acc, u = actor_cv(x, y, actor, kind, c)
                rows.append(
                    {
                        "representation": name,
                        "head": kind,
                        "C": c,
                        "cv_acc": acc,
                        "cv_uar": u,
                        "dim": int(x.shape[1]),
                    }
                )
                print(
                    f"| {name} ({x.shape[1]}) | {kind} C={c} | {acc:.3f} | {u:.3f} | "
                    f"{time.time() - t0:.0f} s",
                    flush=True,
                )
    (out_json or CACHE / "compare.json").write_text(json.dumps(rows, indent=1))
    return rows


LAYERS = {"whisper L3-4": [3, 4], "whisper L2-5": [2, 3, 4, 5], "whisper all": list(range(7))}


def layers_of(name: str) -> list[int] | None:
    if name in LAYERS:
        return LAYERS[name]
    if name.startswith("whisper L") and name[9:].isdigit():
        return [int(name[9:])]
    return None


def choose() -> dict:
    """Best logistic-regression configuration by actor-CV accuracy (the shippable head)."""
    rows = json.loads((CACHE / "compare.json").read_text())
    rows = [r for r in rows if r["head"] == "lr" and layers_of(r["representation"])]
    return max(rows, key=lambda r: (round(r["cv_acc"], 3), r["cv_uar"]))


def fit() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    best = choose()
    layers = layers_of(best["representation"])
    f = load_features()
    train = np.isin(f["actor"], list(TRAIN_ACTORS))
    x = f["whisper"][train][:, layers].reshape(int(train.sum()), -1)
    y = f["y"][train]
    scaler = StandardScaler().fit(x)
    clf = LogisticRegression(C=best["C"], max_iter=5000, random_state=SEED)
    clf.fit(scaler.transform(x), y)
    assert list(clf.classes_) == list(range(8))
    meta = {
        "representation": best["representation"],
        "layers": layers,
        "head": "logistic regression",
        "C": best["C"],
        "train": "RAVDESS speech actors 1-20 (1,200 clips)",
        "actor_cv_acc": round(best["cv_acc"], 4),
        "actor_cv_uar": round(best["cv_uar"], 4),
        "license": "trained on RAVDESS (CC BY-NC-SA 4.0): non-commercial use only",
        "script": "python -m emochat.train.speech_emotion",
    }
    model = SpeechEmotionModel(
        np.array(layers),
        scaler.mean_.astype(np.float32),
        scaler.scale_.astype(np.float32),
        clf.coef_.astype(np.float32),
        clf.intercept_.astype(np.float32),
        RAVDESS_LABELS,
        meta,
    )
    model.save(MODEL_FILE)
    print(f"wrote {MODEL_FILE} ({MODEL_FILE.stat().st_size / 1e6:.1f} MB): {meta}")


def heldout() -> dict:
    """The one look at actors 21-24, through the shipped file."""
    model = SpeechEmotionModel.load(MODEL_FILE)
    f = load_features()
    test = np.isin(f["actor"], list(HELDOUT_ACTORS))
    x = f["whisper"][test][:, model.layers].reshape(int(test.sum()), -1)
    y = f["y"][test]
    pred = model.predict_features(x).argmax(1)
    # the cached features must be what the runtime computes: check a few clips end to end
    items = [it for it in corpus() if it[2] in HELDOUT_ACTORS][::60]
    names = list(f["names"][test])
    for path, _, _ in items:
        p_run = model.predict([read(path)])[0]
        p_cache = model._result(model.predict_features(x[names.index(path.name)])[0])
        assert p_run.label == p_cache.label, (path, p_run, p_cache)
    cm = confusion_matrix(y, pred, labels=range(len(RAVDESS_LABELS)))
    result = {
        "n": int(test.sum()),
        "accuracy": round(float(np.mean(pred == y)), 4),
        "uar": round(uar(y, pred), 4),
        "labels": list(RAVDESS_LABELS),
        "confusion": cm.tolist(),
        "per_class_recall": {
            lab: round(float(cm[i, i] / cm[i].sum()), 3) for i, lab in enumerate(RAVDESS_LABELS)
        },
    }
    # the eGeMAPS baseline on the same held-out actors, for the comparison table
    from sklearn.base import clone

    best_eg = max(
        (
            r
            for r in json.loads((CACHE / "compare.json").read_text())
            if r["representation"] == "egemaps88"
        ),
        key=lambda r: r["cv_acc"],
    )
    train = np.isin(f["actor"], list(TRAIN_ACTORS))
    eg = clone(make_head(best_eg["head"], best_eg["C"])).fit(f["egemaps"][train], f["y"][train])
    eg_pred = eg.predict(f["egemaps"][test])
    result["egemaps_baseline"] = {
        "head": best_eg["head"],
        "C": best_eg["C"],
        "accuracy": round(float(np.mean(eg_pred == y)), 4),
        "uar": round(uar(y, eg_pred), 4),
    }
    (CACHE / "heldout.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return result


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="emochat.train.speech_emotion",
        description=__doc__,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    ap.add_argument("step", choices=list(STEPS))
    args = ap.parse_args(argv)
    if args.step in ("features", "all"):
        features()
    if args.step in ("compare", "all"):
        compare()
    if args.step in ("fit", "all"):
        fit()
    if args.step in ("heldout", "all"):
        heldout()


if __name__ == "__main__":
    main()
