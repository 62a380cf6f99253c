"""Aggregator LLD work on 6 h of frames: tracemalloc peak and time, before/after (issue #24)."""

# tracemalloc peak of the aggregator's LLD work on 6 h of LLD frames (2.16 M), 72 utterances:
# float64 frames + stats per utterance (as before) vs float32 frames + stats once (now)
import time
import tracemalloc

import numpy as np

from emochat.fusion.aggregator import lld_at, lld_stats
from emochat.models.aggregator.features import lld_frames
from emochat.voice.prosody import _COLUMNS, Frames

n = 6 * 3600 * 100
rng = np.random.default_rng(0)
base = {k: rng.normal(size=n).astype(np.float32) for k in _COLUMNS}
t_s = np.arange(n) / 100 + 0.01
for name, dtype, once in (("before", np.float64, False), ("after", np.float32, True)):
    frames = Frames(t_s, {k: v.astype(dtype) for k, v in base.items()})
    held = sum(v.nbytes for v in frames.values.values()) + t_s.nbytes
    tracemalloc.start()
    t0 = time.perf_counter()
    lt, lx = lld_frames(frames)
    stats = lld_stats(lx, np.float64) if once else None
    for u in range(72):
        ft = (u * 300.0 + np.arange(90) / 25).astype(np.float32)
        lld_at(ft, lt, lx, stats)
    cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"{name}: LLD frames held {held / 2**20:.0f} MiB; aggregator LLD work peak {peak / 2**20:.0f} MiB, {time.perf_counter() - t0:.1f} s"
    )
    del frames, lt, lx
