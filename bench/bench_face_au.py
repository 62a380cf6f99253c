"""Face + landmarks + AU throughput at 640x360, one face (issue 3 target: 60 frames/s, 2 cores).

    python bench/bench_face_au.py [--variant litert|litert-no-iris|all] [--repeat 3]

Frames are decoded once up front, so "face+AU fps" counts tracking, 478 landmarks,
pose and the AU Agent only; "with decode fps" adds PyAV decoding of the same frames.
Prints one markdown table row per clip and variant (best of ``--repeat`` interleaved
runs; CPU ms/frame: the least CPU time of those runs, all threads). The CPU is shared with whatever else runs: quote figures from a quiet machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time

from emochat.core.settings import media_root
from emochat.face import FaceTracker
from emochat.face.au import AUAgent
from emochat.ingest import iter_frames

CLIPS = ("single_face.mp4", "WolfgangLanger_Pexels.mp4")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return f"{platform.system()} {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


VARIANTS = {  # name: FaceTracker arguments (the mediapipe FaceMesh variant went with #28)
    "litert": {},
    "litert-no-iris": {"with_iris": False},
    "litert-no-mtcnn": {"second_detector": None},  # BlazeFace alone, as before #22's MTCNN
    "litert-mtcnn": {"second_detector": "mtcnn"},  # MTCNN as the second detector (#22)
}


def run_once(frames, variant: str, num_threads: int) -> tuple[float, int, float]:
    """Wall seconds, faces seen, CPU seconds (every thread of this process)."""
    tracker = FaceTracker(max_faces=4, num_threads=num_threads, **VARIANTS[variant])
    agent = AUAgent()
    faces = 0
    cpu = time.process_time()
    start = time.perf_counter()
    for frame in frames:
        for obs in tracker.process(frame):
            agent.update(obs)
            faces += 1
    agent.finalize()
    return time.perf_counter() - start, faces, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=(*VARIANTS, "all"), default="all")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    variants = tuple(VARIANTS) if args.variant == "all" else (args.variant,)
    command = "python " + " ".join(sys.argv)
    today = dt.date.today().isoformat()
    print(
        "| command | machine | date | clip | variant | frames | face frames "
        "| face+AU fps | with decode fps | CPU ms/frame |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for clip in CLIPS:
        path = media_root() / clip
        if not path.is_file():
            print(f"skipped {clip}: not found under {media_root()}", file=sys.stderr)
            continue
        t0 = time.perf_counter()
        frames = list(iter_frames(path))
        decode_s = time.perf_counter() - t0
        runs = {v: [] for v in variants}
        for _ in range(args.repeat):  # interleaved, so a busy spell hurts every variant alike
            for variant in variants:
                runs[variant].append(run_once(frames, variant, args.threads))
        for variant in variants:
            best, faces, _ = min(runs[variant])
            cpu = min(r[2] for r in runs[variant])
            n, size = len(frames), f"{frames[0].width}x{frames[0].height}"
            print(
                f"| `{command}` | {machine()} | {today} | {clip} {size} | {variant} | {n} "
                f"| {faces} "
                f"| {n / best:.0f} | {n / (best + decode_s):.0f} | {cpu / n * 1000:.1f} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
