"""URDU (Latif et al. 2018): unscripted Urdu TV talk-show speech, 4 emotions, 38 speakers.

Folder = emotion; file ``SGX_FXX_EYY`` (speaker S + gender + id). Speakers SF1, SF6, SF7,
SM3, SM6 and SM7 are the held-out ``test`` split (DESIGN.md); the rest are ``train``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from emochat.core.errors import DataError
from emochat.data.corpora.common import corpus_folder
from emochat.data.labels import URDU_TO_BASIC
from emochat.data.registry import check_split

URDU_TEST_SPEAKERS = frozenset({"SF1", "SF6", "SF7", "SM3", "SM6", "SM7"})
_URDU_NAME = re.compile(r"^(S([MF])\d+)_F\d+_[A-Z]\d+$")


def load(split: str = "test", root: str | Path | None = None) -> pd.DataFrame:
    """URDU utterances: the six DESIGN.md speakers ``test`` (held out), the rest ``train``,
    or ``all``. Columns: id, path, speaker, gender, label (4 native), basic, split."""
    check_split("urdu", split)
    folder = corpus_folder(root, "urdu-speech")
    records = []
    for path in sorted(folder.glob("*/*")):
        if path.suffix.lower() not in (".flac", ".wav"):
            continue
        m = _URDU_NAME.match(path.stem)
        label = path.parent.name.lower()
        if not m or label not in URDU_TO_BASIC:
            raise DataError(path, "not a URDU file (EMOTION/SGX_FXX_EYY)")
        speaker = m.group(1)
        records.append(
            {
                "id": path.stem,
                "path": str(path),
                "speaker": speaker,
                "gender": "male" if m.group(2) == "M" else "female",
                "label": label,
                "basic": URDU_TO_BASIC[label],
                "split": "test" if speaker in URDU_TEST_SPEAKERS else "train",
            }
        )
    records = [r for r in records if split in ("all", r["split"])]
    if not records:
        raise DataError(folder, "no URDU audio files found")
    return pd.DataFrame.from_records(records)
