"""Stage-by-stage timings of `emochat.analyze` on the real test clips.

Prints one BENCHMARKS.md row per clip: real-time factor (analysis time / media
duration) and each stage's seconds, from the report's own ``timings_s``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from common import peak_rss_mb, row

import emochat
from emochat.core.settings import media_root
from emochat.options import AnalyzeOptions

DEFAULT_CLIPS = ["single_face.mp4", "WolfgangLanger_Pexels.mp4", "no_face.mp4", "face_noface.mov"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "clips", nargs="*", help=f"clips (default: {', '.join(DEFAULT_CLIPS)} in media root)"
    )
    ap.add_argument("--fps", type=float, default=10.0)
    args = ap.parse_args()
    clips = [Path(c) for c in args.clips] or [media_root() / c for c in DEFAULT_CLIPS]
    emochat.analyze(clips[0], options=AnalyzeOptions(fps=args.fps))  # warm-up: model loading
    for clip in clips:
        t0 = time.perf_counter()
        report = emochat.analyze(clip, options=AnalyzeOptions(fps=args.fps))
        wall = time.perf_counter() - t0
        duration = report.media["duration_s"]
        stages = ", ".join(f"{k} {v:.2f} s" for k, v in report.timings_s.items() if k != "total")
        rtf = f"{wall / duration:.2f}x real time" if duration else "photo"
        print(
            row(
                f"{clip.name} ({duration:.1f} s, --fps {args.fps:g}): {wall:.2f} s = {rtf}; "
                f"{stages}; peak RSS {peak_rss_mb():.0f} MiB"
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
