"""GoEmotions (Demszky et al. 2020): Reddit comments, 27 emotions + neutral, multi-label."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from emochat.core.errors import DataError
from emochat.data.corpora.common import clean_text, corpus_folder
from emochat.data.csvio import read_rows
from emochat.data.labels import GOEMOTIONS_EKMAN_TO_BASIC, GOEMOTIONS_TO_EKMAN
from emochat.data.registry import check_split
from emochat.data.text_corpus import TextCorpus


def _read_label_names(path: Path) -> list[str]:
    try:
        names = [n.strip() for n in path.read_text(encoding="utf-8").splitlines() if n.strip()]
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    if not names:
        raise DataError(path, "no label names")
    return names


def load(
    split: str = "test", root: str | Path | None = None, taxonomy: str = "ekman"
) -> pd.DataFrame:
    """GoEmotions Reddit comments, multi-label.

    ``taxonomy="ekman"`` reads goemotions/ekman (the 28 labels grouped into Ekman's
    six + neutral by :data:`~emochat.data.labels.GOEMOTIONS_TO_EKMAN`); ``"full"``
    the 28 original labels. Columns: id, text, labels (list), label (the label when
    there is exactly one, else None), basic (``label`` through the Ekman grouping
    into the basic space), split. Single-label scores use the rows where ``label`` is set.
    """
    check_split("goemotions", split)
    if taxonomy not in ("ekman", "full"):
        raise DataError(None, f"goemotions taxonomy must be 'ekman' or 'full', not {taxonomy!r}")
    folder = corpus_folder(root, "goemotions")
    if taxonomy == "ekman":
        folder = folder / "ekman"
    names = _read_label_names(folder / "labels.txt")
    path = folder / f"{split}.tsv"
    records = []
    rows = read_rows(path, delimiter="\t", header=["text", "ids", "id"], quoting=csv.QUOTE_NONE)
    for line, row in rows:
        try:
            ids = [int(i) for i in row["ids"].split(",")]
            labs = [names[i] for i in ids]
        except (ValueError, IndexError):
            raise DataError(path, f"line {line}: bad label ids {row['ids']!r}") from None
        single = labs[0] if len(labs) == 1 else None
        ekman = single if taxonomy == "ekman" else GOEMOTIONS_TO_EKMAN.get(single or "")
        basic = GOEMOTIONS_EKMAN_TO_BASIC.get(ekman) if ekman else None
        records.append(
            {
                "id": row["id"],
                "text": clean_text(row["text"]),
                "labels": labs,
                "label": single,
                "basic": basic,
                "split": split,
            }
        )
    return pd.DataFrame.from_records(records)


def text_corpus(split: str, root: Path | None = None) -> TextCorpus:
    """GoEmotions ``train`` / ``dev`` / ``test`` for a text model: the Ekman files
    (``goemotions/ekman``), single-label comments only (multi-label ones have no single
    basic label)."""
    return TextCorpus.from_rows("goemotions", split, load(split, root=root))
