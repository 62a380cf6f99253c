"""Instruction samples: cue vectors of the modalities a sample has + a gold-label target.

Sources (each read through :mod:`emochat.data.corpora`, so splits are the fixed ones):

* ``ravdess``: voice (the clip) + text (its fixed sentence, which carries no emotion).
* ``fer2013``: face (AUs when the face stage finds landmarks on the crop, CNN probs).
* ``meld``, ``goemotions`` (single-label rows, full 28-label taxonomy kept as words),
  ``smp2020``: text.
* a user's manifest CSV (:func:`emochat.data.manifest.read_manifest`): face and voice from the
  clip, text from its transcript file.

Training builds refuse the held-out splits (:data:`~emochat.data.registry.HELD_OUT`);
evaluation builds take only them. Built samples are cached as one ``.npz`` per source,
split and size under the cache folder (gitignored ``.cache/mllm`` by default).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from emochat.core.errors import DataError
from emochat.core.files import atomic_path
from emochat.data.corpora import fer2013, goemotions, meld, ravdess, smp2020
from emochat.data.labels import GOEMOTIONS_EKMAN_TO_BASIC, GOEMOTIONS_TO_EKMAN
from emochat.data.manifest import read_manifest
from emochat.data.registry import HELD_OUT
from emochat.models.emochat_llm.cues import MODALITIES, Cues, ModalityCue
from emochat.train.emochat_llm.features import CueExtractor

CORPORA = ("ravdess", "fer2013", "meld", "goemotions", "smp2020")
TRAIN_SPLIT = {c: "train" for c in CORPORA}
RAVDESS_STATEMENTS = {1: "Kids are talking by the door.", 2: "Dogs are sitting by the door."}


@dataclass
class InstructionSample:
    """One training or evaluation example; ``native`` are the corpus's own gold labels."""

    id: str
    source: str
    split: str
    basic: str
    native: list[str]
    cues: Cues


def check_split(corpus: str, split: str, purpose: str) -> None:
    """Training never touches a held-out split; evaluation uses nothing else."""
    held = HELD_OUT.get(corpus)
    if purpose == "train" and split == held:
        raise DataError(None, f"{corpus} split {split!r} is held out: never trained on")
    if purpose == "eval" and split != held:
        raise DataError(None, f"{corpus} evaluation uses the held-out split {held!r} only")


def _sample_rows(df: pd.DataFrame, limit: int | None, seed: int, stratify: str = "basic"):
    """Up to ``limit`` rows, balanced over ``stratify`` as far as the classes allow."""
    df = df[df[stratify].notna()].reset_index(drop=True)
    if limit is None or len(df) <= limit:
        return df
    rng = np.random.default_rng(seed)
    groups = {k: rng.permutation(g.index.to_numpy()) for k, g in df.groupby(stratify)}
    picked: list[int] = []
    while len(picked) < limit:
        for k in sorted(groups):
            if groups[k].size and len(picked) < limit:
                picked.append(int(groups[k][0]))
                groups[k] = groups[k][1:]
    return df.loc[sorted(picked)].reset_index(drop=True)


def _cues(**by_modality: ModalityCue | None) -> Cues:
    return Cues({m: c for m, c in by_modality.items() if c is not None})


def _ravdess(df, ex: CueExtractor) -> Iterator[InstructionSample]:
    from emochat.ingest.audio import load_audio

    sentences = ex.text([RAVDESS_STATEMENTS[int(s)] for s in df["statement"]])
    for row, text in zip(df.itertuples(), sentences, strict=True):
        voice = ex.voice(load_audio(row.path))
        yield InstructionSample(
            row.id,
            "ravdess",
            row.split,
            row.basic,
            [row.label],
            _cues(voice=voice, text=text),
        )


def _fer(df, ex: CueExtractor) -> Iterator[InstructionSample]:
    for row in df.itertuples():
        yield InstructionSample(
            f"fer2013-{row.id}",
            "fer2013",
            row.split,
            row.basic,
            [row.label],
            _cues(face=ex.face_crop(row.image)),
        )


def _text_corpus(name: str) -> Callable:
    def build(df, ex: CueExtractor) -> Iterator[InstructionSample]:
        cues = ex.text(list(df["text"]))
        natives = df["labels"] if "labels" in df else [[lab] for lab in df["label"]]
        for row, text, native in zip(df.itertuples(), cues, natives, strict=True):
            if text is not None:
                yield InstructionSample(
                    str(row.id), name, row.split, row.basic, list(native), _cues(text=text)
                )

    return build


def _load(corpus: str, split: str, root) -> pd.DataFrame:
    if corpus == "ravdess":
        return ravdess.load(split, root=root)
    if corpus == "fer2013":
        return fer2013.load(split, root=root, images=True)
    if corpus == "meld":
        return meld.load(split, root=root)
    if corpus == "smp2020":
        return smp2020.load(split, root=root)
    if corpus == "goemotions":
        df = goemotions.load(split, root=root, taxonomy="full")
        ekman = [GOEMOTIONS_TO_EKMAN.get(lab or "") for lab in df["label"]]
        df["basic"] = [GOEMOTIONS_EKMAN_TO_BASIC.get(e) if e else None for e in ekman]
        return df
    raise DataError(None, f"unknown corpus {corpus!r}; known: {', '.join(CORPORA)}")


_BUILDERS: dict[str, Callable] = {
    "ravdess": _ravdess,
    "fer2013": _fer,
    "meld": _text_corpus("meld"),
    "goemotions": _text_corpus("goemotions"),
    "smp2020": _text_corpus("smp2020"),
}


def build_corpus(
    corpus: str,
    split: str,
    purpose: str,
    limit: int | None = None,
    seed: int = 0,
    root=None,
    extractor: CueExtractor | None = None,
) -> list[InstructionSample]:
    """Samples of one corpus split (at most ``limit``, class-balanced), cues extracted."""
    check_split(corpus, split, purpose)
    df = _sample_rows(_load(corpus, split, root), limit, seed)
    return list(_BUILDERS[corpus](df, extractor or CueExtractor()))


def build_manifest(
    path: str | Path, fps: float = 5.0, extractor: CueExtractor | None = None
) -> list[InstructionSample]:
    """A user's clips (``path,label[,transcript]``): face, voice and transcript cues."""
    from emochat.ingest import iter_frames
    from emochat.ingest.audio import load_audio
    from emochat.voice.transcript import read_transcript

    ex = extractor or CueExtractor()
    df = read_manifest(path)
    texts = [read_transcript(t).text if t else "" for t in df["transcript"]]
    text_cues = ex.text(texts)
    out = []
    for row, text in zip(df.itertuples(), text_cues, strict=True):
        if row.basic is None:
            raise DataError(path, f"clip {row.path}: label {row.label!r} is not a basic emotion")
        face = ex.face_frames(iter_frames(row.path, fps=fps, max_side=640))
        voice = ex.voice(load_audio(row.path))
        cues = _cues(face=face, voice=voice, text=text)
        if not cues.present:
            raise DataError(row.path, "no face, speech or transcript: nothing to learn from")
        out.append(
            InstructionSample(str(row.id), "manifest", "train", row.basic, [row.label], cues)
        )
    return out


# --- cache ------------------------------------------------------------------------------


def save_samples(path: str | Path, samples: Sequence[InstructionSample]) -> Path:
    """One npz: a vector array per modality (rows of the samples having it) + JSON meta."""
    meta, vectors = [], {m: [] for m in MODALITIES}
    for s in samples:
        entry = {
            "id": s.id,
            "source": s.source,
            "split": s.split,
            "basic": s.basic,
            "native": s.native,
            "cues": {},
        }
        for m, cue in s.cues.by_modality.items():
            entry["cues"][m] = {"row": len(vectors[m]), "probs": cue.probs, "au": cue.au}
            if cue.words is not None:
                entry["cues"][m]["words"] = cue.words
            vectors[m].append(np.asarray(cue.vector, dtype=np.float32))
        meta.append(entry)
    arrays = {m: np.stack(v) for m, v in vectors.items() if v}
    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, meta=json.dumps(meta, ensure_ascii=False), **arrays)
    return path


def load_samples(path: str | Path) -> list[InstructionSample]:
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            arrays = {m: z[m] for m in MODALITIES if m in z.files}
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(path, f"not a sample cache: {exc}") from None
    out = []
    for e in meta:
        by = {
            m: ModalityCue(
                vector=arrays[m][c["row"]], probs=c["probs"], au=c["au"], words=c.get("words")
            )
            for m, c in e["cues"].items()
        }
        out.append(
            InstructionSample(e["id"], e["source"], e["split"], e["basic"], e["native"], Cues(by))
        )
    return out


def cached_corpus(
    cache: str | Path,
    corpus: str,
    split: str,
    purpose: str,
    limit: int | None = None,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> list[InstructionSample]:
    """:func:`build_corpus` through the cache (built once, then read)."""
    check_split(corpus, split, purpose)
    path = Path(cache) / f"{corpus}-{split}-{limit or 'all'}-s{seed}.npz"
    if path.is_file():
        return load_samples(path)
    t0 = time.perf_counter()
    samples = build_corpus(corpus, split, purpose, limit=limit, seed=seed)
    save_samples(path, samples)
    log(f"built {len(samples)} {corpus} {split} samples in {time.perf_counter() - t0:.0f} s")
    return samples
