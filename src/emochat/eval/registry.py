"""With which model ``emochat eval`` scores a corpus: light tables, lazy loading.

The corpora themselves are :data:`emochat.data.registry.DATASETS`. Two registries here,
plain dicts that later code extends:

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

from emochat.core.errors import DataError, EmochatError

Predict = Callable[..., Sequence[Any]]
"""A batch predictor: ``predict(inputs, **hints)`` -> one result per input (see
:data:`PREDICTORS`)."""


class NoModelError(EmochatError):
    """The model needed for an evaluation is not available (not built or not installed)."""


# --- predictors -------------------------------------------------------------------------


def _text_factory() -> Predict:
    from emochat.models.registry import load as load_model

    try:
        model = load_model("text_emotion")
    except ImportError as exc:
        raise NoModelError(None, f"no text emotion model in this version yet ({exc})") from None

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
        from emochat.voice.predict import predict_speech_files
    except ImportError as exc:
        raise NoModelError(None, f"no speech emotion model in this version yet ({exc})") from None
    return lambda paths: list(predict_speech_files(list(paths), vad=False))


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
the corpus has dialogues) and ``domain`` (the corpus's
:attr:`~emochat.data.registry.DatasetSpec.calibration`, when set)."""


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
