"""ASR with word timestamps and language detection (faster-whisper, CTranslate2, int8 CPU).

Only speech is transcribed: samples outside the VAD spans (plus a margin) are zeroed
before decoding, which keeps every timestamp in media time while starving whisper's
well-known hallucinations on silence and noise, and words whose middle falls outside
speech are dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cache

import numpy as np

from emochat.core.settings import cpu_threads
from emochat.ingest.audio import AudioTrack

SAMPLE_RATE = 16_000
MARGIN_S = 0.3
# whisper's temperature fallback re-decodes a window when its text compresses too well
# (repetition loops) or scores too low; three tries instead of six bounds the cost on
# speech that legitimately repeats itself.
TEMPERATURES = (0.0, 0.4, 0.8)


@dataclass
class Word:
    """One recognised (or transcript) word, times in seconds from media start."""

    start_s: float
    end_s: float
    text: str
    probability: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class AsrResult:
    words: list[Word]
    language: str | None
    language_probability: float
    segments: list[dict]  # whisper segments: start_s, end_s, text, avg_logprob, no_speech_prob


@cache
def whisper_model(name: str = "base"):
    """A cached faster-whisper model ('base', 'tiny.en' or a CTranslate2 model directory)."""
    from faster_whisper import WhisperModel

    from emochat.voice.whisper_files import whisper_model_dir

    model = WhisperModel(
        str(whisper_model_dir(name)),
        device="cpu",
        compute_type="int8",
        cpu_threads=cpu_threads(),
        local_files_only=True,
    )
    model.encode = _LastEncoding(model.encode)
    return model


class _LastEncoding:
    """``WhisperModel.encode`` that answers a repeat of the last input from memory.

    When no language is given, faster-whisper (1.2) encodes the first 30 s window to
    detect the language and then encodes the same window again to decode it: one
    encoder pass in four on a minute of speech. The same features give the same
    output, so nothing changes but the time. (A window shorter than 30 s is fed to
    the two calls one mel frame apart, so there both still run.)
    """

    def __init__(self, encode: Callable):
        self._encode = encode
        self._last: tuple[np.ndarray, object] | None = None

    def __call__(self, features: np.ndarray):
        last = self._last
        if last is not None and last[0].shape == features.shape:
            if np.array_equal(last[0], features):
                return last[1]
        out = self._encode(features)
        self._last = (np.array(features, copy=True), out)
        return out


def speech_mask(
    audio: np.ndarray, spans: list[tuple[float, float]], margin_s: float = MARGIN_S
) -> np.ndarray:
    """Copy of ``audio`` with everything outside ``spans`` (+ margin) set to zero."""
    masked = np.zeros_like(audio, dtype=np.float32)
    for s, e in spans:
        a = max(0, int((s - margin_s) * SAMPLE_RATE))
        b = min(audio.size, int((e + margin_s) * SAMPLE_RATE))
        masked[a:b] = audio[a:b]
    return masked


def _inside(t: float, spans: list[tuple[float, float]], margin_s: float) -> bool:
    return any(s - margin_s <= t <= e + margin_s for s, e in spans)


WINDOW_S = 300.0
"""Longest stretch of media decoded in one whisper call: its features (and the STFT
behind them) are held whole, ~1 GB transient per hour of audio, so long media is
transcribed in windows cut in the pauses between speech spans."""


def _windows(spans: list[tuple[float, float]], window_s: float) -> list[list[tuple[float, float]]]:
    """Consecutive groups of spans, each lasting at most ``window_s`` (a longer span alone)."""
    groups: list[list[tuple[float, float]]] = []
    for span in spans:
        if groups and span[1] - groups[-1][0][0] <= window_s:
            groups[-1].append(span)
        else:
            groups.append([span])
    return groups


def transcribe(
    audio: np.ndarray,
    spans: list[tuple[float, float]],
    language: str | None = None,
    model: str = "base",
    beam_size: int = 5,
    initial_prompt: str | None = None,
    window_s: float = WINDOW_S,
    check: Callable[[], None] | None = None,
    progress: Callable[[float], None] | None = None,
) -> AsrResult:
    """Words with times (media seconds) and the detected or given language.

    The language detected in the first window is kept for the rest. ``check`` is
    called between whisper segments (the pipeline's deadline check); ``progress`` is
    told the fraction of the speech done after each window.
    """
    if not spans:
        return AsrResult([], language, 0.0, [])
    if language in ("auto", ""):
        language = None
    wm = whisper_model(model)
    if not wm.model.is_multilingual:
        language = "en"
    if not isinstance(audio, AudioTrack):  # a track: each window is read from it alone
        audio = np.asarray(audio, dtype=np.float32)
    words: list[Word] = []
    seg_out: list[dict] = []
    language_probability = None
    total_s, done_s = max(sum(e - s for s, e in spans), 1e-9), 0.0
    for group in _windows(spans, window_s):
        start = max(0.0, group[0][0] - MARGIN_S)
        end = min(audio.size / SAMPLE_RATE, group[-1][1] + MARGIN_S)
        a, b = int(start * SAMPLE_RATE), int(np.ceil(end * SAMPLE_RATE))
        local = [(s - a / SAMPLE_RATE, e - a / SAMPLE_RATE) for s, e in group]
        clip = audio[a:b]
        segments, info = wm.transcribe(
            speech_mask(clip, local),
            language=language,
            beam_size=beam_size,
            temperature=list(TEMPERATURES),
            word_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=False,
            initial_prompt=initial_prompt,
        )
        if language_probability is None:
            language, language_probability = info.language, float(info.language_probability)
        window_words = []
        for seg in segments:
            if check is not None:
                check()
            offset = a / SAMPLE_RATE
            seg_out.append(
                {
                    "start_s": round(seg.start + offset, 3),
                    "end_s": round(seg.end + offset, 3),
                    "text": seg.text.strip(),
                    "avg_logprob": round(seg.avg_logprob, 4),
                    "no_speech_prob": round(seg.no_speech_prob, 4),
                }
            )
            for w in seg.words or []:
                text = w.word.strip()
                if not text or not _inside((w.start + w.end) / 2, local, 0.1):
                    continue
                window_words.append(
                    Word(round(w.start, 3), round(w.end, 3), text, round(w.probability, 4))
                )
        refine_word_times(window_words, clip)
        offset = a / SAMPLE_RATE
        words += [
            Word(round(w.start_s + offset, 3), round(w.end_s + offset, 3), w.text, w.probability)
            for w in window_words
        ]
        if progress is not None:
            done_s += sum(e - s for s, e in group)
            progress(min(1.0, done_s / total_s))
    return AsrResult(words, language, round(float(language_probability or 0.0), 4), seg_out)


def _quiet_runs(db: np.ndarray, floor: float, min_frames: int) -> list[tuple[int, int]]:
    quiet = np.concatenate([[False], db < floor, [False]])
    edges = np.flatnonzero(np.diff(quiet.astype(np.int8)))
    return [
        (int(a), int(b))
        for a, b in zip(edges[::2], edges[1::2], strict=True)
        if b - a >= min_frames
    ]


def refine_word_times(
    words: list[Word],
    audio: np.ndarray,
    top_db: float = 30.0,
    min_pause_s: float = 0.04,
    reach_s: float = 0.35,
) -> None:
    """Move whisper's word boundaries onto the pauses in the audio, in place.

    Whisper's cross-attention DTW makes consecutive words contiguous and tends to put
    the boundary before the pause, so a word's start comes early by the pause length.
    For each boundary, the nearest quiet run (>= ``min_pause_s`` of 10 ms frames
    ``top_db`` below the loudest frame around) within ``reach_s`` becomes the gap:
    the word before ends where it begins, the word after starts where it ends. Leading
    and trailing quiet inside the first/last word of a run is trimmed the same way.
    Connected speech without pauses keeps whisper's boundaries.
    """
    hop = SAMPLE_RATE // 100
    n = audio.size // hop
    if n == 0 or not words:
        return
    rms = np.sqrt(np.mean(audio[: n * hop].astype(np.float64).reshape(n, hop) ** 2, axis=1))
    db = 20 * np.log10(rms + 1e-10)
    min_frames = max(1, int(round(min_pause_s * 100)))
    reach = int(reach_s * 100)

    def runs_near(a: int, b: int) -> tuple[list[tuple[int, int]], int]:
        lo, hi = max(0, a), min(n, b)
        if hi - lo < 2:
            return [], lo
        peak = db[max(0, lo - 100) : min(n, hi + 100)].max()
        return _quiet_runs(db[lo:hi], peak - top_db, min_frames), lo

    for i, w in enumerate(words):
        a, b = int(w.start_s * 100), int(np.ceil(w.end_s * 100))
        prev = words[i - 1] if i else None
        # boundary with the previous word (or the start of the first word)
        if prev is not None and abs(prev.end_s - w.start_s) < 0.05:
            lo = max(int(prev.start_s * 100), a - reach)
            hi = min(b, a + reach)
            runs, off = runs_near(lo, hi)
            if runs:
                centre = a - off
                r0, r1 = min(runs, key=lambda r: abs((r[0] + r[1]) / 2 - centre))
                prev.end_s = round(max(prev.start_s + 0.02, (off + r0) / 100), 3)
                w.start_s = round((off + r1) / 100, 3)
        else:
            runs, off = runs_near(a, b)
            if runs and runs[0][0] == 0 and (off + runs[0][1]) < b - 2:
                w.start_s = round((off + runs[0][1]) / 100, 3)
            else:  # the first word after a pause can start late: back to the onset
                floor = int(np.ceil(prev.end_s * 100)) if prev is not None else 0
                lo = max(floor, a - 2 * reach)
                runs, off = runs_near(lo, a)
                if runs and off + runs[-1][1] < a:
                    w.start_s = round((off + runs[-1][1]) / 100, 3)
        nxt = words[i + 1] if i + 1 < len(words) else None
        if nxt is None or abs(nxt.start_s - w.end_s) >= 0.05:
            a, b = int(w.start_s * 100), int(np.ceil(w.end_s * 100))
            runs, off = runs_near(a, b)
            if runs and off + runs[-1][1] >= b and off + runs[-1][0] > a + 2:
                w.end_s = round((off + runs[-1][0]) / 100, 3)
            else:  # whisper often cuts the last word of a phrase short: extend to the pause
                limit = b + reach if nxt is None else min(b + reach, int(nxt.start_s * 100))
                runs, off = runs_near(b, limit)
                if runs and runs[0][0] > 0:
                    w.end_s = round((off + runs[0][0]) / 100, 3)
