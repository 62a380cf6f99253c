"""Peak RSS and wall time of `emochat analyze` on long audio-only files (issue #24).

The issue measured a 2-h WAV at 1.04 GB and a 6-h FLAC at 2.75 GB: the whole track was
held at 16 kHz. Each file here is low-level noise with a 0.5 s tone every 20 s and a
RAVDESS sentence every 5 minutes (so VAD, ASR, prosody, speech emotion and the
aggregator all run), made once with numpy + PyAV and cached in ``--workdir``.
`emochat analyze` runs in a child whose peak RSS comes from wait4's rusage.
``--src`` runs another checkout's code (e.g. the main branch, for the "before" row).
Bounded memory: the peak does not grow with the length.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from common import row

REPO = Path(__file__).resolve().parents[1]
SPEECH = REPO / "../shared/data/ravdess-speech/Actor_01"
SR = 16_000


def make_audio(path: Path, minutes: float) -> None:
    """Write ``minutes`` of noise, tones and a sentence every 5 min, a minute at a time."""
    import av

    from emochat.ingest import load_audio

    sentence = load_audio(sorted(SPEECH.resolve().glob("*.flac"))[0])
    rng = np.random.default_rng(0)
    codec = "flac" if path.suffix == ".flac" else "pcm_s16le"
    tmp = path.with_suffix(".part" + path.suffix)
    with av.open(str(tmp), "w") as out:
        stream = out.add_stream(codec, rate=SR, layout="mono")
        for m in range(int(np.ceil(minutes))):
            n = int(min(60.0, minutes * 60 - m * 60) * SR)
            t = np.arange(n) / SR
            x = rng.normal(0, 0.003, n) + np.where(
                (t % 20) < 0.5, 0.1 * np.sin(2 * np.pi * 440 * t), 0.0
            )
            if m % 5 == 2 and n > 30 * SR + sentence.size:
                x[30 * SR : 30 * SR + sentence.size] += sentence
            pcm = (np.clip(x, -1, 1) * 32767).astype(np.int16)[None]
            frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
            frame.sample_rate = SR
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    tmp.rename(path)


_LAUNCH = """
import os, subprocess, sys
proc = subprocess.Popen([sys.executable, "-m", "emochat", "analyze", *sys.argv[1:], "--quiet"])
_, status, usage = os.wait4(proc.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def run_analyze(media: Path, out_dir: Path, src: Path) -> tuple[int, float, float]:
    """(exit code, wall s, peak RSS MiB) of one `emochat analyze` in a small launcher, so
    the peak is the analysis process's own."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCH, str(media), "-o", str(out_dir)],
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    if done.returncode or not done.stdout.strip():
        print(done.stderr[-2000:], file=sys.stderr)
        return 1, wall, 0.0
    code, kib = map(int, done.stdout.split())
    return code, wall, kib / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("cases", nargs="*", default=["6min.wav", "120min.wav", "360min.flac"])
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/emochat_long_audio"))
    ap.add_argument("--src", type=Path, default=REPO / "src", help="the code to run")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    for case in args.cases:
        media = args.workdir / case
        if not media.exists():
            t0 = time.perf_counter()
            make_audio(media, float(case.split("min")[0]))
            print(f"made {media} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        load = os.getloadavg()[0]
        code, wall, peak = run_analyze(media, args.workdir / f"out_{case}", args.src)
        if code:
            print(f"{case}: emochat analyze failed", file=sys.stderr)
            return 1
        print(
            row(
                f"{case} ({media.stat().st_size / 2**20:.0f} MiB), code {args.src}: "
                f"peak RSS **{peak:.0f} MiB**, wall {wall:.0f} s; load at start {load:.1f}"
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
