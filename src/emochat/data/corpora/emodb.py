"""EmoDB, the Berlin Database of Emotional Speech (Burkhardt et al. 2005): 10 German actors.

File names ``SSTTTEV``: speaker, text, emotion letter, version. Speakers 15 and 16 are the
held-out ``test`` split (DESIGN.md); the other eight are ``train``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from emochat.core.errors import DataError
from emochat.data.corpora.common import audio_records, corpus_folder
from emochat.data.labels import EMODB_EMOTIONS, EMODB_TO_BASIC
from emochat.data.registry import check_split

EMODB_TEST_SPEAKERS = frozenset({15, 16})
EMODB_FEMALE_SPEAKERS = frozenset({8, 9, 13, 14, 16})
_EMODB_NAME = re.compile(r"^(\d\d)([a-z]\d\d)([A-Z])([a-z])$")


def parse_emodb_name(path: str | Path) -> dict[str, object]:
    """Fields of an EmoDB file name ``SSTTTEV``; DataError when it is not one."""
    path = Path(path)
    m = _EMODB_NAME.match(path.stem)
    if not m or m.group(3) not in EMODB_EMOTIONS:
        raise DataError(path, "not an EmoDB file name (speaker, text, emotion letter, version)")
    speaker, text, letter, version = m.groups()
    label = EMODB_EMOTIONS[letter]
    return {
        "id": path.stem,
        "speaker": int(speaker),
        "gender": "female" if int(speaker) in EMODB_FEMALE_SPEAKERS else "male",
        "label": label,
        "basic": EMODB_TO_BASIC[label],
        "text": text,
        "version": version,
    }


def load(split: str = "test", root: str | Path | None = None) -> pd.DataFrame:
    """EmoDB utterances: speakers 15 and 16 ``test`` (held out), the rest ``train``, or ``all``.

    Columns: id, path, speaker, gender, label (7 native), basic (boredom -> None), text,
    version, split.
    """
    check_split("emodb", split)
    folder = corpus_folder(root, "emodb")
    records = audio_records(
        folder,
        "*",
        parse_emodb_name,
        lambda rec: rec["speaker"] in EMODB_TEST_SPEAKERS,
        split,
        "EmoDB",
    )
    cols = ["id", "path", "speaker", "gender", "label", "basic", "text", "version", "split"]
    return pd.DataFrame.from_records(records, columns=cols)
