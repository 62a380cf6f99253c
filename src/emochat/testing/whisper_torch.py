"""The whisper-base encoder in torch: the reference :mod:`emochat.voice.whisper_encoder`
(numpy, what analysis runs) is checked against.

This was the run-time encoder until analysis dropped torch (issue #28); the speech
emotion head and the Correlation Aggregator were trained on its states, so the numpy
encoder must reproduce them. Same weights (the CTranslate2 model.bin), same log-mel, no
30 s padding, every layer's output. Needs torch (the ``voice``/``train`` extras).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from emochat.voice.whisper_encoder import log_mel
from emochat.voice.whisper_files import read_encoder_weights, whisper_model_dir


class _Encoder:
    def __init__(self, weights: dict[str, np.ndarray]):
        import torch

        self.torch = torch
        t = {
            k: torch.from_numpy(np.asarray(v, dtype=np.float32).copy())
            for k, v in weights.items()
            if v.dtype != np.int16
        }
        self.w = t
        self.n_heads = int(weights.get("num_heads", np.array(8)))
        self.n_layers = len({k.split("/")[0] for k in t if k.split("/")[0][6:].isdigit()})

    def __call__(self, mel: np.ndarray, max_layer: int | None = None) -> list[np.ndarray]:
        """mel: (80, frames) whisper log-mel -> list of (frames/2, 512), one per layer (+input).

        ``max_layer`` stops after that many blocks (the later states are not computed).
        """
        from emochat.voice.asr import cpu_threads

        torch = self.torch
        saved = torch.get_num_threads()
        torch.set_num_threads(cpu_threads())
        try:
            return self._run(mel, max_layer)
        finally:
            torch.set_num_threads(saved)

    def _run(self, mel: np.ndarray, max_layer: int | None) -> list[np.ndarray]:
        torch = self.torch
        F = torch.nn.functional
        w = self.w
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(mel, dtype=np.float32))[None]
            x = F.gelu(F.conv1d(x, w["conv1/weight"], w["conv1/bias"], padding=1))
            x = F.gelu(F.conv1d(x, w["conv2/weight"], w["conv2/bias"], stride=2, padding=1))
            x = x[0].T
            x = x + w["position_encodings/encodings"][: x.shape[0]]
            states = [x]
            n_tok, dim = x.shape
            hd = dim // self.n_heads
            last = self.n_layers if max_layer is None else min(max_layer, self.n_layers)
            for i in range(last):
                p = f"layer_{i}/"
                h = F.layer_norm(
                    x,
                    (dim,),
                    w[p + "self_attention/layer_norm/gamma"],
                    w[p + "self_attention/layer_norm/beta"],
                )
                qkv = F.linear(
                    h,
                    w[p + "self_attention/linear_0/weight"],
                    w[p + "self_attention/linear_0/bias"],
                )
                q, k, v = qkv.view(n_tok, 3, self.n_heads, hd).permute(1, 2, 0, 3)
                a = F.scaled_dot_product_attention(q[None], k[None], v[None])[0]
                a = a.permute(1, 0, 2).reshape(n_tok, dim)
                x = x + F.linear(
                    a,
                    w[p + "self_attention/linear_1/weight"],
                    w[p + "self_attention/linear_1/bias"],
                )
                h = F.layer_norm(
                    x, (dim,), w[p + "ffn/layer_norm/gamma"], w[p + "ffn/layer_norm/beta"]
                )
                h = F.gelu(F.linear(h, w[p + "ffn/linear_0/weight"], w[p + "ffn/linear_0/bias"]))
                x = x + F.linear(h, w[p + "ffn/linear_1/weight"], w[p + "ffn/linear_1/bias"])
                states.append(x)
            if last == self.n_layers:
                states[-1] = F.layer_norm(x, (dim,), w["layer_norm/gamma"], w["layer_norm/beta"])
            return [s.numpy() for s in states]


@cache
def _encoder(model: str = "base") -> _Encoder:
    return _Encoder(read_encoder_weights(whisper_model_dir(model) / "model.bin"))


def hidden_states(
    audio: np.ndarray, model: str = "base", max_layer: int | None = None
) -> list[np.ndarray]:
    """Encoder hidden states as the torch encoder computes them (same contract as
    :func:`emochat.voice.whisper_encoder.hidden_states`)."""
    return _encoder(model)(log_mel(audio), max_layer)
