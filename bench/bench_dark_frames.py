"""The face stage on frames darkened on purpose (#22: dim light): faces found, landmark error.

    python bench/bench_dark_frames.py                  # both measures
    python bench/bench_dark_frames.py --only found     # or --only landmarks

Darkening multiplies a frame's pixels by a factor f (1/8 ... 1/32: mean grey ~14 ... ~3
on these clips), optionally with shot noise (Poisson at a quarter of the signal's
photon count) and read noise (sigma 1 grey level) as a dim camera adds; the noise is
seeded, so a run repeats.

* found: the first 3 frames at 1 frame/s of the 7 talking clips, the 4 conversation
  clips (two faces each), single_face.mp4, WolfgangLanger_Pexels.mp4 and no_face.mp4
  (none), each as a photo (``FaceTracker(static_image_mode=True)``): faces found of the
  51 there, and faces found beyond the known count (false).
* landmarks: 3 s at 10 frames/s of the 7 talking clips and single_face.mp4 through a
  video tracker, at full light and darkened: the mean distance of the mesh's 478
  landmarks from their full-light positions, in % of the eye distance (33-263), and the
  frames where the darkened run lost the face.

Run it on two commits to compare them (BENCHMARKS.md, "Dark frames").
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np
from common import row

from emochat.core.settings import media_root
from emochat.face.tracker import FaceTracker
from emochat.ingest.video import Frame, iter_frames

FOUND_FACTORS = (1.0, 1 / 8, 1 / 16, 1 / 32)
LANDMARK_FACTORS = (0.5, 0.33, 0.25, 0.125, 0.0625)


def darken(rgb: np.ndarray, f: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """``rgb`` at ``f`` of its light; with ``rng``, shot and read noise added."""
    x = rgb.astype(np.float32) * f
    if rng is not None:
        x = rng.poisson(np.maximum(x, 0) * 4) / 4 + rng.normal(0, 1.0, x.shape)
    return np.clip(np.round(x), 0, 255).astype(np.uint8)


def found() -> None:
    root = media_root()
    clips = [(p, 1) for p in sorted((root / "talking").glob("*.mp4"))]
    clips += [(p, 2) for p in sorted((root / "conversation").iterdir())]
    clips += [(root / "single_face.mp4", 1), (root / "WolfgangLanger_Pexels.mp4", 1)]
    clips += [(root / "no_face.mp4", 0)]
    frames = []
    for path, n in clips:
        for i, frame in enumerate(iter_frames(path, fps=1.0)):
            if i >= 3:
                break
            frames.append((n, frame.rgb))
    rng = np.random.default_rng(0)
    tracker = FaceTracker(static_image_mode=True)
    for f in FOUND_FACTORS:
        for noisy in (False, True) if f < 1 else (False,):
            hits = expected = false = 0
            for n, rgb in frames:
                tracker.reset()
                got = len(tracker.process(Frame(0, 0.0, darken(rgb, f, rng if noisy else None))))
                hits, expected, false = hits + min(got, n), expected + n, false + max(0, got - n)
            print(
                row(
                    f"found, light 1/{1 / f:.0f}{' + noise' if noisy else ''}: "
                    f"{hits}/{expected} faces, {false} false"
                )
            )


def _landmarks(frames: list[Frame], f: float) -> list[np.ndarray | None]:
    tracker = FaceTracker()
    out = []
    for frame in frames:
        rgb = frame.rgb if f == 1 else darken(frame.rgb, f)
        faces = tracker.process(Frame(frame.index, frame.t_s, rgb))
        out.append(faces[0].landmarks[:, :2].copy() if faces else None)
    return out


def landmarks() -> None:
    root = media_root()
    clips = [*sorted((root / "talking").glob("*.mp4")), root / "single_face.mp4"]
    runs = []
    for path in clips:
        frames = [fr for fr in iter_frames(path, fps=10) if fr.t_s < 3]
        runs.append((frames, _landmarks(frames, 1.0)))
    for f in LANDMARK_FACTORS:
        errors, lost, seen, grey = [], 0, 0, []
        for frames, full in runs:
            grey.append(cv2.cvtColor(darken(frames[0].rgb, f), cv2.COLOR_RGB2GRAY).mean())
            for a, b in zip(full, _landmarks(frames, f), strict=True):
                if a is None:
                    continue
                seen += 1
                if b is None:
                    lost += 1
                    continue
                errors.append(np.linalg.norm(a - b, axis=1).mean() / np.linalg.norm(a[33] - a[263]))
        print(
            row(
                f"landmarks, light {f:.3f} (mean grey {np.mean(grey):.0f}): error "
                f"{100 * np.mean(errors):.2f}% of the eye distance (median "
                f"{100 * np.median(errors):.2f}%), lost {lost}/{seen} frames"
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("found", "landmarks"))
    args = parser.parse_args()
    if args.only != "landmarks":
        found()
    if args.only != "found":
        landmarks()


if __name__ == "__main__":
    main()
