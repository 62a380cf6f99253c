"""whisper-base encoder in numpy, run at the utterance's own length, all hidden states out.

Weights come from the same CTranslate2 model.bin the ASR uses (no second download).
Differences from CTranslate2's encoder: no 30 s padding (attention sees only the
utterance, as in training) and every layer's output is returned, because the middle
layers carry more paralinguistic information than the last one.

numpy rather than torch so that analysis installs without torch (issue #28); the weights
(~80 MB float32) are too big to ship as an exported graph. It reproduces the torch
encoder the speech head was trained on (:mod:`emochat.testing.whisper_torch`) to float32
rounding (tests/voice/test_whisper_numpy.py). BLAS threads are held to
:func:`emochat.core.settings.cpu_threads` while it runs.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
from threadpoolctl import threadpool_limits

from emochat.core.settings import cpu_threads
from emochat.voice.whisper_files import read_encoder_weights, whisper_model_dir

MAX_SECONDS = 30.0
LN_EPS = 1e-5  # torch.nn.functional.layer_norm's default, as the head was trained with


_ERF_P = np.float32(0.3275911)
_ERF_A = tuple(
    np.float32(c) for c in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)
)


def _erf(z: np.ndarray) -> np.ndarray:
    """erf in float32 by Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7, below float32's own
    rounding of the layer outputs): 2.6x faster than scipy.special.erf, which was half of
    the encoder's time."""
    a = np.abs(z)
    t = a * _ERF_P
    t += 1.0
    np.reciprocal(t, out=t)
    poly = t * _ERF_A[0]
    for c in _ERF_A[1:]:
        poly += c
        poly *= t
    a *= a
    np.negative(a, out=a)
    np.exp(a, out=a)
    poly *= a
    np.subtract(1.0, poly, out=poly)
    return np.copysign(poly, z, out=poly)


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, as whisper and torch's default use, on float32."""
    y = _erf(x * np.float32(1 / math.sqrt(2)))
    y += 1.0
    y *= x
    y *= 0.5
    return y


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    c = x - mean
    var = np.mean(c * c, -1, keepdims=True)
    c *= 1.0 / np.sqrt(var + np.float32(LN_EPS))
    c *= gamma
    c += beta
    return c


def _softmax_(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, in place; the max is subtracted first (no overflow)."""
    x -= x.max(-1, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(-1, keepdims=True)
    return x


def _conv_columns(x: np.ndarray, stride: int) -> np.ndarray:
    """(T, C) channel-last input -> (T_out, C*3) im2col columns of a width-3, padding-1
    convolution, ordered (channel, tap) as the (out, C, 3) weight is when flattened."""
    xp = np.pad(x, ((1, 1), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(xp, 3, axis=0)[::stride]  # (T_out, C, 3)
    return win.reshape(win.shape[0], -1)


def _blas_threads(n: int):
    """Hold numpy's BLAS to ``n`` threads while the encoder runs (2 cores: no oversubscription)."""
    return threadpool_limits(limits=n, user_api="blas")


class _Encoder:
    def __init__(self, weights: dict[str, np.ndarray]):
        w = {
            k: np.ascontiguousarray(v, dtype=np.float32)
            for k, v in weights.items()
            if v.dtype != np.int16
        }
        for name in ("conv1", "conv2"):  # (out, C, 3) -> (C*3, out): one matmul per conv
            kernel = w.pop(f"{name}/weight")
            w[f"{name}/weight"] = np.ascontiguousarray(kernel.reshape(kernel.shape[0], -1).T)
        for k in [k for k in w if k.endswith("/weight")]:
            if "linear" in k:  # (out, in) -> (in, out) so that x @ w needs no transpose
                w[k] = np.ascontiguousarray(w[k].T)
        self.w = w
        self.n_heads = int(weights.get("num_heads", np.array(8)))
        self.n_layers = len({k.split("/")[0] for k in w if k.split("/")[0][6:].isdigit()})

    def __call__(self, mel: np.ndarray, max_layer: int | None = None) -> list[np.ndarray]:
        """mel: (80, frames) whisper log-mel -> list of (frames/2, 512), one per layer (+input).

        ``max_layer`` stops after that many blocks (the later states are not computed).
        """
        with _blas_threads(cpu_threads()):
            return self._run(mel, max_layer)

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        y = x @ self.w[name + "/weight"]
        y += self.w[name + "/bias"]
        return y

    def _run(self, mel: np.ndarray, max_layer: int | None) -> list[np.ndarray]:
        w = self.w
        x = np.ascontiguousarray(np.asarray(mel, dtype=np.float32).T)  # (frames, 80)
        x = _gelu(self._linear(_conv_columns(x, 1), "conv1"))
        x = _gelu(self._linear(_conv_columns(x, 2), "conv2"))
        x = x + w["position_encodings/encodings"][: x.shape[0]]
        states = [x]
        n_tok, dim = x.shape
        heads = self.n_heads
        hd = dim // heads
        scale = np.float32(1 / math.sqrt(hd))
        last = self.n_layers if max_layer is None else min(max_layer, self.n_layers)
        for i in range(last):
            p = f"layer_{i}/"
            h = _layer_norm(
                x, w[p + "self_attention/layer_norm/gamma"], w[p + "self_attention/layer_norm/beta"]
            )
            qkv = self._linear(h, p + "self_attention/linear_0")
            # (3, heads, T, hd), contiguous per head: numpy's batched matmul over strided
            # views skipped BLAS (5x slower on numpy 2.4), plain 2-D products do not
            qkv = np.ascontiguousarray(qkv.reshape(n_tok, 3, heads, hd).transpose(1, 2, 0, 3))
            a = np.empty((n_tok, heads, hd), np.float32)
            for j in range(heads):
                scores = (qkv[0, j] * scale) @ qkv[1, j].T  # (T, T)
                a[:, j] = _softmax_(scores) @ qkv[2, j]
            a = a.reshape(n_tok, dim)
            x = x + self._linear(a, p + "self_attention/linear_1")
            h = _layer_norm(x, w[p + "ffn/layer_norm/gamma"], w[p + "ffn/layer_norm/beta"])
            h = _gelu(self._linear(h, p + "ffn/linear_0"))
            x = x + self._linear(h, p + "ffn/linear_1")
            states.append(x)
        if last == self.n_layers:
            states[-1] = _layer_norm(x, w["layer_norm/gamma"], w["layer_norm/beta"])
        return states


@cache
def _encoder(model: str = "base") -> _Encoder:
    return _Encoder(read_encoder_weights(whisper_model_dir(model) / "model.bin"))


@cache
def _mel_extractor():
    from faster_whisper.feature_extractor import FeatureExtractor

    return FeatureExtractor(feature_size=80)


def log_mel(audio: np.ndarray) -> np.ndarray:
    """Whisper log-mel (80, frames) at 100 frames/s of 16 kHz audio, not padded to 30 s."""
    audio = np.asarray(audio, dtype=np.float32)[: int(MAX_SECONDS * 16000)]
    n_frames = max(2, audio.size // 160)
    mel = _mel_extractor()(audio, padding=160)
    return mel[:, :n_frames]


def hidden_states(
    audio: np.ndarray, model: str = "base", max_layer: int | None = None
) -> list[np.ndarray]:
    """Encoder hidden states: input embedding + each block (the last one layer-normed)."""
    return _encoder(model)(log_mel(audio), max_layer)
