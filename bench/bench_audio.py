"""Voice stages on a 20 s speech clip: VAD + ASR (whisper-base) + prosody + speech emotion.

Issue target: real-time factor <= 0.3 on 2 cores. ``--source espeak`` (default when
espeak-ng is installed): 20 s of varied English sentences synthesized by espeak-ng at
160 wpm; ``--source ravdess``: real speech, RAVDESS held-out actors' clips (21-24) joined
into 20 s -- only two distinct sentences, so whisper's repetition check re-decodes
(a worst case for ASR time). Models are loaded in a warm-up run
(load times reported apart); then ``--runs`` timed runs, the median is the figure.
Prints one BENCHMARKS.md row. ``EMOCHAT_THREADS=1`` runs the models single-threaded
(faster when other processes load the cores).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
from pathlib import Path

import numpy as np
from common import peak_rss_mb, row

from emochat.core.settings import data_root
from emochat.ingest import load_audio

SR = 16_000


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def speech_clip(seconds: float) -> np.ndarray:
    root = data_root() / "ravdess-speech"
    paths = sorted(root.glob("Actor_2[1-4]/03-01-0[1-8]-02-0[12]-01-*.flac"))
    if not paths:
        raise SystemExit(f"RAVDESS not found under {root}")
    rng = np.random.default_rng(0)
    rng.shuffle(paths)
    pieces, n = [], 0
    for p in paths:
        a = load_audio(p)
        pieces.append(a)
        n += a.size
        if n >= seconds * SR:
            break
    return np.concatenate(pieces)[: int(seconds * SR)]


TEXT = (
    "I honestly did not expect the results to come back so quickly. "
    "We spent the whole morning checking every number twice. "
    "When the message finally arrived, everyone in the room started laughing. "
    "Now we have to decide what to do next, and nobody agrees. "
    "Maybe we should wait until tomorrow before we tell anyone about it. "
    "The weather is changing and the trains are running late again."
)


def espeak_clip(seconds: float) -> np.ndarray:
    import shutil
    import subprocess
    import tempfile

    import soundfile as sf
    from scipy.signal import resample_poly

    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SystemExit("espeak-ng not installed: use --source ravdess")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "s.wav"
        subprocess.run([exe, "-v", "en-us", "-s", "160", "-w", str(wav), TEXT], check=True)
        audio, sr = sf.read(str(wav), dtype="float32")
    g = np.gcd(sr, SR)
    audio = resample_poly(audio, SR // g, sr // g).astype(np.float32)
    reps = int(np.ceil(seconds * SR / audio.size))
    return np.tile(audio, reps)[: int(seconds * SR)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--asr-model", default="base")
    ap.add_argument("--source", choices=["espeak", "ravdess"], default=None)
    args = ap.parse_args()
    import shutil

    from emochat.voice import analyze_voice
    from emochat.voice.asr import cpu_threads

    source = args.source or ("espeak" if shutil.which("espeak-ng") else "ravdess")
    audio = espeak_clip(args.seconds) if source == "espeak" else speech_clip(args.seconds)
    dur = audio.size / SR
    t0 = time.perf_counter()
    warm = analyze_voice(audio, asr_model=args.asr_model)
    t_first = time.perf_counter() - t0
    totals, cpus, stages = [], [], []
    for _ in range(args.runs):
        t0, c0 = time.perf_counter(), cpu_s()
        va = analyze_voice(audio, asr_model=args.asr_model)
        totals.append(time.perf_counter() - t0)
        cpus.append(cpu_s() - c0)
        stages.append(va.timings_s)
    best = statistics.median(totals)
    cpu = statistics.median(cpus)
    per_stage = {k: statistics.median(s.get(k, 0.0) for s in stages) for k in stages[0]}
    load = os.getloadavg()[0]
    words = sum(len(u.words) for u in warm.utterances)
    figures = (
        f"{dur:.0f} s {source} speech ({len(warm.utterances)} utterances, {words} words, "
        f"{warm.language}), asr={args.asr_model}, threads={cpu_threads()}: median {best:.2f} s = RTF {best / dur:.3f} "
        f"(" + ", ".join(f"{k} {v:.2f}" for k, v in per_stage.items()) + "); "
        f"CPU time {cpu:.1f} s = {cpu / dur:.3f} CPU-s per s of audio; "
        f"first call incl. model loads {t_first:.1f} s; peak RSS {peak_rss_mb():.0f} MiB; "
        f"load avg {load:.1f}"
    )
    print(row(figures))


if __name__ == "__main__":
    main()
