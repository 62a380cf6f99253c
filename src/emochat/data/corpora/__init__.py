"""One reader module per corpus, named after its entry in :data:`~emochat.data.registry.DATASETS`.

Every reader's ``load(split, root=None, ...)`` returns a tidy DataFrame, one row per
sample, with at least ``id``, ``split``, ``label`` (the corpus's own label, lower-cased)
and ``basic`` (that label in :data:`~emochat.core.labels.BASIC_LABELS`, or None when it
has no counterpart), plus the model input: ``text``, ``path`` (audio/video file) or
``image``. Dialogue corpora also carry ``context``: the earlier utterances of the same
dialogue, oldest first. Text corpora also have ``text_corpus(split)``, the rows a text
model trains on (:class:`~emochat.data.text_corpus.TextCorpus`). Splits are the fixed
ones of DESIGN.md; the held-out one of each corpus (:data:`~emochat.data.registry.HELD_OUT`)
is never trained on nor used for model selection. Corpora are read from
:func:`emochat.core.settings.data_root` unless ``root`` is given; a missing or malformed
file raises :class:`~emochat.core.errors.DataError` naming the file (and line).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pandas as pd

from emochat.data.corpora import (
    emodb,
    emorynlp,
    fer2013,
    goemotions,
    isear,
    meld,
    ravdess,
    smp2020,
    urdu,
)
from emochat.data.registry import DatasetSpec

READERS: dict[str, ModuleType] = {
    "ravdess": ravdess,
    "emodb": emodb,
    "urdu": urdu,
    "fer2013": fer2013,
    "meld": meld,
    "emorynlp": emorynlp,
    "goemotions": goemotions,
    "smp2020": smp2020,
    "isear": isear,
}
"""Corpus name -> its reader module (a test checks it covers every registered corpus)."""


def load_dataset(spec: DatasetSpec, split: str | None = None, **kwargs: Any) -> pd.DataFrame:
    """The corpus's rows of ``split`` (default: its held-out split), by its reader."""
    return READERS[spec.name].load(split or spec.held_out, **kwargs)
