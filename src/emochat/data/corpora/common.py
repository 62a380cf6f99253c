"""What every corpus reader shares: where a corpus lives, its labels, its text clean-up.

Texts are cleaned once, by the readers (:func:`clean_text`), so that training and
evaluation read the same strings; dialogue corpora get their context from
:func:`previous_turns`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from pathlib import Path

from emochat.core.errors import DataError
from emochat.core.settings import data_root
from emochat.data.labels import CORPUS_TO_BASIC


def corpus_folder(root: str | Path | None, sub: str) -> Path:
    """``root/sub`` (``root`` defaults to :func:`~emochat.core.settings.data_root`);
    DataError when it is not a folder."""
    base = Path(root) if root is not None else data_root()
    folder = base / sub
    if not folder.is_dir():
        raise DataError(folder, "corpus folder not found (set EMOCHAT_DATA_ROOT)")
    return folder


AUDIO_SUFFIXES = (".flac", ".wav")


def audio_records(
    folder: Path,
    pattern: str,
    parse: Callable[[Path], dict],
    is_test: Callable[[dict], bool],
    split: str,
    corpus: str,
) -> list[dict]:
    """A speech corpus's clips: every audio file under ``folder`` matching ``pattern``,
    ``parse``d to a record with its ``path`` and ``split`` (``test`` where ``is_test``, else
    ``train``); those of ``split`` (or ``all``). DataError naming the folder when none."""
    records = []
    for path in sorted(folder.glob(pattern)):
        if path.suffix.lower() not in AUDIO_SUFFIXES:
            continue
        rec = parse(path)
        rec["path"] = str(path)
        rec["split"] = "test" if is_test(rec) else "train"
        if split in ("all", rec["split"]):
            records.append(rec)
    if not records:
        raise DataError(folder, f"no {corpus} audio files found")
    return records


def native_label(path: Path, line: int, corpus: str, value: str) -> tuple[str, str | None]:
    """(native label, basic label or None) of a cell; DataError naming the line when the
    corpus has no such label."""
    label = value.strip().lower()
    table = CORPUS_TO_BASIC[corpus]
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
