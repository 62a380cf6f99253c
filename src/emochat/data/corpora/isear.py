"""ISEAR (Scherer & Wallbott 1994): self-reported situations, 7 emotions, no official split."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from emochat.core.errors import DataError
from emochat.data.corpora.common import clean_text, corpus_folder, native_label
from emochat.data.registry import check_split
from emochat.data.text_corpus import TextCorpus

_NON_ANSWERS = frozenset({"none", "no response", "[ no response.]"})


def _clean_isear(text: str) -> str:
    """A situation as one line: the file's line-wrap marks (``á``), backslashes, quotes
    and stray field separators become blanks (the text model was trained on this form)."""
    for mark in ("á", '"', "|"):
        text = text.replace(mark, " ")
    return clean_text(text.replace("\\", ""))


def load(split: str = "all", root: str | Path | None = None) -> pd.DataFrame:
    """ISEAR self-reported situations (pipe-separated; the text itself may hold pipes).

    Columns: id (MYKEY), text (line-wrap marks removed), label (Field1: joy, fear,
    anger, sadness, disgust, shame, guilt), basic (None for shame and guilt), split.
    """
    check_split("isear", split)
    path = corpus_folder(root, "isear") / "isear.csv"
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except UnicodeDecodeError as exc:
        raise DataError(path, f"not UTF-8 text (byte {exc.start})") from None
    header = lines[0].rstrip("\r").split("|")
    try:
        i_label, i_key, i_sit = header.index("Field1"), header.index("MYKEY"), header.index("SIT")
    except ValueError:
        raise DataError(path, "line 1: missing column Field1, MYKEY or SIT") from None
    tail = len(header) - i_sit - 1  # fields after SIT (STATE and a trailing empty one)
    records = []
    for line_no, line in enumerate(lines[1:], start=2):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        parts = line.split("|")
        if len(parts) < len(header):
            raise DataError(path, f"line {line_no}: {len(parts)} fields, expected {len(header)}")
        label, basic = native_label(path, line_no, "isear", parts[i_label])
        text = "|".join(parts[i_sit : len(parts) - tail])
        records.append(
            {
                "id": parts[i_key],
                "text": _clean_isear(text),
                "label": label,
                "basic": basic,
                "split": "all",
            }
        )
    return pd.DataFrame.from_records(records)


def text_corpus(root: Path | None = None) -> TextCorpus:
    """ISEAR situations for a text model: joy, fear, anger, sadness, disgust; shame and
    guilt (no basic label) and non-answers ("none", "no response") are dropped."""
    df = load("all", root=root)
    non_answer = df["text"].map(lambda t: not t or t.lower() in _NON_ANSWERS)
    # shame and guilt rows are counted as dropped whatever their text, as before
    return TextCorpus.from_rows("isear", "all", df[~non_answer | df["basic"].isna()])
