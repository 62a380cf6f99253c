"""Correlation Aggregator: words query the audio frames under them (learned cross-attention).

The EmoChat idea: acoustic cues belong to the words that carry them, but ASR word
times are off by tens of milliseconds and face, voice and words drift. Here each word
(its multilingual-e5 vector plus its log duration) is a query over the utterance's
audio frames: the whisper-base encoder states the speech-emotion model already
computed (the mean of its middle layers 2-5, each layer-normalised: the layers that
carry the most paralinguistic information, models/speech_emotion/CARD.md) joined with the eGeMAPS prosody LLDs
(pitch, loudness, jitter, shimmer, HNR, voicing) interpolated to the same 50 frames/s.
Attention scores carry a relative-time bias ``-slope_h * d`` where ``d`` is the
distance in seconds from the frame to the word's span (0 inside it), one learned slope
per head: a time-tolerant window that the model widens or narrows itself.

Outputs per segment: one vector per word, a pooled segment vector (attention pooling
over the words), an emotion distribution over the model's labels (RAVDESS' eight by
default), and an ``agreement`` score in 0..1: the probability that these words, at
these times, are what this audio carries (trained against the same clip with its
words shifted in time or swapped with another sentence's). Training: see
``python -m emochat.train.aggregator`` and ``emochat train aggregator manifest``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from emochat.models import registry

MODEL_FILE = registry.weight_file("aggregator")
FRAME_DIM = 512
LLD_DIM = 6  # 5 eGeMAPS figures + voiced flag
WORD_DIM = 384  # multilingual-e5-small


@dataclass
class AggregatorConfig:
    labels: tuple[str, ...]
    layers: tuple[int, ...] = (2, 3, 4, 5)
    d: int = 128
    heads: int = 2
    dropout: float = 0.1
    use_lld: bool = True
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "labels": list(self.labels),
            "layers": list(self.layers),
            "d": self.d,
            "heads": self.heads,
            "dropout": self.dropout,
            "use_lld": self.use_lld,
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, d: dict) -> AggregatorConfig:
        return cls(
            tuple(d["labels"]),
            tuple(d["layers"]),
            int(d["d"]),
            int(d["heads"]),
            float(d["dropout"]),
            bool(d["use_lld"]),
            dict(d.get("meta", {})),
        )


def _torch():
    import torch

    return torch


def build_net(cfg: AggregatorConfig):
    """The torch module (built lazily so importing this file needs no torch)."""
    torch = _torch()
    nn = torch.nn

    class AggregatorNet(nn.Module):
        def __init__(self):
            super().__init__()
            d = cfg.d
            self.cfg = cfg
            audio_in = FRAME_DIM + (LLD_DIM if cfg.use_lld else 0)
            self.audio = nn.Sequential(nn.Linear(audio_in, d), nn.GELU(), nn.LayerNorm(d))
            self.word = nn.Sequential(nn.Linear(WORD_DIM + 1, d), nn.GELU(), nn.LayerNorm(d))
            self.q = nn.Linear(d, d)
            self.k = nn.Linear(d, d)
            self.v = nn.Linear(d, d)
            self.o = nn.Linear(d, d)
            # slopes per 100 ms of distance; softplus(0.5) ~ 1 and softplus(2) ~ 2.1
            self.slope = nn.Parameter(torch.linspace(0.5, 2.0, cfg.heads))
            self.ffn = nn.Sequential(
                nn.LayerNorm(d), nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d)
            )
            self.norm = nn.LayerNorm(d)
            self.pool = nn.Linear(d, 1)
            self.drop = nn.Dropout(cfg.dropout)
            self.emotion = nn.Linear(d, len(cfg.labels))
            self.agree = nn.Sequential(nn.Linear(d + 2, d), nn.GELU(), nn.Linear(d, 1))

        def forward(self, batch: dict) -> dict:
            """batch: frames (B,T,512) premixed, frame_t (B,T), frame_mask (B,T), lld (B,T,6),
            words (B,N,384), spans (B,N,2), word_mask (B,N), word_cover (B,)."""
            F = torch.nn.functional
            a = batch["frames"]
            if self.cfg.use_lld:
                a = torch.cat([a, batch["lld"]], -1)
            a = self.drop(self.audio(a))
            spans = batch["spans"]
            dur = (spans[..., 1] - spans[..., 0]).clamp(min=0.02)
            w = self.word(torch.cat([batch["words"], torch.log(dur)[..., None]], -1))
            bsz, n, d = w.shape
            h = self.cfg.heads
            hd = self.cfg.d // h  # from the config: a traced shape would warn on export
            q = self.q(w).view(bsz, n, h, hd).transpose(1, 2)
            k = self.k(a).view(bsz, -1, h, hd).transpose(1, 2)
            v = self.v(a).view(bsz, -1, h, hd).transpose(1, 2)
            t = batch["frame_t"][:, None, :]
            dist = torch.clamp(
                torch.maximum(spans[..., 0:1] - t, t - spans[..., 1:2]), min=0.0
            )  # (B,N,T) seconds outside the word's span
            bias = -F.softplus(self.slope)[None, :, None, None] * (dist[:, None] / 0.1)
            fmask = batch["frame_mask"][:, None, None, :]
            scores = q @ k.transpose(-1, -2) / math.sqrt(hd) + bias
            scores = scores.masked_fill(~fmask, -1e4)
            att = torch.softmax(scores, -1)
            ctx = (att @ v).transpose(1, 2).reshape(bsz, n, d)
            x = self.norm(w + self.drop(self.o(ctx)))
            x = x + self.drop(self.ffn(x))
            wmask = batch["word_mask"]
            pw = self.pool(x).squeeze(-1).masked_fill(~wmask, -1e4)
            pw = torch.softmax(pw, -1)
            pooled = (pw[..., None] * x).sum(1)
            # how far, on average, each word looked from its own span (in 100 ms)
            reach = ((att.mean(1) * dist).sum(-1) / 0.1 * wmask).sum(1) / wmask.sum(1).clamp(min=1)
            coverage = batch["word_cover"]
            agree_in = torch.cat([pooled, reach[:, None], coverage[:, None]], -1)
            return {
                "words": x,
                "pooled": pooled,
                "logits": self.emotion(self.drop(pooled)),
                "agree_logit": self.agree(agree_in).squeeze(-1),
                "attention": att.mean(1),
            }

    return AggregatorNet()


# --- inputs ------------------------------------------------------------------------------


def normalise_word(text: str) -> str:
    """Word as embedded: lower case, punctuation stripped (ASR keeps 'door.')."""
    return re.sub(r"[^\w'-]+", "", text.lower()) or text.lower()


@cache
def _e5():
    from emochat.text.encoder import E5Encoder

    return E5Encoder()


def word_vectors(words: list[str]) -> np.ndarray:
    """(n, 384) multilingual-e5-small vectors of the words, each embedded alone."""
    return _e5().encode([normalise_word(w) for w in words])


def lld_stats(lld: np.ndarray, dtype=None) -> list[tuple | None]:
    """Per LLD column, the clip's mean and std that :func:`lld_at` z-scores with (voiced
    frames; loudness over all), None where under 3 frames; computed in ``dtype`` (None:
    the array's own). Once per clip: per utterance it would be O(clip) each time."""
    voiced_all = lld[:, 0] > 0
    stats: list[tuple | None] = []
    for j in range(lld.shape[1]):
        ref = lld[:, j] if j == 1 else lld[voiced_all, j]
        ref = ref[np.isfinite(ref)]
        if dtype is not None:
            ref = ref.astype(dtype)
        stats.append((ref.mean(), ref.std()) if ref.size >= 3 else None)
    return stats


def lld_at(
    frame_t: np.ndarray, lld_t: np.ndarray, lld: np.ndarray, stats: list | None = None
) -> np.ndarray:
    """(T, 6) prosody at the encoder frame times: nearest LLD frame, z-scored within the
    clip over voiced frames (loudness over all), unvoiced figures 0, plus a voiced flag.
    ``stats``: :func:`lld_stats` of ``lld``, when the caller computed them once."""
    out = np.zeros((frame_t.size, LLD_DIM), dtype=np.float32)
    if lld_t.size == 0 or frame_t.size == 0:
        return out
    idx = np.clip(np.searchsorted(lld_t, frame_t), 0, lld_t.size - 1)
    x = lld[idx].astype(np.float64)
    voiced = x[:, 0] > 0
    for j, stat in enumerate(lld_stats(lld) if stats is None else stats):
        if stat is None:
            continue
        mean, std = stat
        z = (x[:, j] - mean) / (std + 1e-6)
        ok = np.isfinite(z) & (voiced if j != 1 else True)
        out[ok, j] = np.clip(z[ok], -5, 5)
    out[:, 5] = voiced
    return out


POOL = 2
"""Encoder frames averaged in pairs: 25 frames/s (40 ms) is finer than any word."""


def premix(
    states: np.ndarray, t_s: np.ndarray, have: tuple[int, ...], use: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """(L, T, 512) encoder states of layers ``have`` -> ((T/2,) times, (T/2, 512) float32):
    the mean of layers ``use``, each frame vector first normalised per layer (LayerNorm
    without affine), then averaged over pairs of frames."""
    x = states[[have.index(i) for i in use]].astype(np.float32)
    x = ((x - x.mean(-1, keepdims=True)) / (x.std(-1, keepdims=True) + 1e-5)).mean(0)
    n = max(1, x.shape[0] // POOL) if x.shape[0] else 0
    if x.shape[0] >= POOL:
        x = x[: n * POOL].reshape(n, POOL, -1).mean(1)
        t_s = np.asarray(t_s[: n * POOL], dtype=np.float32).reshape(n, POOL).mean(1)
    return np.asarray(t_s, dtype=np.float32), x


@dataclass
class SegmentInput:
    """One segment's aggregator input (times in seconds, any common origin)."""

    words: list[str]
    spans: np.ndarray  # (N, 2)
    frame_t: np.ndarray  # (T,)
    frames: np.ndarray  # (T, 512), see premix
    lld: np.ndarray  # (T, 6)
    word_vecs: np.ndarray | None = None

    def coverage(self) -> float:
        """Fraction of the words whose span holds at least one frame (speech under them)."""
        if not len(self.words) or not self.frame_t.size:
            return 0.0
        t = self.frame_t
        hit = [bool(((t >= a - 0.02) & (t <= b + 0.02)).any()) for a, b in self.spans]
        return float(np.mean(hit))


INPUTS = ("frames", "frame_t", "frame_mask", "lld", "words", "spans", "word_mask", "word_cover")
"""The network's inputs, in this order (also the ONNX graph's input names)."""
OUTPUTS = ("words", "pooled", "logits", "agree_logit", "attention")
"""The network's outputs."""
GRAPH_OUTPUTS = ("word_states", *OUTPUTS[1:])
"""The ONNX graph's names of :data:`OUTPUTS` (an output may not share the input's name)."""


def pad_batch(items: list[SegmentInput]) -> dict[str, np.ndarray]:
    """Pad a list of segments into one batch of numpy arrays (the ONNX graph's inputs)."""
    b = len(items)
    n = max(1, max(len(it.words) for it in items))
    t = max(1, max(it.frame_t.size for it in items))
    frames = np.zeros((b, t, FRAME_DIM), np.float32)
    frame_t = np.zeros((b, t), np.float32)
    fmask = np.zeros((b, t), bool)
    lld = np.zeros((b, t, LLD_DIM), np.float32)
    words = np.zeros((b, n, WORD_DIM), np.float32)
    spans = np.zeros((b, n, 2), np.float32)
    spans[..., 1] = 0.1
    wmask = np.zeros((b, n), bool)
    cover = np.zeros(b, np.float32)
    for i, it in enumerate(items):
        tt, nn_ = it.frame_t.size, len(it.words)
        frames[i, :tt] = it.frames
        frame_t[i, :tt] = it.frame_t
        fmask[i, :tt] = True
        lld[i, :tt] = it.lld
        vecs = it.word_vecs if it.word_vecs is not None else word_vectors(it.words)
        words[i, :nn_] = vecs
        spans[i, :nn_] = it.spans
        wmask[i, :nn_] = True
        cover[i] = it.coverage()
    return {
        "frames": frames,
        "frame_t": frame_t,
        "frame_mask": fmask,
        "lld": lld,
        "words": words,
        "spans": spans,
        "word_mask": wmask,
        "word_cover": cover,
    }


def collate(items: list[SegmentInput]) -> dict:
    """:func:`pad_batch` as torch tensors (training)."""
    torch = _torch()
    return {k: torch.from_numpy(v) for k, v in pad_batch(items).items()}


# --- the model file ------------------------------------------------------------------------


@dataclass
class SegmentAggregate:
    """The aggregator's answer for one segment."""

    label: str
    probs: dict[str, float]
    agreement: float
    pooled: list[float]
    word_vectors: list[list[float]]
    word_attention_s: list[tuple[float, float]]  # per word: attention-weighted frame time, spread


CONFIG_KEY = "emochat_aggregator_config"
"""The ONNX metadata key that holds the model's :class:`AggregatorConfig` as JSON."""


class Aggregator:
    """A trained aggregator: config + a network, CPU inference one batch of segments at a time.

    The network is an onnxruntime session (``.onnx``: what analysis runs, no torch) or
    the torch module (``.pt``, and while training); both map :func:`pad_batch`'s arrays to
    :data:`OUTPUTS`.
    """

    def __init__(self, cfg: AggregatorConfig, net=None, session=None):
        self.cfg = cfg
        self.session = session
        self.net = None
        if session is None:
            self.net = net if net is not None else build_net(cfg)
            self.net.eval()

    @classmethod
    def load(cls, path: str | Path | None = None) -> Aggregator:
        """Read a model file (default: the shipped ``.onnx``; a ``.pt`` from training needs
        torch). Uncached: analysis code loads it through
        :func:`emochat.models.registry.load`, once per process."""
        p = Path(path) if path else MODEL_FILE
        return _load_onnx(p) if p.suffix.lower() == ".onnx" else _load(p)

    def save(self, path: str | Path) -> None:
        """Write the torch weights and config (``.pt``; the recipe exports the ``.onnx``)."""
        torch = _torch()
        if self.net is None:
            raise ValueError("an aggregator loaded from ONNX has no torch weights to save")
        path = Path(path)
        tmp = path.with_suffix(path.suffix + ".tmp")
        state = {k: v.detach().clone() for k, v in self.net.state_dict().items()}
        torch.save({"config": json.dumps(self.cfg.to_dict()), "state": state}, tmp)
        tmp.replace(path)

    def forward(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """:func:`pad_batch`'s arrays -> :data:`OUTPUTS` as numpy arrays."""
        if self.session is not None:
            values = self.session.run(list(GRAPH_OUTPUTS), {k: batch[k] for k in INPUTS})
            return dict(zip(OUTPUTS, values, strict=True))
        torch = _torch()
        from emochat.core.settings import cpu_threads

        saved = torch.get_num_threads()
        torch.set_num_threads(cpu_threads())
        try:
            with torch.inference_mode():
                out = self.net({k: torch.from_numpy(v) for k, v in batch.items()})
        finally:
            torch.set_num_threads(saved)
        return {k: out[k].numpy() for k in OUTPUTS}

    def reduce_frames(self, frames):
        """The voice stage's ``keep_frames``: an utterance's encoder states premixed to what
        this model reads ((1, T/2, 512) float16), so only that is held until it runs."""
        from emochat.voice.speech_emotion import EncoderFrames

        t, x = premix(frames.states, frames.t_s, frames.layers, self.cfg.layers)
        return EncoderFrames(t, x[None].astype(np.float16), (-1,))

    def predict(self, items: list[SegmentInput]) -> list[SegmentAggregate]:
        if not items:
            return []
        out = self.forward(pad_batch(items))
        logits = out["logits"].astype(np.float64)
        probs = np.exp(logits - logits.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        agree = 1.0 / (1.0 + np.exp(-out["agree_logit"].astype(np.float64)))
        att = out["attention"]
        results = []
        for i, it in enumerate(items):
            n = len(it.words)
            a = att[i, :n, : it.frame_t.size]
            centre = a @ it.frame_t
            spread = np.sqrt(np.maximum(a @ it.frame_t**2 - centre**2, 0.0))
            results.append(
                SegmentAggregate(
                    label=self.cfg.labels[int(np.argmax(probs[i]))],
                    probs={
                        k: round(float(p), 4)
                        for k, p in zip(self.cfg.labels, probs[i], strict=True)
                    },
                    agreement=round(float(agree[i]), 4),
                    pooled=[round(float(x), 4) for x in out["pooled"][i]],
                    word_vectors=[[round(float(x), 4) for x in row] for row in out["words"][i, :n]],
                    word_attention_s=[
                        (round(float(c), 3), round(float(s), 3))
                        for c, s in zip(centre, spread, strict=True)
                    ],
                )
            )
        return results


def _missing(p: Path) -> None:
    from emochat.core.errors import EmochatError

    if not p.is_file():
        raise EmochatError(
            p, "aggregator model missing; run python -m emochat.train.aggregator all"
        )


def _load_onnx(p: Path) -> Aggregator:
    """The exported graph (``emochat.train.aggregator.export``) in onnxruntime; the config
    travels in the graph's metadata under :data:`CONFIG_KEY`."""
    from emochat.core.settings import cpu_threads
    from emochat.models.onnx_session import cpu_session

    _missing(p)
    session = cpu_session(p, cpu_threads())
    meta = session.get_modelmeta().custom_metadata_map
    if CONFIG_KEY not in meta:
        raise ValueError(f"no {CONFIG_KEY} in the graph's metadata")
    names = tuple(i.name for i in session.get_inputs())
    if sorted(names) != sorted(INPUTS):
        raise ValueError(f"graph inputs {names}, expected {INPUTS}")
    return Aggregator(AggregatorConfig.from_dict(json.loads(meta[CONFIG_KEY])), session=session)


def _load(p: Path) -> Aggregator:
    """A torch ``.pt`` (the recipe's and ``manifest``'s output; needs torch)."""
    torch = _torch()
    _missing(p)
    blob = torch.load(p, map_location="cpu", weights_only=True)
    cfg = AggregatorConfig.from_dict(json.loads(blob["config"]))
    net = build_net(cfg)
    net.load_state_dict(blob["state"])
    return Aggregator(cfg, net)
