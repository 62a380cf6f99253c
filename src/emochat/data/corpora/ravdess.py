"""RAVDESS speech (Livingstone & Russo 2018): 24 actors, 8 emotions in the file names."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from emochat.core.errors import DataError
from emochat.data.corpora.common import audio_records, corpus_folder
from emochat.data.labels import RAVDESS_EMOTIONS, RAVDESS_TO_BASIC
from emochat.data.registry import check_split

RAVDESS_TEST_ACTORS = frozenset({21, 22, 23, 24})
_RAVDESS_NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")


def parse_ravdess_name(path: str | Path) -> dict[str, object]:
    """Fields of a RAVDESS file name ``MM-VC-EE-II-SS-RR-AA``; DataError when it is not one."""
    path = Path(path)
    m = _RAVDESS_NAME.match(path.stem)
    if not m or m.group(3) not in RAVDESS_EMOTIONS:
        raise DataError(path, "not a RAVDESS file name (MM-VC-EE-II-SS-RR-AA)")
    modality, channel, emotion, intensity, statement, repetition, actor = m.groups()
    label = RAVDESS_EMOTIONS[emotion]
    return {
        "id": path.stem,
        "actor": int(actor),
        "gender": "male" if int(actor) % 2 else "female",
        "label": label,
        "basic": RAVDESS_TO_BASIC[label],
        "intensity": "strong" if intensity == "02" else "normal",
        "statement": int(statement),
        "repetition": int(repetition),
        "vocal_channel": "speech" if channel == "01" else "song",
        "modality_code": modality,
    }


def _filed_ravdess_name(path: Path) -> dict[str, object]:
    """:func:`parse_ravdess_name`, and the clip filed under its own actor's folder."""
    rec = parse_ravdess_name(path)
    if path.parent.name != f"Actor_{rec['actor']:02d}":
        raise DataError(path, f"actor {rec['actor']} filed under {path.parent.name}")
    return rec


def load(split: str = "test", root: str | Path | None = None) -> pd.DataFrame:
    """RAVDESS speech clips: actors 1-20 ``train``, 21-24 ``test`` (held out), or ``all``.

    Columns: id, path, actor, gender, label (8 classes incl. calm), basic (calm ->
    neutral), intensity, statement, repetition, vocal_channel, modality_code, split.
    """
    check_split("ravdess", split)
    folder = corpus_folder(root, "ravdess-speech")
    records = audio_records(
        folder,
        "Actor_*/*",
        _filed_ravdess_name,
        lambda rec: rec["actor"] in RAVDESS_TEST_ACTORS,
        split,
        "RAVDESS",
    )
    cols = [
        "id",
        "path",
        "actor",
        "gender",
        "label",
        "basic",
        "intensity",
        "statement",
        "repetition",
        "vocal_channel",
        "modality_code",
        "split",
    ]
    return pd.DataFrame.from_records(records, columns=cols)
