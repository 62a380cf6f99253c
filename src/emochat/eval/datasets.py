"""Dataset adapters: every corpus as a tidy DataFrame with a fixed, named split.

Each loader returns one row per sample with at least ``id``, ``split``, ``label``
(the corpus's own label, lower-cased) and ``basic`` (that label in
:data:`~emochat.eval.labels.BASIC_LABELS`, or None when it has no counterpart), plus
the model input: ``text``, ``path`` (audio/video file) or ``image``. Dialogue corpora
also carry ``context``: the earlier utterances of the same dialogue, oldest first, which
a text model may condition on. Texts are cleaned once here (:func:`clean_text`), so
training (:mod:`emochat.text.corpora`) and evaluation read the same strings. Splits are the
fixed ones of DESIGN.md; the held-out one of each corpus is :data:`HELD_OUT`, never to
be trained on nor used for model selection. Corpora are read from
:func:`emochat.core.settings.data_root` unless ``root`` is given; a missing or malformed
file raises :class:`~emochat.core.errors.DataError` naming the file (and line).
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Hashable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from emochat.core.errors import DataError
from emochat.core.settings import data_root
from emochat.eval import labels as L
from emochat.eval._csvio import read_rows
from emochat.eval.ovmer import read_openset_csv
from emochat.eval.specs import DATASETS, HELD_OUT

__all__ = [
    "HELD_OUT",
    "clean_text",
    "emorynlp",
    "fer2013",
    "goemotions",
    "isear",
    "manifest",
    "meld",
    "ovmer_labels",
    "parse_ravdess_name",
    "previous_turns",
    "ravdess_speech",
    "smp2020",
]


def _root(root: str | Path | None, sub: str) -> Path:
    base = Path(root) if root is not None else data_root()
    folder = base / sub
    if not folder.is_dir():
        raise DataError(folder, "corpus folder not found (set EMOCHAT_DATA_ROOT)")
    return folder


def _check_split(corpus: str, split: str) -> str:
    allowed = DATASETS[corpus].splits
    if split not in allowed:
        raise DataError(None, f"{corpus} has no split {split!r}; choose from {', '.join(allowed)}")
    return split


def _native(path: Path, line: int, corpus: str, value: str) -> tuple[str, str | None]:
    label = value.strip().lower()
    table = L.CORPUS_TO_BASIC[corpus]
    if label not in table:
        raise DataError(path, f"line {line}: unknown {corpus} label {value!r}")
    return label, table[label]


def clean_text(text: str) -> str:
    """One line of text: cp1252 apostrophes (0x92) read as ``'``, runs of blanks as one space.

    The shipped text model was trained on text cleaned exactly so; evaluating on the
    raw strings would score it on inputs it never saw in this form.
    """
    return " ".join(str(text).replace("\x92", "'").split())


def previous_turns(
    texts: Sequence[str], dialogues: Sequence[Hashable | None], turns: Sequence[int]
) -> list[list[str]]:
    """For each row, the earlier utterances of its dialogue, oldest first.

    Rows of one dialogue are ordered by turn number, then by position in the file;
    a row whose dialogue is None has no context. A model keeps as many of the last
    turns as it was trained with.
    """
    texts = list(texts)
    by_dialogue: dict[Hashable, list[tuple[int, int]]] = {}
    for i, (dialogue, turn) in enumerate(zip(dialogues, turns, strict=True)):
        if dialogue is not None:
            by_dialogue.setdefault(dialogue, []).append((int(turn), i))
    context: list[list[str]] = [[] for _ in texts]
    for rows in by_dialogue.values():
        rows.sort()
        earlier: list[str] = []
        for _, i in rows:
            context[i] = list(earlier)
            earlier.append(texts[i])
    return context


# --- RAVDESS ----------------------------------------------------------------------------

RAVDESS_TEST_ACTORS = frozenset({21, 22, 23, 24})
_RAVDESS_NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")


def parse_ravdess_name(path: str | Path) -> dict[str, object]:
    """Fields of a RAVDESS file name ``MM-VC-EE-II-SS-RR-AA``; DataError when it is not one."""
    path = Path(path)
    m = _RAVDESS_NAME.match(path.stem)
    if not m or m.group(3) not in L.RAVDESS_EMOTIONS:
        raise DataError(path, "not a RAVDESS file name (MM-VC-EE-II-SS-RR-AA)")
    modality, channel, emotion, intensity, statement, repetition, actor = m.groups()
    label = L.RAVDESS_EMOTIONS[emotion]
    return {
        "id": path.stem,
        "actor": int(actor),
        "gender": "male" if int(actor) % 2 else "female",
        "label": label,
        "basic": L.RAVDESS_TO_BASIC[label],
        "intensity": "strong" if intensity == "02" else "normal",
        "statement": int(statement),
        "repetition": int(repetition),
        "vocal_channel": "speech" if channel == "01" else "song",
        "modality_code": modality,
    }


def ravdess_speech(split: str = "test", root: str | Path | None = None) -> pd.DataFrame:
    """RAVDESS speech clips: actors 1-20 ``train``, 21-24 ``test`` (held out), or ``all``.

    Columns: id, path, actor, gender, label (8 classes incl. calm), basic (calm ->
    neutral), intensity, statement, repetition, vocal_channel, modality_code, split.
    """
    _check_split("ravdess", split)
    folder = _root(root, "ravdess-speech")
    records = []
    for path in sorted(folder.glob("Actor_*/*")):
        if path.suffix.lower() not in (".flac", ".wav"):
            continue
        rec = parse_ravdess_name(path)
        if path.parent.name != f"Actor_{rec['actor']:02d}":
            raise DataError(path, f"actor {rec['actor']} filed under {path.parent.name}")
        rec["path"] = str(path)
        rec["split"] = "test" if rec["actor"] in RAVDESS_TEST_ACTORS else "train"
        if split in ("all", rec["split"]):
            records.append(rec)
    if not records:
        raise DataError(folder, "no RAVDESS audio files found")
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


# --- FER2013 ----------------------------------------------------------------------------

_FER_SPLIT_CODES = {"train": 0, "val": 1, "test": 2}
_FER_SPLIT_ALIASES = {
    "publictest": "val",
    "privatetest": "test",
    "training": "train",
    "0": "train",
    "1": "val",
    "2": "test",
}


def fer2013(
    split: str = "test", root: str | Path | None = None, images: bool = False
) -> pd.DataFrame:
    """FER2013: split ``train`` (code 0), ``val`` = PublicTest (1), ``test`` = PrivateTest (2).

    Columns: id (row in the npz), label_id (FER order), label, basic, split, and with
    ``images=True`` an ``image`` column of 48x48 uint8 arrays.
    """
    split = _FER_SPLIT_ALIASES.get(str(split).lower(), str(split).lower())
    _check_split("fer2013", split)
    path = _root(root, "fer2013") / "fer2013.npz"
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
    if y.size and (y.min() < 0 or y.max() >= len(L.FER2013_CLASSES)):
        raise DataError(path, f"label ids outside 0..{len(L.FER2013_CLASSES) - 1}")
    names = {v: k for k, v in _FER_SPLIT_CODES.items()}
    keep = np.arange(y.size) if split == "all" else np.flatnonzero(s == _FER_SPLIT_CODES[split])
    df = pd.DataFrame(
        {
            "id": keep,
            "label_id": y[keep],
            "label": [L.FER2013_CLASSES[i] for i in y[keep]],
            "split": [names.get(int(c), str(c)) for c in s[keep]],
        }
    )
    df["basic"] = df["label"].map(L.FER2013_TO_BASIC)
    if x is not None:
        df["image"] = list(x[keep])
    return df[["id", "label_id", "label", "basic", "split", *(["image"] if images else [])]]


# --- MELD -------------------------------------------------------------------------------

MELD_MEDIA_DIRS = {
    "train": "train_splits",
    "dev": "dev_splits_complete",
    "test": "output_repeated_splits_test",
}
"""Folders of the MELD.Raw release holding ``dia{D}_utt{U}.mp4`` per split."""


def meld(
    split: str = "test", root: str | Path | None = None, media_root: str | Path | None = None
) -> pd.DataFrame:
    """MELD utterances (text; audio-visual when ``media_root`` holds MELD.Raw's clips).

    Columns: id (``dia{D}_utt{U}``), dialogue_id, utterance_id, speaker, text, context
    (the dialogue's earlier utterances), label (joy, anger, sadness, ...), basic (happy,
    angry, sad, ...), sentiment, start, end, split; with ``media_root``: path (the clip,
    in MELD.Raw's layout) and has_media.
    """
    _check_split("meld", split)
    path = _root(root, "meld") / f"{split}_sent_emo.csv"
    need = ("Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID", "Utterance_ID")
    records = []
    for line, row in read_rows(path, need):
        label, basic = _native(path, line, "meld", row["Emotion"])
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


# --- EmoryNLP ---------------------------------------------------------------------------


def emorynlp(split: str = "test", root: str | Path | None = None) -> pd.DataFrame:
    """EmoryNLP (Friends) utterances, 7 feeling-wheel labels.

    Columns: id (``s{season}_e{episode}_c{scene}_u{utterance}``), dialogue_id (the
    scene, ``s{season}_e{episode}_c{scene}``), utterance_id, text, context (the scene's
    earlier utterances), speaker, label, basic (None for peaceful and powerful), split.
    """
    _check_split("emorynlp", split)
    path = _root(root, "emorynlp") / f"emorynlp_{split}_final.csv"
    need = ("Utterance", "Speaker", "Emotion", "Scene_ID", "Utterance_ID", "Season", "Episode")
    records = []
    for line, row in read_rows(path, need):
        label, basic = _native(path, line, "emorynlp", row["Emotion"])
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


# --- GoEmotions -------------------------------------------------------------------------


def _read_label_names(path: Path) -> list[str]:
    try:
        names = [n.strip() for n in path.read_text(encoding="utf-8").splitlines() if n.strip()]
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    if not names:
        raise DataError(path, "no label names")
    return names


def goemotions(
    split: str = "test", root: str | Path | None = None, taxonomy: str = "ekman"
) -> pd.DataFrame:
    """GoEmotions Reddit comments, multi-label.

    ``taxonomy="ekman"`` reads goemotions/ekman (the 28 labels grouped into Ekman's
    six + neutral by :data:`~emochat.eval.labels.GOEMOTIONS_TO_EKMAN`); ``"full"``
    the 28 original labels. Columns: id, text, labels (list), label (the label when
    there is exactly one, else None), basic (``label`` through the Ekman grouping
    into the basic space), split. Single-label scores use the rows where ``label`` is set.
    """
    _check_split("goemotions", split)
    if taxonomy not in ("ekman", "full"):
        raise DataError(None, f"goemotions taxonomy must be 'ekman' or 'full', not {taxonomy!r}")
    folder = _root(root, "goemotions")
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
        ekman = single if taxonomy == "ekman" else L.GOEMOTIONS_TO_EKMAN.get(single or "")
        basic = L.GOEMOTIONS_EKMAN_TO_BASIC.get(ekman) if ekman else None
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


# --- SMP2020-EWECT ----------------------------------------------------------------------


def smp2020(split: str = "dev", root: str | Path | None = None) -> pd.DataFrame:
    """SMP2020-EWECT Chinese Weibo posts; ``dev`` is the held-out evaluation split.

    Columns: id (``{split}-{row}``), text, label (as spelled: ``neural`` = neutral),
    basic, type (usual / virus), split.
    """
    _check_split("smp2020", split)
    path = _root(root, "smp2020-ewect") / f"{split}.csv"
    records = []
    for n, (line, row) in enumerate(read_rows(path, ("content", "labels", "type"))):
        label, basic = _native(path, line, "smp2020", row["labels"])
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


# --- ISEAR ------------------------------------------------------------------------------


def _clean_isear(text: str) -> str:
    """A situation as one line: the file's line-wrap marks (``á``), backslashes, quotes
    and stray field separators become blanks (the text model was trained on this form)."""
    for mark in ("á", '"', "|"):
        text = text.replace(mark, " ")
    return clean_text(text.replace("\\", ""))


def isear(split: str = "all", root: str | Path | None = None) -> pd.DataFrame:
    """ISEAR self-reported situations (pipe-separated; the text itself may hold pipes).

    Columns: id (MYKEY), text (line-wrap marks removed), label (Field1: joy, fear,
    anger, sadness, disgust, shame, guilt), basic (None for shame and guilt), split.
    """
    _check_split("isear", split)
    path = _root(root, "isear") / "isear.csv"
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
        label, basic = _native(path, line_no, "isear", parts[i_label])
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


# --- OV-MER label files -----------------------------------------------------------------


def ovmer_labels(which: str | Path = "gold", root: str | Path | None = None) -> pd.DataFrame:
    """An OV-MER ``name,openset`` file as rows (name, words).

    ``which``: "gold" (check-openset.csv), "pred" (predict-openset.csv) or a path.
    """
    if which in ("gold", "pred"):
        fname = "check-openset.csv" if which == "gold" else "predict-openset.csv"
        path = _root(root, "ov-mer") / fname
    else:
        path = Path(which)
    table = read_openset_csv(path)
    return pd.DataFrame({"name": list(table), "words": list(table.values())})


# --- generic manifest -------------------------------------------------------------------


_MANIFEST_OWN = ("id", "basic")
"""Columns :func:`manifest` fills itself: a manifest may not bring its own."""


def _check_manifest_header(path: Path) -> None:
    """Duplicate or reserved column names would silently overwrite each other's values."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        header = [h.strip() for h in next(csv.reader(fh))]
    for name in header:
        if name and header.count(name) > 1:
            raise DataError(path, f"line 1: column {_shown(name)} appears twice")
        if name in _MANIFEST_OWN:
            raise DataError(path, f"line 1: column {name!r} is filled by emochat; rename it")


def _is_file(p: Path) -> bool:
    """Path.is_file that says False (not OSError) for names the OS refuses (too long, ...)."""
    try:
        return p.is_file()
    except (OSError, ValueError):
        return False


def _shown(name: str) -> str:
    """A name as typed, or quoted when it holds characters that would break the line."""
    return name if name.isprintable() else repr(name)


def manifest(path: str | Path, check_files: bool = True) -> pd.DataFrame:
    """A clip list CSV: ``path,label`` plus optional ``transcript`` and ``valence``.

    ``path`` and ``transcript`` (a transcript file) are resolved against the
    manifest's folder. Columns: id (row number), path, label, basic (missing when
    the label is not a basic label or alias), transcript (missing when none), valence
    (float or NaN), and any other columns as given. With ``check_files`` a missing
    media or transcript file raises DataError naming the manifest line.
    """
    path = Path(path)
    base = path.parent
    records = []
    rows = read_rows(path, ("path", "label"))
    _check_manifest_header(path)
    for n, (line, row) in enumerate(rows):
        clip = row["path"].strip()
        if not clip:
            raise DataError(path, f"line {line}: empty path")
        clip_path = (base / clip) if not Path(clip).is_absolute() else Path(clip)
        if check_files and not _is_file(clip_path):
            raise DataError(path, f"line {line}: no such file {_shown(clip)}")
        label = row["label"].strip().lower()
        if not label:
            raise DataError(path, f"line {line}: empty label")
        transcript = (row.get("transcript") or "").strip()
        transcript_path = None
        if transcript:
            transcript_path = (
                base / transcript if not Path(transcript).is_absolute() else Path(transcript)
            )
            if check_files and not _is_file(transcript_path):
                raise DataError(path, f"line {line}: no such transcript file {_shown(transcript)}")
        valence_cell = (row.get("valence") or "").strip()
        try:
            valence = float(valence_cell) if valence_cell else float("nan")
        except ValueError:
            raise DataError(
                path, f"line {line}: valence {valence_cell[:40]!r} is not a number"
            ) from None
        if math.isinf(valence):
            raise DataError(path, f"line {line}: valence {valence_cell[:40]!r} is not finite")
        extra = {
            k: v for k, v in row.items() if k not in ("path", "label", "transcript", "valence")
        }
        records.append(
            {
                "id": n,
                "path": str(clip_path),
                "label": label,
                "basic": L.to_basic(label),
                "transcript": None if transcript_path is None else str(transcript_path),
                "valence": valence,
                **extra,
            }
        )
    if not records:
        raise DataError(path, "no clips listed")
    return pd.DataFrame.from_records(records)
