"""Ingest of a long synthetic video in bounded memory (issue: 10 min 1280x720, peak RSS < 1.5 GB).

Generates the clip once (in a child process, so its memory is not counted), then
decodes every frame to RGB and the whole audio track in 30 s chunks, reporting
throughput and this process's peak RSS.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from common import peak_rss_mb, row

from emochat.ingest import iter_audio_chunks, iter_frames, probe


def make_clip(path: Path, minutes: float, width: int, height: int, fps: int) -> None:
    code = (
        "import sys; from emochat.testing.synth import write_media, tone;"
        f"d={minutes * 60};"
        f"write_media(sys.argv[1], d, width={width}, height={height}, fps={fps},"
        " audio=tone(d, amp=0.2))"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=720)
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument(
        "--analysis-fps",
        type=float,
        default=None,
        help="sample frames like the pipeline does (default: decode all)",
    )
    ap.add_argument("--clip", type=Path, default=Path("bench/results/long_720p.mp4"))
    args = ap.parse_args()
    args.clip.parent.mkdir(parents=True, exist_ok=True)
    if not args.clip.exists():
        t0 = time.perf_counter()
        make_clip(args.clip, args.minutes, args.width, args.height, args.fps)
        print(f"generated {args.clip} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    info = probe(args.clip)
    t0 = time.perf_counter()
    n_frames = sum(1 for _ in iter_frames(args.clip, fps=args.analysis_fps))
    t_video = time.perf_counter() - t0
    t0 = time.perf_counter()
    n_samples = sum(chunk.size for chunk in iter_audio_chunks(args.clip))
    t_audio = time.perf_counter() - t0
    figures = (
        f"{info.duration_s / 60:.1f} min {info.width}x{info.height}: {n_frames} frames decoded to RGB "
        f"in {t_video:.1f} s ({n_frames / t_video:.0f} frames/s), audio {n_samples / 16000:.0f} s "
        f"in {t_audio:.1f} s; peak RSS {peak_rss_mb():.0f} MiB"
    )
    print(row(figures))


if __name__ == "__main__":
    main()
