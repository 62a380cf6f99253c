"""EmoryNLP (Zahiri & Choi 2018): Friends utterances with 7 feeling-wheel emotions."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from emochat.core.errors import DataError
from emochat.data.corpora.common import (
    clean_text,
    corpus_folder,
    native_label,
    previous_turns,
)
from emochat.data.csvio import read_rows
from emochat.data.registry import check_split
from emochat.data.text_corpus import TextCorpus


def load(split: str = "test", root: str | Path | None = None) -> pd.DataFrame:
    """EmoryNLP (Friends) utterances, 7 feeling-wheel labels.

    Columns: id (``s{season}_e{episode}_c{scene}_u{utterance}``), dialogue_id (the
    scene, ``s{season}_e{episode}_c{scene}``), utterance_id, text, context (the scene's
    earlier utterances), speaker, label, basic (None for peaceful and powerful), split.
    """
    check_split("emorynlp", split)
    path = corpus_folder(root, "emorynlp") / f"emorynlp_{split}_final.csv"
    need = ("Utterance", "Speaker", "Emotion", "Scene_ID", "Utterance_ID", "Season", "Episode")
    records = []
    for line, row in read_rows(path, need):
        label, basic = native_label(path, line, "emorynlp", row["Emotion"])
        speaker = row["Speaker"].strip().strip("[]").replace("'", "")
        scene = f"s{row['Season']}_e{row['Episode']}_c{row['Scene_ID']}"
        try:
            utt = int(row["Utterance_ID"])
        except ValueError:
            raise DataError(path, f"line {line}: Utterance_ID not an integer") from None
        records.append(
            {
                "id": f"{scene}_u{utt}",
                "dialogue_id": scene,
                "utterance_id": utt,
                "text": clean_text(row["Utterance"]),
                "speaker": speaker,
                "label": label,
                "basic": basic,
                "split": split,
            }
        )
    df = pd.DataFrame.from_records(records)
    df.insert(4, "context", previous_turns(df["text"], df["dialogue_id"], df["utterance_id"]))
    return df


def text_corpus(split: str, root: Path | None = None) -> TextCorpus:
    """EmoryNLP ``train`` / ``dev`` / ``test`` for a text model: Peaceful and Powerful have
    no basic label and are dropped, so an utterance's context is the previous *kept*
    utterance of its scene."""
    return TextCorpus.from_rows("emorynlp", split, load(split, root=root), dialogue=True)
