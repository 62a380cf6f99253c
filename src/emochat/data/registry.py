"""The corpora emochat knows: their splits, held-out split, modalities and protocol.

A light table (no pandas), so that ``emochat --help``, the evaluation and the training
recipes read splits without loading a corpus; the readers themselves are in
:mod:`emochat.data.corpora`, one module per corpus, and check their splits here.
"""

from __future__ import annotations

from dataclasses import dataclass

from emochat.core.errors import DataError


@dataclass(frozen=True)
class DatasetSpec:
    """How ``emochat eval DATASET`` finds and splits a corpus."""

    name: str
    """Also the name of its reader module in :mod:`emochat.data.corpora`."""
    splits: tuple[str, ...]
    held_out: str
    """The split that is scored by default and never trained on."""
    modalities: tuple[str, ...]
    """Input kinds a model can be scored on; the first is the default."""
    description: str
    labels: tuple[str, ...] | None = None
    """The basic labels the corpus annotates, when not all of them. A prediction that
    comes with probabilities is read as the most probable of these (a model is not
    marked wrong for a class the corpus cannot contain); None: all basic labels."""
    calibration: str | None = None
    """Per-corpus calibration a text model should apply (the text model's ``domain``,
    its class prior for this kind of text: dialogue, social, weibo, ...); None: the
    model's default."""


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "ravdess",
            ("train", "test", "all"),
            "test",
            ("speech",),
            "RAVDESS speech, 8 emotions; actors 21-24 held out",
        ),
        DatasetSpec(
            "emodb",
            ("train", "test", "all"),
            "test",
            ("speech",),
            "EmoDB German acted speech, 7 emotions (boredom unscored); speakers 15, 16 held out",
            labels=("neutral", "happy", "sad", "angry", "fear", "disgust"),
        ),
        DatasetSpec(
            "urdu",
            ("train", "test", "all"),
            "test",
            ("speech",),
            "URDU talk-show speech, 4 emotions; speakers SF1 SF6 SF7 SM3 SM6 SM7 held out",
            labels=("neutral", "happy", "sad", "angry"),
        ),
        DatasetSpec(
            "fer2013",
            ("train", "val", "test", "all"),
            "test",
            ("face",),
            "FER2013 48x48 face crops; PrivateTest held out",
        ),
        DatasetSpec(
            "meld",
            ("train", "dev", "test"),
            "test",
            ("text", "video"),
            "MELD utterances (Friends), 7 emotions; video needs MELD.Raw clips",
            calibration="dialogue",
        ),
        DatasetSpec(
            "emorynlp",
            ("train", "dev", "test"),
            "test",
            ("text",),
            "EmoryNLP utterances (Friends), 7 feeling-wheel emotions",
            labels=("neutral", "happy", "sad", "angry", "fear"),
            calibration="emorynlp",
        ),
        DatasetSpec(
            "goemotions",
            ("train", "dev", "test"),
            "test",
            ("text",),
            "GoEmotions Reddit comments, Ekman grouping, single-label rows",
            calibration="social",
        ),
        DatasetSpec(
            "smp2020",
            ("train", "dev"),
            "dev",
            ("text",),
            "SMP2020-EWECT Chinese Weibo posts, 6 emotions; dev held out",
            labels=("neutral", "happy", "sad", "angry", "fear", "surprise"),
            calibration="weibo",
        ),
        DatasetSpec(
            "isear",
            ("all",),
            "all",
            ("text",),
            "ISEAR self-reported situations, 7 emotions (no official split)",
            labels=("happy", "sad", "angry", "fear", "disgust"),
            calibration="self_report",
        ),
    )
}

HELD_OUT: dict[str, str] = {name: spec.held_out for name, spec in DATASETS.items()}
"""Corpus -> the split that is never trained on nor used for model selection."""


def check_split(corpus: str, split: str) -> str:
    """``split`` when ``corpus`` has it, else DataError listing the splits it has."""
    allowed = DATASETS[corpus].splits
    if split not in allowed:
        raise DataError(None, f"{corpus} has no split {split!r}; choose from {', '.join(allowed)}")
    return split
