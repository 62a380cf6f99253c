"""Stage-by-stage timings of the default pipeline on the real test clips.

Prints one BENCHMARKS.md row per clip: real-time factor (analysis time / media
duration) and each stage's seconds, as the runner's hooks report them (a skipped stage
is marked). One :class:`emochat.Analyzer` serves every clip, as in batch and serve.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from common import peak_rss_mb, row

import emochat
from emochat.core.settings import media_root
from emochat.pipeline import Hooks

DEFAULT_CLIPS = ["single_face.mp4", "WolfgangLanger_Pexels.mp4", "no_face.mp4", "face_noface.mov"]


class StageTimes(Hooks):
    """Each stage's seconds, ``skipped`` when it gave up (no face, no audio, ...)."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def on_stage_end(self, name: str, seconds: float, skipped_reason: str | None) -> None:
        self.parts.append(f"{name} {seconds:.2f} s" + (" (skipped)" if skipped_reason else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "clips", nargs="*", help=f"clips (default: {', '.join(DEFAULT_CLIPS)} in media root)"
    )
    ap.add_argument("--fps", type=float, default=10.0)
    args = ap.parse_args()
    clips = [Path(c) for c in args.clips] or [media_root() / c for c in DEFAULT_CLIPS]
    analyzer = emochat.Analyzer(emochat.AnalyzeOptions(fps=args.fps))
    analyzer.run(clips[0])  # warm-up: model loading
    for clip in clips:
        times = StageTimes()
        t0 = time.perf_counter()
        report = analyzer.run(clip, times).report
        wall = time.perf_counter() - t0
        duration = report.media["duration_s"]
        rtf = f"{wall / duration:.2f}x real time" if duration else "photo"
        print(
            row(
                f"{clip.name} ({duration:.1f} s, --fps {args.fps:g}): {wall:.2f} s = {rtf}; "
                f"{', '.join(times.parts)}; peak RSS {peak_rss_mb():.0f} MiB"
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
