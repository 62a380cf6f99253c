"""A long synthetic video through the full default pipeline (`emochat analyze`): time and memory.

Issue 11 asks that a 1-hour video analyses in bounded memory. The clip loops
single_face.mp4's face scaled to 320 px at a low frame rate, with speech (24
RAVDESS sentences of a training actor, 0.5 s apart, looped) for ``--minutes``; it is made once in a child process (its memory is not counted).
`emochat analyze` then runs in a child of its own, whose RSS is sampled every
few seconds and whose peak comes from wait4's rusage. Compare a short and a long
run: bounded memory means the peak does not grow with the length.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from common import row

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "../shared/media/single_face.mp4"
SPEECH = REPO / "../shared/data/ravdess-speech/Actor_01"


def make_clip(path: Path, minutes: float, fps: int, max_side: int) -> None:
    """Loop the source clip's frames and audio for ``minutes`` (in a child process)."""
    code = f"""
import sys, numpy as np
from emochat.ingest import iter_frames, load_audio
from emochat.testing.synth import even_sized, write_media
src, out = sys.argv[1], sys.argv[2]
frames = even_sized([f.rgb for f in iter_frames(src, fps={fps}, max_side={max_side})])
h, w = frames[0].shape[:2]
gap = np.zeros(8000, np.float32)
loop = np.concatenate([x for f in sys.argv[3:] for x in (load_audio(f), gap)])
duration = {minutes} * 60
n = int(np.ceil(duration * 16000 / loop.size))
audio = np.tile(loop, n)[: int(duration * 16000)]
write_media(out, duration, width=w, height=h, fps={fps}, images=frames, audio=audio)
"""
    speech = sorted(str(f) for f in SPEECH.resolve().glob("*.flac"))[:24]
    subprocess.run(
        [sys.executable, "-c", code, str(SOURCE.resolve()), str(path), *speech], check=True
    )


def _rss_mib(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_analyze(clip: Path, out_dir: Path, every_s: float) -> tuple[int, float, float, list]:
    """(exit code, wall s, peak RSS MiB, [(t, rss MiB)]) of one `emochat analyze`."""
    cmd = [sys.executable, "-m", "emochat", "analyze", str(clip), "-o", str(out_dir), "--quiet"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    samples: list[tuple[float, float]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(every_s):
            rss = _rss_mib(proc.pid)
            if rss is not None:
                samples.append((round(time.perf_counter() - t0, 1), round(rss, 1)))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, wall, usage.ru_maxrss / 1024, samples


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--fps", type=int, default=10, help="frame rate of the synthetic clip")
    ap.add_argument("--max-side", type=int, default=320)
    ap.add_argument("--workdir", type=Path, default=Path("bench/results/long_video"))
    ap.add_argument("--sample-every-s", type=float, default=5.0)
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    clip = args.workdir / f"loop_{args.minutes:g}min_{args.max_side}px_{args.fps}fps.mp4"
    if not clip.exists():
        t0 = time.perf_counter()
        make_clip(clip, args.minutes, args.fps, args.max_side)
        print(f"generated {clip} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    out_dir = args.workdir / f"out_{args.minutes:g}min"
    load = os.getloadavg()[0]
    code, wall, peak, samples = run_analyze(clip, out_dir, args.sample_every_s)
    (args.workdir / f"rss_{args.minutes:g}min.json").write_text(json.dumps(samples))
    if code != 0:
        print(f"emochat analyze exited {code}", file=sys.stderr)
        return 1
    report = out_dir / "report.json"
    data = json.loads(report.read_text())
    duration = data["media"]["duration_s"]
    quarters = (
        [samples[int(len(samples) * q) - 1][1] for q in (0.25, 0.5, 0.75, 1.0)] if samples else []
    )
    stages = ", ".join(
        f"{k} {v:.0f}" for k, v in data["timings_s"].items() if k != "total" and v >= 1
    )
    figures = (
        f"{duration / 60:.1f} min {data['media']['width']}x{data['media']['height']} "
        f"{args.fps} fps + audio: wall {wall:.0f} s ({wall / duration:.2f}x real time; "
        f"stages s: {stages}); peak RSS {peak:.0f} MiB (RSS at 1/4, 1/2, 3/4, end of run: "
        f"{', '.join(f'{q:.0f}' for q in quarters)} MiB); report.json "
        f"{report.stat().st_size / 2**20:.1f} MiB, {len(data['segments'])} segments, "
        f"warnings: {', '.join(sorted({w['code'] for w in data['warnings']})) or '-'}; "
        f"load at start {load:.1f}"
    )
    print(row(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
