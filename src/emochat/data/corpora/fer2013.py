"""FER2013 48x48 face crops (Goodfellow et al. 2013), as one npz of images, labels and splits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from emochat.core.errors import DataError
from emochat.data.corpora.common import corpus_folder
from emochat.data.labels import FER2013_CLASSES, FER2013_TO_BASIC
from emochat.data.registry import check_split

_FER_SPLIT_CODES = {"train": 0, "val": 1, "test": 2}
_FER_SPLIT_ALIASES = {
    "publictest": "val",
    "privatetest": "test",
    "training": "train",
    "0": "train",
    "1": "val",
    "2": "test",
}


def load(split: str = "test", root: str | Path | None = None, images: bool = False) -> pd.DataFrame:
    """FER2013: split ``train`` (code 0), ``val`` = PublicTest (1), ``test`` = PrivateTest (2).

    Columns: id (row in the npz), label_id (FER order), label, basic, split, and with
    ``images=True`` an ``image`` column of 48x48 uint8 arrays.
    """
    split = _FER_SPLIT_ALIASES.get(str(split).lower(), str(split).lower())
    check_split("fer2013", split)
    path = corpus_folder(root, "fer2013") / "fer2013.npz"
    try:
        with np.load(path, allow_pickle=False) as z:
            y = np.asarray(z["labels"]).astype(int)
            s = np.asarray(z["split"]).astype(int)
            x = np.asarray(z["images"]) if images else None
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except KeyError as exc:
        raise DataError(path, f"missing array {exc}") from None
    except (ValueError, OSError) as exc:
        raise DataError(path, f"not a readable npz: {exc}") from None
    if y.shape != s.shape or (x is not None and x.shape[0] != y.shape[0]):
        raise DataError(path, "labels, split and images differ in length")
    if y.size and (y.min() < 0 or y.max() >= len(FER2013_CLASSES)):
        raise DataError(path, f"label ids outside 0..{len(FER2013_CLASSES) - 1}")
    names = {v: k for k, v in _FER_SPLIT_CODES.items()}
    keep = np.arange(y.size) if split == "all" else np.flatnonzero(s == _FER_SPLIT_CODES[split])
    df = pd.DataFrame(
        {
            "id": keep,
            "label_id": y[keep],
            "label": [FER2013_CLASSES[i] for i in y[keep]],
            "split": [names.get(int(c), str(c)) for c in s[keep]],
        }
    )
    df["basic"] = df["label"].map(FER2013_TO_BASIC)
    if x is not None:
        df["image"] = list(x[keep])
    return df[["id", "label_id", "label", "basic", "split", *(["image"] if images else [])]]
