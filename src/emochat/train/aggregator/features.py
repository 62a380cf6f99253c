"""Correlation Aggregator training features: the voice stage run once per labelled clip.

Each clip goes through :func:`emochat.voice.analyze_voice` exactly as the pipeline runs
it (VAD, ASR word times or the clip's transcript, eGeMAPS LLDs, the speech model's
encoder), and what the aggregator reads is kept: the words with times, the encoder
frame states of every utterance (float16), the prosody LLD frames, and the speech
model's own prediction (the baseline the aggregator is compared with). One ``.npz``
per clip under a cache folder, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emochat.models.aggregator.features import lld_frames

ALL_LAYERS = tuple(range(7))


@dataclass
class ClipFeatures:
    """What the aggregator sees of one clip (times in seconds from the clip start)."""

    words: list[tuple[str, float, float]]
    frame_t: np.ndarray  # (frames,)
    frames: np.ndarray  # (layers, frames, 512) float16
    lld_t: np.ndarray  # (n,)
    lld: np.ndarray  # (n, 5): pitch, loudness, jitter, shimmer, hnr (NaN unvoiced)
    speech_probs: np.ndarray  # (8,) the speech head's duration-weighted prediction, RAVDESS order

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp.npz")
        np.savez(
            tmp,
            words=json.dumps(self.words),
            frame_t=self.frame_t.astype(np.float32),
            frames=self.frames.astype(np.float16),
            lld_t=self.lld_t.astype(np.float32),
            lld=self.lld.astype(np.float32),
            speech_probs=self.speech_probs.astype(np.float32),
        )
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> ClipFeatures:
        with np.load(path, allow_pickle=False) as z:
            return cls(
                [tuple(w) for w in json.loads(str(z["words"]))],
                z["frame_t"],
                z["frames"],
                z["lld_t"],
                z["lld"],
                z["speech_probs"],
            )


def from_voice(voice) -> ClipFeatures:
    """Aggregator input from a :class:`~emochat.voice.VoiceAnalysis` kept with frame states."""
    from emochat.voice.speech_emotion import RAVDESS_LABELS

    words = [(w.text, float(w.start_s), float(w.end_s)) for u in voice.utterances for w in u.words]
    if voice.encoder_frames:
        frame_t = np.concatenate([f.t_s for f in voice.encoder_frames])
        frames = np.concatenate([f.states for f in voice.encoder_frames], axis=1)
    else:
        frame_t, frames = np.zeros(0), np.zeros((len(ALL_LAYERS), 0, 512), np.float16)
    lld_t, lld_x = lld_frames(voice.lld)
    probs = np.zeros(len(RAVDESS_LABELS))
    for u, e in zip(voice.utterances, voice.emotion, strict=False):
        # the speech head speaks the basic seven since #23: calm, which it never says, is 0
        probs += (u.end_s - u.start_s) * np.array([e.probs.get(k, 0.0) for k in RAVDESS_LABELS])
    if probs.sum() > 0:
        probs /= probs.sum()
    return ClipFeatures(words, frame_t, frames, lld_t, lld_x, probs)


def clip_features(
    media: str | Path, transcript: str | Path | None = None, language: str | None = None
) -> ClipFeatures:
    """Run the voice stage on one media file and keep the aggregator's inputs."""
    from emochat.ingest import load_audio
    from emochat.voice import analyze_voice

    audio = load_audio(media)
    voice = analyze_voice(
        audio,
        language=language,
        transcript=transcript,
        keep_frames=lambda f: f.select(ALL_LAYERS),
    )
    return from_voice(voice)


def cache_key(path: str | Path, transcript: str | Path | None) -> str:
    """File name of a clip's cache entry: its stem plus a hash of its path and transcript."""
    h = hashlib.sha1(f"{Path(path).resolve()}|{transcript or ''}".encode()).hexdigest()[:10]
    return f"{Path(path).stem}-{h}.npz"


def build_cache(
    clips: list[tuple[str, str | None]],
    cache: Path,
    language: str | None = None,
    log: Callable[[str], None] = print,
) -> list[Path]:
    """Feature file of each (media, transcript) under ``cache``; existing ones are reused."""
    cache.mkdir(parents=True, exist_ok=True)
    out, t0, done = [], time.time(), 0
    for i, (media, transcript) in enumerate(clips):
        target = cache / cache_key(media, transcript)
        if not target.exists():
            clip_features(media, transcript, language).save(target)
            done += 1
            if done % 50 == 0:
                log(f"features {i + 1}/{len(clips)}: {time.time() - t0:.0f} s")
        out.append(target)
    return out
