"""What ``emochat eval`` can evaluate, and with which model: light tables, lazy loading.

Three registries, all plain dicts that later code extends:

* :data:`DATASETS` - corpus name -> :class:`DatasetSpec` (splits, the held-out split,
  the modalities a model can be scored on, the adapter in :mod:`emochat.eval.datasets`);
* :data:`PREDICTORS` - modality -> factory returning ``predict(inputs) -> labels``.
  A factory imports its model lazily and raises :class:`NoModelError` when the model
  does not exist yet; ``register_predictor`` installs or replaces one;
* :data:`EVALUATORS` - ``emochat eval`` sub-command name -> :class:`Evaluator`
  (filled by :mod:`emochat.eval.cli`; a new benchmark adds an entry).

Importing this module imports nothing heavy, so ``emochat --help`` stays fast.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from emochat.errors import DataError, EmochatError

Predict = Callable[..., Sequence[Any]]
"""A batch predictor: ``predict(inputs, **hints)`` -> one result per input (see
:data:`PREDICTORS`)."""


class NoModelError(EmochatError):
    """The model needed for an evaluation is not available (not built or not installed)."""


@dataclass(frozen=True)
class DatasetSpec:
    """How ``emochat eval DATASET`` finds and splits a corpus."""

    name: str
    loader: str
    """Function name in :mod:`emochat.eval.datasets`: ``loader(split, root=...)``."""
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

    def load(self, split: str | None = None, **kwargs: Any):
        from emochat.eval import datasets

        return getattr(datasets, self.loader)(split or self.held_out, **kwargs)


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "ravdess",
            "ravdess_speech",
            ("train", "test", "all"),
            "test",
            ("speech",),
            "RAVDESS speech, 8 emotions; actors 21-24 held out",
        ),
        DatasetSpec(
            "fer2013",
            "fer2013",
            ("train", "val", "test", "all"),
            "test",
            ("face",),
            "FER2013 48x48 face crops; PrivateTest held out",
        ),
        DatasetSpec(
            "meld",
            "meld",
            ("train", "dev", "test"),
            "test",
            ("text", "video"),
            "MELD utterances (Friends), 7 emotions; video needs MELD.Raw clips",
            calibration="dialogue",
        ),
        DatasetSpec(
            "emorynlp",
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
            "goemotions",
            ("train", "dev", "test"),
            "test",
            ("text",),
            "GoEmotions Reddit comments, Ekman grouping, single-label rows",
            calibration="social",
        ),
        DatasetSpec(
            "smp2020",
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


# --- predictors -------------------------------------------------------------------------


def _text_factory() -> Predict:
    try:
        from emochat.text import TextEmotionModel
    except ImportError as exc:
        raise NoModelError(None, f"no text emotion model in this version yet ({exc})") from None
    model = TextEmotionModel.load()

    def predict(texts, context=None, domain=None):
        if domain is not None and domain not in model.domains:
            raise DataError(
                None,
                f"unknown calibration {domain!r}; the text model has {', '.join(model.domains)}",
            )
        # results keep their probabilities, so a corpus's label subset can be applied
        return model.predict(list(texts), context=context, domain=domain, top_k=0, lexicon=False)

    return predict


def _face_factory() -> Predict:
    try:
        from emochat.face.predict import predict_face_arrays
    except ImportError as exc:
        raise NoModelError(
            None, f"no face emotion model for image arrays in this version yet ({exc})"
        ) from None
    return lambda images: list(predict_face_arrays(list(images)))


def _speech_factory() -> Predict:
    try:
        from emochat.audio.predict import predict_speech_files
    except ImportError as exc:
        raise NoModelError(None, f"no speech emotion model in this version yet ({exc})") from None
    return lambda paths: list(predict_speech_files(list(paths)))


def _video_factory() -> Predict:
    analyze = load_analyze()

    def predict(paths: Sequence[str]) -> list[Any]:
        out: list[Any] = []
        for path in paths:
            try:
                out.append(analyze(path))
            except EmochatError as exc:
                out.append(exc)
        return out

    return predict


PREDICTORS: dict[str, Callable[[], Predict]] = {
    "text": _text_factory,
    "face": _face_factory,
    "speech": _speech_factory,
    "video": _video_factory,
}
"""Modality -> factory. Contract of the predictor a factory returns: given a list of
inputs (text: strings; speech/video: file paths; face: HxW uint8 arrays) return one
result per input: a label string, a dict or object with ``label`` and optionally
``probs`` (label -> probability; a Report's ``overall`` is used), or an EmochatError
for an input that failed. Text predictors also receive the hints of the corpus as
keyword arguments: ``context`` (one list of earlier dialogue utterances per input, when
the corpus has dialogues) and ``domain`` (:attr:`DatasetSpec.calibration`, when set)."""


def register_predictor(modality: str, factory: Callable[[], Predict]) -> None:
    """Install (or replace) the model factory ``emochat eval`` uses for a modality."""
    PREDICTORS[modality] = factory


def load_predictor(modality: str) -> Predict:
    """The predictor for ``modality``; NoModelError (one line) when there is none yet."""
    factory = PREDICTORS.get(modality)
    if factory is None:
        raise NoModelError(None, f"no {modality} model is registered for evaluation")
    try:
        return factory()
    except (ImportError, OSError) as exc:
        # not built yet, or its weights are not on disk
        detail = " ".join(str(exc).split())
        raise NoModelError(None, f"the {modality} model cannot be loaded ({detail})") from None


def load_analyze() -> Callable[..., Any]:
    """``emochat.analyze``, imported only when a manifest or video evaluation runs."""
    import importlib

    try:
        analyze = getattr(importlib.import_module("emochat"), "analyze", None)
    except ImportError as exc:
        raise NoModelError(None, f"the analysis pipeline cannot be imported ({exc})") from None
    if analyze is None:
        raise NoModelError(None, "emochat.analyze is not available in this version yet")
    return analyze


# --- evaluators -------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluator:
    """One ``emochat eval NAME`` sub-command."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


EVALUATORS: dict[str, Evaluator] = {}


def register_evaluator(evaluator: Evaluator) -> None:
    """Add (or replace) an ``emochat eval`` sub-command."""
    EVALUATORS[evaluator.name] = evaluator
