"""Each modality's probabilities over the basic labels on its selection and test pools,
cached under ``.cache/fusion`` by the sha256 of the model files that made them.

A ``test`` pool is a held-out split the modality's model never trained on nor was
selected on; a ``selection`` pool is one the fusion weights may be fitted on: the split
the model's recipe selected on (face, text; for speech its validation speakers, each
corpus read by the head fitted without it). When a model file changes (a recalibrated
speech head, a retrained face CNN) only its pools are recomputed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from emochat.core.labels import BASIC_LABELS
from emochat.core.probabilities import softmax
from emochat.models import registry
from emochat.train.paths import CACHE_ROOT

CACHE = CACHE_ROOT / "fusion"

SMP_SELECTION_SEED = 0
"""The text recipe's seed for its held-back 10 % of SMP2020 train (its selection split)."""


@dataclass(frozen=True)
class Pool:
    """Probabilities (n, 7) in BASIC_LABELS order and the true label index of each sample."""

    probs: np.ndarray
    labels: np.ndarray

    def accuracy(self) -> float:
        return float((self.probs.argmax(1) == self.labels).mean())


def _model_key(name: str) -> str:
    """A short key for the model's current files (all of them: a head and its graph)."""
    files = "".join(registry.sha256(registry.file_path(f)) for f in registry.entry(name).files)
    return hashlib.sha256(files.encode()).hexdigest()[:16]


def cached(name: str, key: str, compute: Callable[[], Pool]) -> Pool:
    """The pool ``name`` from ``.cache/fusion`` when ``key`` matches, else computed and kept."""
    path = CACHE / f"{name}_{key}.npz"
    if path.is_file():
        with np.load(path) as z:
            return Pool(z["probs"], z["labels"])
    pool = compute()
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, probs=pool.probs, labels=pool.labels)
    return pool


def _label_index(basic: list[str]) -> np.ndarray:
    return np.array([BASIC_LABELS.index(b) for b in basic], dtype=np.int64)


def face_pool(split: str) -> Pool:
    """FER2013 ``val`` (PublicTest, selection) or ``test`` (PrivateTest) through the shipped
    expression CNN (its own test-time views, as the pipeline runs it)."""
    from emochat.data.corpora import fer2013

    def compute() -> Pool:
        df = fer2013.load(split, images=True)
        model = registry.load("face_expression")
        return Pool(model.predict(np.stack(df["image"].to_list())), _label_index(df["basic"]))

    return cached(f"face_fer2013_{split}", _model_key("face_expression"), compute)


def _voice_pool(name: str, part: str) -> Pool:
    """The ``part`` speakers (``val`` or ``test``) of the speech recipe's three corpora,
    each corpus read by the speech head fitted without it (the shipped file's C,
    normalisation and temperature; ``cross_corpus_logits``). A user's recording is never
    from a training corpus, so the fusion learns how far to trust the voice from speech
    the head never heard: read in-corpus, the validation speakers made the voice look
    0.77 right, where a corpus it never heard gets 0.26-0.57 (models/speech_emotion/CARD.md).
    RAVDESS surprise is left out (only RAVDESS has it): samples of that label go without
    voice, as for a corpus that lacks the label."""

    def compute() -> Pool:
        from emochat.train.speech_emotion import recipe

        recipe.features(say_cached=False)  # cached after the first run
        model = registry.load("speech_emotion")
        best = {"normalisation": model.meta["normalisation"], "C": model.meta["C"]}
        logits, labels, _ = recipe.cross_corpus_logits(recipe.load_speech(), best, (part,))
        return Pool(softmax(logits / model.temperature).astype(np.float32), labels)

    return cached(name, _model_key("speech_emotion"), compute)


def voice_test_pool() -> Pool:
    """The speech corpora's held-out speakers (RAVDESS 21-24, EmoDB 15 and 16, six
    URDU), each corpus read by the head fitted without it."""
    return _voice_pool("voice_cross_corpus_test", "test")


def voice_selection_pool() -> Pool:
    """The speech model's validation speakers (RAVDESS 17-20, EmoDB 12 and 14, five URDU
    speakers), each corpus read by the head fitted without it: held out of every fit."""
    return _voice_pool("voice_cross_corpus_validation", "val")


TEXT_POOLS = {
    ("en", "selection"): ("meld", "dev"),
    ("en", "test"): ("meld", "test"),
    ("zh", "selection"): ("smp2020", "train"),
    ("zh", "test"): ("smp2020", "dev"),
}
"""(language, role) -> (corpus, split): the text model's own selection and held-out splits
(SMP2020's selection split is its recipe's seeded 10 % of train; its dev is held out)."""


def _text_corpus(corpus: str, split: str):
    """The sentences of a text pool (SMP2020 train: only the held-back 10 %)."""
    from emochat.data.corpora import meld, smp2020

    if corpus == "meld":
        return meld.text_corpus(split)
    c = smp2020.text_corpus(split)
    if split == "train":
        perm = np.random.default_rng(SMP_SELECTION_SEED).permutation(len(c))
        keep = sorted(perm[: len(c) // 10])
        c.texts, c.labels = [c.texts[i] for i in keep], [c.labels[i] for i in keep]
        c.dialogue, c.turn = [None] * len(keep), [0] * len(keep)
    return c


def text_pool(language: str, role: str, calibrated: bool = True) -> Pool:
    """MELD (English) or SMP2020 (Chinese) through the shipped text model as the pipeline
    runs it (default domain, previous turns as context); ``calibrated=False``: before the
    model's temperature."""
    corpus, split = TEXT_POOLS[(language, role)]
    model = registry.load("text_emotion")

    def compute() -> Pool:
        c = _text_corpus(corpus, split)
        probs = model.predict_proba(
            c.texts, context=c.contexts(model.context_turns), calibrated=False
        )
        return Pool(probs.astype(np.float32), _label_index(c.labels))

    raw = cached(f"text_{corpus}_{split}", _model_key("text_emotion"), compute)
    if not calibrated or model.temperature == 1.0:
        return raw
    from emochat.train.calibration import soften

    return Pool(soften(raw.probs, model.temperature).astype(np.float32), raw.labels)
