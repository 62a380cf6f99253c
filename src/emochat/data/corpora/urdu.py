"""URDU (Latif et al. 2018): unscripted Urdu TV talk-show speech, 4 emotions, 38 speakers.

Folder = emotion; file ``SGX_FXX_EYY`` (speaker S + gender + id). Speakers SF1, SF6, SF7,
SM3, SM6 and SM7 are the held-out ``test`` split (DESIGN.md); the rest are ``train``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from emochat.core.errors import DataError
from emochat.data.corpora.common import audio_records, corpus_folder
from emochat.data.labels import URDU_TO_BASIC
from emochat.data.registry import check_split

URDU_TEST_SPEAKERS = frozenset({"SF1", "SF6", "SF7", "SM3", "SM6", "SM7"})
_URDU_NAME = re.compile(r"^(S([MF])\d+)_F\d+_[A-Z]\d+$")


def parse_urdu_path(path: Path) -> dict[str, object]:
    """Fields of a URDU clip from its folder (emotion) and name; DataError when not one."""
    m = _URDU_NAME.match(path.stem)
    label = path.parent.name.lower()
    if not m or label not in URDU_TO_BASIC:
        raise DataError(path, "not a URDU file (EMOTION/SGX_FXX_EYY)")
    return {
        "id": path.stem,
        "speaker": m.group(1),
        "gender": "male" if m.group(2) == "M" else "female",
        "label": label,
        "basic": URDU_TO_BASIC[label],
    }


def load(split: str = "test", root: str | Path | None = None) -> pd.DataFrame:
    """URDU utterances: the six DESIGN.md speakers ``test`` (held out), the rest ``train``,
    or ``all``. Columns: id, path, speaker, gender, label (4 native), basic, split."""
    check_split("urdu", split)
    folder = corpus_folder(root, "urdu-speech")
    records = audio_records(
        folder,
        "*/*",
        parse_urdu_path,
        lambda rec: rec["speaker"] in URDU_TEST_SPEAKERS,
        split,
        "URDU",
    )
    cols = ["id", "path", "speaker", "gender", "label", "basic", "split"]
    return pd.DataFrame.from_records(records, columns=cols)
