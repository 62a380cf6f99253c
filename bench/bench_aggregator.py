"""Added time of the Correlation Aggregator per speech segment, on RAVDESS held-out clips.

The voice stage runs as in the pipeline (ASR, prosody, speech model) with the
aggregator's ``keep_frames``; then, per utterance, the aggregator's own work is timed:
premixing the encoder frames (inside the voice stage), the words' e5 vectors, the LLD
lookup and the cross-attention forward pass. Prints one BENCHMARKS.md row.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from common import row

from emochat.data.corpora import ravdess
from emochat.ingest import load_audio


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clips", type=int, default=20)
    args = ap.parse_args()
    from emochat.fusion.aggregator_stage import segment_inputs, shipped_model
    from emochat.voice import analyze_voice

    model = shipped_model()
    df = ravdess.load("test").iloc[:: max(1, 240 // args.clips)][: args.clips]
    reduce_s, stage_s = [], []

    def timed_reduce(frames):
        t0 = time.perf_counter()
        out = model.reduce_frames(frames)
        reduce_s.append(time.perf_counter() - t0)
        return out

    analyze_voice(load_audio(df["path"].iloc[0]), keep_frames=model.reduce_frames)  # warm-up
    segments = 0
    for path in df["path"]:
        voice = analyze_voice(load_audio(path), keep_frames=timed_reduce)
        t0 = time.perf_counter()
        items = [it for it in segment_inputs(voice, voice.encoder_frames) if it is not None]
        model.predict(items)
        stage_s.append(time.perf_counter() - t0)
        segments += len(items)
    per_segment_ms = 1000 * (sum(stage_s) + sum(reduce_s)) / max(1, segments)
    load = os.getloadavg()[0]
    print(
        row(
            f"aggregator added time {per_segment_ms:.1f} ms per segment "
            f"(median stage {1000 * statistics.median(stage_s):.1f} ms, premix "
            f"{1000 * statistics.median(reduce_s):.1f} ms), {segments} segments of "
            f"{len(df)} RAVDESS held-out clips, load {load:.1f}"
        )
    )


if __name__ == "__main__":
    main()
