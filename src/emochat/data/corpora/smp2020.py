"""SMP2020-EWECT: Chinese Weibo posts with 6 emotions (usual and COVID-19 ones)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from emochat.data.corpora.common import clean_text, corpus_folder, native_label
from emochat.data.csvio import read_rows
from emochat.data.registry import check_split
from emochat.data.text_corpus import TextCorpus


def load(split: str = "dev", root: str | Path | None = None) -> pd.DataFrame:
    """SMP2020-EWECT Chinese Weibo posts; ``dev`` is the held-out evaluation split.

    Columns: id (``{split}-{row}``), text, label (as spelled: ``neural`` = neutral),
    basic, type (usual / virus), split.
    """
    check_split("smp2020", split)
    path = corpus_folder(root, "smp2020-ewect") / f"{split}.csv"
    records = []
    for n, (line, row) in enumerate(read_rows(path, ("content", "labels", "type"))):
        label, basic = native_label(path, line, "smp2020", row["labels"])
        records.append(
            {
                "id": f"{split}-{n}",
                "text": clean_text(row["content"]),
                "label": label,
                "basic": basic,
                "type": row["type"].strip(),
                "split": split,
            }
        )
    return pd.DataFrame.from_records(records)


def text_corpus(split: str, root: Path | None = None) -> TextCorpus:
    """SMP2020-EWECT ``train`` / ``dev`` for a text model: ``neural`` is neutral (sic in
    the source); there is no disgust class."""
    return TextCorpus.from_rows("smp2020", split, load(split, root=root))
