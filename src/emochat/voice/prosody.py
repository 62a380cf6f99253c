"""Prosody: openSMILE eGeMAPSv02 low-level descriptors at 10 ms, summarised per span.

One LLD pass over the clip; every utterance and every word is a slice of it. Pitch is
in semitones (re 27.5 Hz, eGeMAPS' F0semitoneFrom27.5Hz), loudness in sones-like
auditory units, jitter relative, shimmer in dB, HNR in dB. Voice-quality figures use
voiced frames only. ``z`` holds each figure z-scored against the clip's own
distribution (the speaker's baseline: one speaker per clip until diarisation exists):
frame-level figures against the clip's voiced frames, rates and pauses against the
clip's utterances when there are at least three.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from functools import cache

import numpy as np

from emochat.ingest.audio import AudioTrack

FRAME_S = 0.01
_COLUMNS = {
    "pitch": "F0semitoneFrom27.5Hz_sma3nz",
    "loudness": "Loudness_sma3",
    "jitter": "jitterLocal_sma3nz",
    "shimmer": "shimmerLocaldB_sma3nz",
    "hnr": "HNRdBACF_sma3nz",
}
_VOWELS = re.compile(r"[aeiouyàáâäæãåāèéêëēėęîïíīįìôöòóœøōõûüùúūÿ]+", re.I)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


@cache
def smile(level: str = "lld"):
    """An opensmile.Smile for eGeMAPSv02 ``"lld"`` (10 ms frames) or ``"functionals"``."""
    import opensmile

    feature_level = (
        opensmile.FeatureLevel.LowLevelDescriptors
        if level == "lld"
        else opensmile.FeatureLevel.Functionals
    )
    return opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02, feature_level=feature_level)


@dataclass
class Frames:
    """eGeMAPS LLDs of a clip: ``t_s`` frame centres, one float32 array per figure (NaN
    unvoiced)."""

    t_s: np.ndarray
    values: dict[str, np.ndarray]

    @property
    def voiced(self) -> np.ndarray:
        return self.values["pitch"] > 0


LLD_CHUNK_S = 60.0
"""openSMILE holds a whole signal's intermediate buffers (2.8 GB for an hour): chunks keep
it bounded."""
LLD_PAD_S = 1.0
"""Context each side of a chunk, so the 20-60 ms windows and smoothing at its edges see the
same samples as in one pass (a whole number of 10 ms hops: frames stay on one grid)."""


def lld_frames(
    audio: np.ndarray | AudioTrack,
    sample_rate: int = 16_000,
    chunk_s: float = LLD_CHUNK_S,
    pad_s: float = LLD_PAD_S,
) -> Frames:
    """The clip's LLDs, computed chunk by chunk (``chunk_s``) with ``pad_s`` of context.

    ``audio``: an array or an :class:`~emochat.ingest.audio.AudioTrack` (only each padded
    chunk is read from it)."""
    if not isinstance(audio, AudioTrack):
        audio = np.asarray(audio, dtype=np.float32)
    if audio.size < sample_rate // 10:
        return Frames(np.zeros(0), {k: np.zeros(0) for k in _COLUMNS})
    chunk, pad = int(chunk_s * sample_rate), int(pad_s * sample_rate)
    times, parts = [], {k: [] for k in _COLUMNS}
    for begin in range(0, audio.size, chunk):
        a = max(0, begin - pad)
        piece = audio[a : min(audio.size, begin + chunk + pad)]
        if piece.size < sample_rate // 10:
            continue
        df = smile("lld").process_signal(piece, sample_rate)
        starts = df.index.get_level_values("start").total_seconds().to_numpy() + a / sample_rate
        keep = (starts >= begin / sample_rate - 1e-6) & (
            starts < (begin + chunk) / sample_rate - 1e-6
        )
        times.append(starts[keep])
        for k, c in _COLUMNS.items():
            # float32 as openSMILE computes them (half the memory of float64; a 6-h clip
            # has 2.2 M frames); the figures are computed from float64 copies of a span
            parts[k].append(df[c].to_numpy(dtype=np.float32)[keep])
    values = {k: np.concatenate(v) for k, v in parts.items()}
    return Frames(np.concatenate(times) + 0.01, values)  # frames 20-60 ms, hop 10 ms


@dataclass
class Prosody:
    """Summary of a span. ``None`` where the span has too few voiced frames."""

    start_s: float
    end_s: float
    pitch_mean_st: float | None = None
    pitch_range_st: float | None = None  # 10th-90th percentile of voiced F0
    loudness: float | None = None
    jitter: float | None = None
    shimmer_db: float | None = None
    hnr_db: float | None = None
    voiced_fraction: float = 0.0
    speech_rate_wps: float | None = None  # words per second of speech
    syllable_rate: float | None = None  # estimated syllables per second of speech
    pause_count: int = 0
    pause_total_s: float = 0.0
    pause_before_s: float | None = None  # words only: silence since the previous word
    z: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def _r(x: float | None, nd: int = 3) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), nd)


def summarize(frames: Frames, start_s: float, end_s: float, tolerance_s: float = 0.0) -> Prosody:
    """Frame-level figures of the span [start_s, end_s).

    With ``tolerance_s`` > 0 the span is soft: frames up to ``tolerance_s`` outside it
    count with a weight falling linearly from 1 at its edge to 0, so a word whose ASR
    times are off by tens of milliseconds still gets the voice under it (the rule part
    of the Correlation Aggregator). Means are weighted; the pitch range uses frames of
    weight >= 0.5.
    """
    p = Prosody(round(start_s, 3), round(end_s, 3))
    if frames.t_s.size == 0:
        return p
    # only the frames near the span (the times ascend): the same subsets, in the same
    # order, as masking the whole clip's frames, without O(clip) work per word
    lo, hi = np.searchsorted(frames.t_s, [start_s - tolerance_s - 0.05, end_s + tolerance_s + 0.05])
    t = frames.t_s[lo:hi]
    frames = Frames(t, {k: v[lo:hi].astype(np.float64) for k, v in frames.values.items()})
    if tolerance_s > 0:
        dist = np.maximum(np.maximum(start_s - t, t - end_s), 0.0)
        weight = np.clip(1.0 - dist / tolerance_s, 0.0, 1.0)
        weight[(t >= start_s) & (t < end_s)] = 1.0
    else:
        weight = ((t >= start_s) & (t < end_s)).astype(float)
    m = weight > 0
    if not m.any():
        return p
    voiced = m & frames.voiced
    v = frames.values

    def wmean(x: np.ndarray, mask: np.ndarray) -> float:
        return float(np.average(x[mask], weights=weight[mask]))

    p.loudness = _r(wmean(v["loudness"], m))
    p.voiced_fraction = round(float(weight[voiced].sum() / weight[m].sum()), 3)
    if voiced.sum() >= 3:
        core = voiced & (weight >= 0.5)
        f0 = v["pitch"][core if core.sum() >= 3 else voiced]
        p.pitch_mean_st = _r(wmean(v["pitch"], voiced), 2)
        p.pitch_range_st = _r(float(np.percentile(f0, 90) - np.percentile(f0, 10)), 2)
        p.jitter = _r(wmean(v["jitter"], voiced), 4)
        p.shimmer_db = _r(wmean(v["shimmer"], voiced), 3)
        p.hnr_db = _r(wmean(v["hnr"], voiced), 2)
    return p


def syllables(word: str) -> int:
    """Rough syllable count: vowel groups (Latin script), one per CJK character."""
    cjk = len(_CJK.findall(word))
    if cjk:
        return cjk
    letters = re.sub(r"[^\w]", "", word)
    if not letters:
        return 0
    n = len(_VOWELS.findall(letters))
    low = letters.lower()
    if n > 1 and re.search(r"[^aeiouy]e(s|ly|ment)?$", low) and not re.search(r"[^aeiouy]le$", low):
        n -= 1  # silent final e: make, makes, lovely, statement
    return max(1, n)


def frame_baseline(frames: Frames) -> dict[str, tuple[float, float]]:
    """Clip-level mean/std of each frame figure (voiced frames for voice figures)."""
    base: dict[str, tuple[float, float]] = {}
    if frames.t_s.size == 0:
        return base
    voiced = frames.voiced
    for key in ("pitch", "jitter", "shimmer", "hnr"):
        x = frames.values[key][voiced].astype(np.float64)
        if x.size >= 10:
            base[key] = (float(np.mean(x)), float(np.std(x)) + 1e-6)
    loud = frames.values["loudness"].astype(np.float64)
    speechy = loud[voiced] if voiced.sum() >= 10 else loud
    if speechy.size >= 10:
        base["loudness"] = (float(np.mean(speechy)), float(np.std(speechy)) + 1e-6)
    return base


_Z_FIELDS = {
    "pitch_mean_st": "pitch",
    "loudness": "loudness",
    "jitter": "jitter",
    "shimmer_db": "shimmer",
    "hnr_db": "hnr",
}


def add_z(p: Prosody, base: dict[str, tuple[float, float]]) -> None:
    for name, key in _Z_FIELDS.items():
        val = getattr(p, name)
        if val is not None and key in base:
            mean, std = base[key]
            p.z[name] = round((val - mean) / std, 3)


def add_utterance_z(items: list[Prosody]) -> None:
    """z of rates, pitch range and pauses across utterances (needs three or more)."""
    for name in ("speech_rate_wps", "syllable_rate", "pitch_range_st", "pause_total_s"):
        vals = [getattr(p, name) for p in items]
        ok = [v for v in vals if v is not None]
        if len(ok) < 3:
            continue
        mean, std = float(np.mean(ok)), float(np.std(ok)) + 1e-6
        for p, v in zip(items, vals, strict=True):
            if v is not None:
                p.z[name] = round((v - mean) / std, 3)


def utterance_prosody(
    frames: Frames,
    start_s: float,
    end_s: float,
    words: list,
    speech: list[tuple[float, float]],
    min_pause_s: float = 0.15,
) -> Prosody:
    """Span figures + speech rate and pauses from word times (or VAD gaps without words)."""
    p = summarize(frames, start_s, end_s)
    if words:
        gaps = [b.start_s - a.end_s for a, b in zip(words[:-1], words[1:], strict=True)]
    else:
        inside = [
            (max(s, start_s), min(e, end_s)) for s, e in speech if min(e, end_s) > max(s, start_s)
        ]
        gaps = [b[0] - a[1] for a, b in zip(inside[:-1], inside[1:], strict=True)]
    pauses = [g for g in gaps if g >= min_pause_s]
    p.pause_count = len(pauses)
    p.pause_total_s = round(float(sum(pauses)), 3)
    if words:
        spoken = max(1e-3, (words[-1].end_s - words[0].start_s) - p.pause_total_s)
        p.speech_rate_wps = round(len(words) / spoken, 3)
        p.syllable_rate = round(sum(syllables(w.text) for w in words) / spoken, 3)
    return p
