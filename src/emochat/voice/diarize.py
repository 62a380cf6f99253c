"""Who speaks when, from the voice alone: speaker embeddings, clustering, diarisation.

The embeddings are Resemblyzer's GE2E voice encoder (``models/speaker_embedding``: a
3-layer LSTM over 40 mel bands, 256-d output), run here in numpy: no torch at run time.

* :func:`speaker_embeddings`: one L2-normalised 256-d vector per (start_s, end_s) span.
* :func:`cluster_speakers`: speaker labels for embeddings; the number of speakers is
  estimated (average-linkage agglomerative clustering cut at a cosine distance).
* :func:`diarize`: speech spans -> (start_s, end_s, speaker) turns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.signal import get_window
from threadpoolctl import threadpool_limits

from emochat.ingest.audio import AudioTrack
from emochat.models import registry

SAMPLE_RATE = 16_000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms: one mel frame
N_MELS = 40
PARTIAL_FRAMES = 160  # 1.6 s: the encoder's training window
TARGET_DBFS = -30.0  # quiet audio is raised to this level (never lowered), as Resemblyzer does
MIN_FRAMES = 20  # 0.2 s: shorter spans are embedded over this much audio around them

WINDOW_S = 1.6
"""Length of a diarisation window (the encoder's partial-utterance length)."""
WINDOW_HOP_S = 0.8
"""Hop between diarisation windows inside a long speech span (50 % overlap)."""
THRESHOLD = 0.375
"""Average-linkage cut (cosine distance) between speakers: the lowest mean DER on the
realistic development conversations (``bench/diarization_devset.py``: EmoDB, RAVDESS and
URDU training speakers in conversational registers, short turns, synthetic rooms, levels,
band limits and noise; ``bench/bench_diarization.py --choose``), not on the evaluated
recordings. (On the first, clean studio set the best cut was 0.425.) Per-recording counts
(NME-SC, silhouette-gated partitions, a threshold relative to the recording's own
spread; ``bench/diarization_candidates.py``) scored worse on the same conversations."""
MAX_POINTS = 400
"""At most this many embeddings (evenly spaced in input order) are clustered; every
embedding then goes to the nearest centroid, so the cost stays bounded for hours of
audio (the linkage needs n^2 / 2 distances)."""
MIN_SPEAKER_S = 2.0
"""A cluster with less speech than this (and under 10 % of it) is merged into the
nearest larger one: a few odd windows are not a new person."""


# ------------------------------------------------------------------------ the encoder


@dataclass(frozen=True)
class SpeakerEncoder:
    """The GE2E voice encoder's weights (PyTorch's LSTM layout: gates i, f, g, o)."""

    layers: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]
    """Per LSTM layer (W_ih (1024, in), W_hh (1024, 256), b_ih + b_hh (1024,))."""
    linear_w: np.ndarray
    linear_b: np.ndarray

    @classmethod
    def load(cls, path: str | Path | None = None) -> SpeakerEncoder:
        """From ``speaker_encoder.npz`` (default: the shipped file)."""
        p = Path(path) if path is not None else registry.existing_file("speaker_embedding")
        with np.load(p, allow_pickle=False) as z:
            layers = tuple(
                (
                    z[f"lstm.weight_ih_l{i}"].astype(np.float32),
                    z[f"lstm.weight_hh_l{i}"].astype(np.float32),
                    (z[f"lstm.bias_ih_l{i}"] + z[f"lstm.bias_hh_l{i}"]).astype(np.float32),
                )
                for i in range(3)
            )
            return cls(
                layers, z["linear.weight"].astype(np.float32), z["linear.bias"].astype(np.float32)
            )

    def embed(self, mels: np.ndarray) -> np.ndarray:
        """(B, T, 40) mel power frames -> (B, 256) L2-normalised embeddings (the last
        layer's final hidden state through linear + ReLU).

        One BLAS thread: the recurrence is hundreds of small products, which threads only
        slow down (15x on a loaded 2-core machine).
        """
        with threadpool_limits(limits=1, user_api="blas"):
            return self._embed(np.asarray(mels, dtype=np.float32))

    def _embed(self, x: np.ndarray) -> np.ndarray:
        b, t, _ = x.shape
        for w_ih, w_hh, bias in self.layers:
            hidden = w_hh.shape[1]
            pre = (x.reshape(b * t, -1) @ w_ih.T + bias).reshape(b, t, -1)  # (B, T, 4H)
            h = np.zeros((b, hidden), np.float32)
            c = np.zeros((b, hidden), np.float32)
            out = np.empty((b, t, hidden), np.float32)
            w_hh_t = np.ascontiguousarray(w_hh.T)
            for step in range(t):
                gates = pre[:, step] + h @ w_hh_t
                i = _sigmoid(gates[:, :hidden])
                f = _sigmoid(gates[:, hidden : 2 * hidden])
                g = np.tanh(gates[:, 2 * hidden : 3 * hidden])
                o = _sigmoid(gates[:, 3 * hidden :])
                c = f * c + i * g
                h = o * np.tanh(c)
                out[:, step] = h
            x = out
        raw = np.maximum(x[:, -1] @ self.linear_w.T + self.linear_b, 0.0)
        return _normalise(raw)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * z) + 1.0)


def _normalise(v: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return (v / np.maximum(norm, 1e-12)).astype(np.float32)


@cache
def _encoder() -> SpeakerEncoder:
    return SpeakerEncoder.load()


# ------------------------------------------------------------------------ the front end


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa's default, ``htk=False``)."""
    f = np.asarray(f, dtype=np.float64)
    f_sp, min_log_hz, min_log_mel, logstep = 200.0 / 3, 1000.0, 15.0, np.log(6.4) / 27.0
    return np.where(
        f >= min_log_hz,
        min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep,
        f / f_sp,
    )


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    f_sp, min_log_hz, min_log_mel, logstep = 200.0 / 3, 1000.0, 15.0, np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), m * f_sp)


@cache
def mel_filterbank() -> np.ndarray:
    """(40, 201) Slaney-normalised triangular filters, 0-8 kHz, as
    ``librosa.filters.mel(sr=16000, n_fft=400, n_mels=40)`` builds them."""
    fft_freqs = np.linspace(0.0, SAMPLE_RATE / 2, 1 + N_FFT // 2)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(SAMPLE_RATE / 2), N_MELS + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2 : N_MELS + 2] - mel_f[:N_MELS]))[:, None]
    return weights.astype(np.float32)


def mel_frames(wav: np.ndarray) -> np.ndarray:
    """(n_frames, 40) mel power spectrogram (not log) of 16 kHz audio, one frame per 10 ms
    (frame i centred on sample 160 i; 25 ms periodic Hann window, zero-padded edges)."""
    wav = np.asarray(wav, dtype=np.float32).reshape(-1)
    padded = np.pad(wav, N_FFT // 2)
    n = 1 + wav.size // HOP
    if padded.size < N_FFT:
        padded = np.pad(padded, (0, N_FFT - padded.size))
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n)[:, None]
    idx = np.minimum(idx, padded.size - 1)
    frames = padded[idx] * get_window("hann", N_FFT, fftbins=True).astype(np.float32)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    return (power.astype(np.float32) @ mel_filterbank().T).astype(np.float32)


def _raise_level(wav: np.ndarray) -> np.ndarray:
    """Scale quiet audio up to -30 dBFS RMS (never down), as the encoder was trained."""
    rms = float(np.sqrt(np.mean(np.square(wav, dtype=np.float64)))) if wav.size else 0.0
    if rms <= 1e-8:
        return wav
    gain = 10 ** (TARGET_DBFS / 20) / rms
    return wav * np.float32(gain) if gain > 1.0 else wav


# ------------------------------------------------------------------------ embeddings


def _track(audio: np.ndarray | AudioTrack) -> AudioTrack:
    return audio if isinstance(audio, AudioTrack) else AudioTrack.from_array(audio)


def _span_mels(track: AudioTrack, start_s: float, end_s: float) -> np.ndarray:
    """Mel frames of one span (at least :data:`MIN_FRAMES`, widened around its centre)."""
    mid = 0.5 * (start_s + end_s)
    half = max(0.5 * (end_s - start_s), 0.5 * MIN_FRAMES * HOP / SAMPLE_RATE)
    a = max(0, int(round((mid - half) * SAMPLE_RATE)))
    b = min(track.size, int(round((mid + half) * SAMPLE_RATE)))
    wav = _raise_level(track.read(a, b))
    return mel_frames(wav)[: max(1, wav.size // HOP)]


def _embed_windows(mels: Sequence[np.ndarray], encoder: SpeakerEncoder) -> np.ndarray:
    """One embedding per mel window; windows of equal length run as one batch."""
    out = np.zeros((len(mels), encoder.linear_w.shape[0]), np.float32)
    by_length: dict[int, list[int]] = {}
    for i, m in enumerate(mels):
        by_length.setdefault(len(m), []).append(i)
    for idx in by_length.values():
        for a in range(0, len(idx), 64):
            part = idx[a : a + 64]
            out[part] = encoder.embed(np.stack([mels[i] for i in part]))
    return out


def speaker_embeddings(
    audio: np.ndarray | AudioTrack,
    spans: Sequence[tuple[float, float]],
    encoder: SpeakerEncoder | None = None,
) -> np.ndarray:
    """(n_spans, 256) L2-normalised voice embeddings of 16 kHz mono audio.

    A span of up to 1.6 s is embedded whole; a longer one is cut into 1.6-s partials
    (hop 0.8 s, the last one ending at the span's end) whose embeddings are averaged and
    renormalised, as Resemblyzer's ``embed_utterance`` does. Spans are (start_s, end_s).
    """
    track = _track(audio)
    encoder = encoder or _encoder()
    pieces: list[np.ndarray] = []
    owner: list[int] = []
    for k, (s, e) in enumerate(spans):
        mels = _span_mels(track, float(s), float(e))
        if len(mels) <= PARTIAL_FRAMES:
            starts = [0]
        else:
            step = int(WINDOW_HOP_S * SAMPLE_RATE / HOP)
            starts = list(range(0, len(mels) - PARTIAL_FRAMES + 1, step))
            if starts[-1] != len(mels) - PARTIAL_FRAMES:
                starts.append(len(mels) - PARTIAL_FRAMES)
        for a in starts:
            pieces.append(mels[a : a + PARTIAL_FRAMES])
            owner.append(k)
    if not pieces:
        return np.zeros((0, encoder.linear_w.shape[0]), np.float32)
    partial = _embed_windows(pieces, encoder)
    sums = np.zeros((len(spans), partial.shape[1]), np.float32)
    np.add.at(sums, np.asarray(owner), partial)
    return _normalise(sums)


# ------------------------------------------------------------------------ clustering


def cluster_speakers(
    embeddings: np.ndarray,
    durations_s: Sequence[float],
    max_speakers: int | None = None,
    threshold: float = THRESHOLD,
    n_speakers: int | None = None,
) -> list[int]:
    """A speaker label (0, 1, ...) per embedding, the number of speakers estimated.

    Average-linkage agglomerative clustering on cosine distance, cut at ``threshold``
    (1 speaker when every pair is alike); with more than :data:`MAX_POINTS` embeddings the
    tree is built on that many, evenly spaced, and the rest join their nearest
    centroid; clusters holding less than
    :data:`MIN_SPEAKER_S` of speech (and under 10 % of it) join the nearest larger one;
    then each embedding goes to its nearest duration-weighted centroid (twice).
    ``max_speakers`` caps the count (the closest clusters merge first); ``n_speakers``,
    when known from elsewhere (e.g. the faces that speak), fixes it: the tree is cut into
    that many clusters and none is absorbed. Labels are numbered in input order (the first
    embedding's speaker is 0).
    """
    x = _normalise(np.asarray(embeddings, dtype=np.float32))
    w = np.asarray(durations_s, dtype=np.float64)
    n = len(x)
    if n == 0:
        return []
    if n == 1:
        return [0]
    keep = np.unique(np.linspace(0, n - 1, min(n, MAX_POINTS)).round().astype(np.int64))
    xs, ws = x[keep], w[keep]
    tree = linkage(xs.astype(np.float64), method="average", metric="cosine")
    if n_speakers is not None:
        cut = fcluster(tree, t=min(n_speakers, len(xs)), criterion="maxclust") - 1
        labels = _assign_cut(x, xs, ws, cut, keep)
        for _ in range(2):
            refined = np.argmax(x @ _centroids(x, w, labels).T, axis=1)
            if len(np.unique(refined)) < len(np.unique(labels)):
                break  # keep the count that was asked for
            labels = refined
        return _in_order(labels)
    cut = fcluster(tree, t=threshold, criterion="distance") - 1
    if max_speakers is not None and cut.max() + 1 > max_speakers:
        cut = fcluster(tree, t=max_speakers, criterion="maxclust") - 1
    labels = _assign_cut(x, xs, ws, cut, keep)
    labels = _absorb_small(x, w, labels)
    for _ in range(2):
        cents = _centroids(x, w, labels)
        labels = np.argmax(x @ cents.T, axis=1)
        labels = _absorb_small(x, w, labels)
    return _in_order(labels)


def _assign_cut(
    x: np.ndarray, xs: np.ndarray, ws: np.ndarray, cut: np.ndarray, keep: np.ndarray
) -> np.ndarray:
    """Labels of all embeddings from the clustered subset's: the subset keeps its own,
    the others take their nearest centroid (the same as the cut when nothing was left
    out)."""
    if len(keep) == len(x):
        return np.asarray(cut)
    labels = np.argmax(x @ _centroids(xs, ws, cut).T, axis=1)
    labels[keep] = cut
    return labels


def _centroids(x: np.ndarray, w: np.ndarray, labels: np.ndarray) -> np.ndarray:
    k = int(labels.max()) + 1
    cents = np.zeros((k, x.shape[1]), np.float32)
    for c in range(k):
        m = labels == c
        if m.any():
            cents[c] = (w[m, None] * x[m]).sum(0) + 1e-6 * x[m].sum(0)
    return _normalise(cents)


def _absorb_small(x: np.ndarray, w: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Merge clusters with little speech into the nearest cluster with enough, then
    renumber 0..k-1."""
    labels = np.unique(labels, return_inverse=True)[1]
    total = float(w.sum())
    while True:
        k = int(labels.max()) + 1
        if k == 1:
            return labels
        mass = np.array([w[labels == c].sum() for c in range(k)])
        small = (mass < MIN_SPEAKER_S) & (mass < 0.1 * total)
        if not small.any() or small.all():
            return labels
        cents = _centroids(x, w, labels)
        c = int(np.argmin(np.where(small, mass, np.inf)))
        sims = cents @ cents[c]
        sims[small] = -np.inf
        labels = np.where(labels == c, int(np.argmax(sims)), labels)
        labels = np.unique(labels, return_inverse=True)[1]


def _in_order(labels: np.ndarray) -> list[int]:
    seen: dict[int, int] = {}
    return [seen.setdefault(int(c), len(seen)) for c in labels]


# ------------------------------------------------------------------------ diarisation


def diarization_windows(speech_spans: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Cut speech spans into windows of :data:`WINDOW_S` with :data:`WINDOW_HOP_S` hop
    (a span up to 1.6 s is one window; the last window ends at the span's end)."""
    out: list[tuple[float, float]] = []
    for s, e in speech_spans:
        s, e = float(s), float(e)
        if e <= s:
            continue
        if e - s <= WINDOW_S:
            out.append((s, e))
            continue
        starts = list(np.arange(s, e - WINDOW_S + 1e-9, WINDOW_HOP_S))
        if starts[-1] + WINDOW_S < e - 1e-6:
            starts.append(e - WINDOW_S)
        out += [(a, a + WINDOW_S) for a in starts]
    return out


def diarize(
    audio: np.ndarray | AudioTrack,
    speech_spans: Sequence[tuple[float, float]],
    max_speakers: int | None = None,
    n_speakers: int | None = None,
) -> list[tuple[float, float, int]]:
    """(start_s, end_s, speaker) turns over the speech spans, from the voice alone
    (``max_speakers`` / ``n_speakers``: see :func:`cluster_speakers`).

    Long spans are cut into overlapping 1.6-s windows; the windows are embedded and
    clustered (:func:`cluster_speakers`); inside a span each instant takes the label of
    the window whose centre is nearest, and consecutive pieces with the same label merge
    (a pause shorter than 0.3 s between spans of one speaker is bridged). Speakers are
    numbered 0, 1, ... in order of first speech.
    """
    spans = sorted((float(s), float(e)) for s, e in speech_spans if e > s)
    windows = diarization_windows(spans)
    if not windows:
        return []
    emb = speaker_embeddings(audio, windows)
    labels = cluster_speakers(emb, [e - s for s, e in windows], max_speakers, n_speakers=n_speakers)
    return turns_from_windows(spans, windows, labels)


def turns_from_windows(
    spans: Sequence[tuple[float, float]],
    windows: Sequence[tuple[float, float]],
    labels: Sequence[int],
) -> list[tuple[float, float, int]]:
    """(start_s, end_s, speaker) turns from labelled windows (:func:`diarization_windows`
    of the sorted ``spans``): inside a span each instant takes the label of the window
    whose centre is nearest; same-label pieces less than 0.3 s apart merge; speakers are
    renumbered in order of first speech."""
    pieces: list[tuple[float, float, int]] = []
    j = 0
    for s, e in spans:
        mine = []
        while j < len(windows) and windows[j][0] < e - 1e-9:
            mine.append((windows[j], labels[j]))
            j += 1
        if not mine:
            continue
        centres = [0.5 * (a + b) for (a, b), _ in mine]
        edges = [s] + [0.5 * (centres[i] + centres[i + 1]) for i in range(len(mine) - 1)] + [e]
        pieces += [(edges[i], edges[i + 1], lab) for i, (_, lab) in enumerate(mine)]
    turns: list[list] = []
    for s, e, lab in pieces:
        if turns and turns[-1][2] == lab and s - turns[-1][1] < 0.3:
            turns[-1][1] = e
        else:
            turns.append([s, e, lab])
    order = _in_order(np.array([t[2] for t in turns]))
    return [(round(t[0], 3), round(t[1], 3), order[i]) for i, t in enumerate(turns)]
