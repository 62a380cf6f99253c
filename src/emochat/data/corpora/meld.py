"""MELD (Poria et al. 2019): Friends utterances with 7 emotions, text and MELD.Raw clips."""

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

MELD_MEDIA_DIRS = {
    "train": "train_splits",
    "dev": "dev_splits_complete",
    "test": "output_repeated_splits_test",
}
"""Folders of the MELD.Raw release holding ``dia{D}_utt{U}.mp4`` per split."""


def load(
    split: str = "test", root: str | Path | None = None, media_root: str | Path | None = None
) -> pd.DataFrame:
    """MELD utterances (text; audio-visual when ``media_root`` holds MELD.Raw's clips).

    Columns: id (``dia{D}_utt{U}``), dialogue_id, utterance_id, speaker, text, context
    (the dialogue's earlier utterances), label (joy, anger, sadness, ...), basic (happy,
    angry, sad, ...), sentiment, start, end, split; with ``media_root``: path (the clip,
    in MELD.Raw's layout) and has_media.
    """
    check_split("meld", split)
    path = corpus_folder(root, "meld") / f"{split}_sent_emo.csv"
    need = ("Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID", "Utterance_ID")
    records = []
    for line, row in read_rows(path, need):
        label, basic = native_label(path, line, "meld", row["Emotion"])
        try:
            dia, utt = int(row["Dialogue_ID"]), int(row["Utterance_ID"])
        except ValueError:
            raise DataError(path, f"line {line}: Dialogue_ID/Utterance_ID not integers") from None
        records.append(
            {
                "id": f"dia{dia}_utt{utt}",
                "dialogue_id": dia,
                "utterance_id": utt,
                "speaker": row["Speaker"],
                "text": clean_text(row["Utterance"]),
                "label": label,
                "basic": basic,
                "sentiment": row["Sentiment"].strip().lower(),
                "start": row.get("StartTime", ""),
                "end": row.get("EndTime", ""),
                "split": split,
            }
        )
    df = pd.DataFrame.from_records(records)
    df.insert(5, "context", previous_turns(df["text"], df["dialogue_id"], df["utterance_id"]))
    if media_root is not None:
        folder = Path(media_root) / MELD_MEDIA_DIRS[split]
        df["path"] = [str(folder / f"{i}.mp4") for i in df["id"]]
        df["has_media"] = [Path(p).is_file() for p in df["path"]]
    return df


def text_corpus(split: str, root: Path | None = None) -> TextCorpus:
    """MELD ``train`` / ``dev`` / ``test`` utterances for a text model: every utterance
    (joy->happy, anger->angry, sadness->sad, others as is), with its dialogue turn."""
    return TextCorpus.from_rows("meld", split, load(split, root=root), dialogue=True)
