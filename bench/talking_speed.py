"""Speed on talking footage (issue 25): a 60 s talking head end to end, and the face stage.

Builds, in a cache folder (not committed), a ``--seconds`` long talking-head clip from
``../shared/media/talking`` (every clip scaled to ``--side`` px square at 25 fps, their
speech resampled to 16 kHz, concatenated in name order and looped until long enough), then:

1. ``fresh``: ``emochat analyze CLIP -o DIR --quiet`` in a new process (model loading
   included), wall time and the report's ``timings_s``;
2. ``warm``: the same clip through one ``Analyzer`` whose models were loaded by a first
   run (the batch/serve path), wall time, ``timings_s``, and a cProfile of that run cut
   into decode, face detection, landmarks, expression, VAD, ASR, whisper encoder (speech
   head), text encoder, aggregator and prosody (opensmile);
3. ``face``: the face stage alone (``FaceStage`` at the default options) on a 640x360 and a
   720x720 talking head: frames analysed per second of wall time.

Each is repeated ``--repeat`` times; the median is printed (this machine is shared, so
the load average at the start is printed too). Targets: warm <= 0.5x real time, fresh
<= 1.0x, face >= 30 frames/s.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import row

REPO = Path(__file__).resolve().parents[1]
TALKING = REPO / "../shared/media/talking"
CACHE = Path(os.environ.get("EMOCHAT_BENCH_CACHE", "/tmp/emochat-bench-talking"))
RATE = 16_000
FPS = 25


def build_clip(path: Path, seconds: float, width: int, height: int) -> Path:
    """The talking clips, each scaled (aspect kept, padded) to width x height at 25 fps
    and their audio at 16 kHz mono, end to end and looped to ``seconds``."""
    import av
    import numpy as np

    from emochat.ingest import iter_frames, load_audio

    if path.exists():
        return path
    sources = sorted(TALKING.resolve().glob("*.mp4"))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part.mp4")
    n_frames, n_samples = int(round(seconds * FPS)), int(round(seconds * RATE))
    with av.open(str(tmp), "w") as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "veryfast", "crf": "20"}
        audio = out.add_stream("aac", rate=RATE, layout="mono")
        written, chunks, got = 0, [], 0
        while written < n_frames or got < n_samples:
            for src in sources:
                if written >= n_frames and got >= n_samples:
                    break
                wave = load_audio(src, RATE)
                frames = list(iter_frames(src, fps=FPS, max_side=None))
                # the clip's picture and speech stay together: as many frames as its audio
                keep = min(len(frames), int(len(wave) / RATE * FPS))
                for f in frames[:keep]:
                    if written >= n_frames:
                        break
                    frame = av.VideoFrame.from_ndarray(f.rgb, format="rgb24")
                    frame = frame.reformat(width=width, height=height, format="yuv420p")
                    frame.pts = written
                    out.mux(video.encode(frame))
                    written += 1
                part = wave[: int(keep / FPS * RATE)]
                chunks.append(part)
                got += len(part)
        out.mux(video.encode(None))
        wave = np.concatenate(chunks)[:n_samples].astype(np.float32)
        block = 1024
        for i in range(0, len(wave), block):
            frame = av.AudioFrame.from_ndarray(
                wave[None, i : i + block], format="fltp", layout="mono"
            )
            frame.sample_rate, frame.pts = RATE, i
            out.mux(audio.encode(frame))
        out.mux(audio.encode(None))
    tmp.rename(path)
    return path


def scaled_head(path: Path, source: Path, width: int, height: int) -> Path:
    """One talking clip (video only) scaled to width x height (stretched, as a resize does)."""
    import av

    from emochat.ingest import iter_frames

    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part.mp4")
    with av.open(str(tmp), "w") as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "veryfast", "crf": "20"}
        for i, f in enumerate(iter_frames(source, fps=FPS, max_side=None)):
            frame = av.VideoFrame.from_ndarray(f.rgb, format="rgb24")
            frame = frame.reformat(width=width, height=height, format="yuv420p")
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
    tmp.rename(path)
    return path


# -- profile buckets: (bucket, file fragment, function name or None for any) --------------
# cProfile's cumulative time of the outermost call that matches; the first match wins
BUCKETS = [
    ("decode (video frames)", "ingest/video.py", "iter_frames"),
    ("decode (audio)", "ingest/audio.py", "load_audio"),
    ("face detection", "face/detector.py", "find"),
    ("face detection (confirm)", "face/detector.py", "confirm_face"),
    ("landmarks", "face/landmarker.py", "run"),
    ("expression", "face/expression.py", None),
    ("AU agent", "face/au/agent.py", None),
    ("VAD (silero)", "voice/vad.py", None),
    ("ASR (faster-whisper)", "voice/asr.py", None),
    ("whisper encoder (speech head)", "voice/whisper_encoder.py", None),
    ("speech emotion head", "voice/speech_emotion.py", None),
    ("prosody (opensmile)", "voice/prosody.py", None),
    ("text encoder", "text/", None),
    ("aggregator", "fusion/aggregator", None),
    ("fusion/segments/cues", "fusion/", None),
    ("reasoner", "reasoning/", None),
    ("report", "report/", None),
]


def profile_breakdown(prof: cProfile.Profile) -> dict[str, float]:
    """Seconds per bucket: the cumulative time of each matching function that no other
    matching function of the same bucket calls (so nested calls are not counted twice)."""
    stats = pstats.Stats(prof, stream=io.StringIO())
    table = stats.stats  # (file, line, fn) -> (cc, nc, tt, ct, callers)
    out: dict[str, float] = {}
    for bucket, fragment, fn in BUCKETS:

        def hit(key, fragment=fragment, fn=fn):
            return fragment in key[0].replace("\\", "/") and (fn is None or key[2] == fn)

        keys = [k for k in table if hit(k)]
        total = 0.0
        for k in keys:
            callers = table[k][4]
            if any(hit(c) for c in callers):
                continue  # nested: its caller in this bucket already counts it
            total += table[k][3]
        out[bucket] = total
    return out


def timed_fresh(clip: Path, out_dir: Path) -> tuple[float, dict]:
    cmd = [sys.executable, "-m", "emochat", "analyze", str(clip), "-o", str(out_dir), "--quiet"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - t0
    report = json.loads((out_dir / "report.json").read_text())
    return wall, report


def _forget_words() -> None:
    """Empty the E5 encoder's memo of word vectors, so that a repeat of the same clip pays
    for its words as a new clip would (words shared with earlier clips would not)."""
    from emochat.fusion.aggregator import _e5

    memo = getattr(_e5(), "_memo", None)  # None: a version without the memo
    if memo is not None:
        memo.clear()


def warm_runs(clip: Path, repeat: int, profile: bool) -> tuple[list[float], list[dict], dict]:
    from emochat.api import Analyzer

    analyzer = Analyzer()
    analyzer.run(clip)  # loads every model the clip needs
    walls, timings = [], []
    breakdown: dict[str, float] = {}
    for _ in range(repeat):
        _forget_words()
        t0 = time.perf_counter()
        ctx = analyzer.run(clip)
        walls.append(time.perf_counter() - t0)
        timings.append(ctx.report.timings_s)
    if profile:
        _forget_words()
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        analyzer.run(clip)
        prof.disable()
        breakdown = profile_breakdown(prof)
        breakdown["total (profiled run)"] = time.perf_counter() - t0
        if os.environ.get("EMOCHAT_BENCH_PSTATS"):
            prof.dump_stats(os.environ["EMOCHAT_BENCH_PSTATS"])
    return walls, timings, breakdown


def face_fps(clip: Path, repeat: int) -> tuple[float, int]:
    """Frames analysed per wall second by the face stage at the default options."""
    from emochat.face.stage import FaceStage
    from emochat.ingest import probe
    from emochat.options import AnalyzeOptions
    from emochat.pipeline.contract import AnalysisContext
    from emochat.report.model import Report

    stage = FaceStage()
    rates, n = [], 0
    for i in range(repeat + 1):
        media = probe(clip)
        ctx = AnalysisContext(clip, AnalyzeOptions(), media, Report(media=media.to_dict()))
        t0 = time.perf_counter()
        stage.run(ctx)
        wall = time.perf_counter() - t0
        from emochat.face.au import FaceAnalysis

        n = ctx.get(FaceAnalysis).frames_processed
        if i:  # the first run loads the models
            rates.append(n / wall)
    return statistics.median(rates), n


def median_timings(timings: list[dict]) -> dict[str, float]:
    keys = timings[0].keys()
    return {k: statistics.median(t.get(k, 0.0) for t in timings) for k in keys}


def fmt_timings(t: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in t.items() if k != "total" and v >= 0.005)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--side", type=int, default=720, help="the talking clip's width and height")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", choices=("fresh", "warm", "face"), action="append")
    ap.add_argument("--no-profile", action="store_true")
    args = ap.parse_args()
    only = set(args.only or ("fresh", "warm", "face"))
    clip = build_clip(
        CACHE / f"talking_{args.seconds:g}s_{args.side}.mp4", args.seconds, args.side, args.side
    )
    print(f"clip {clip}; load average at start {os.getloadavg()[0]:.1f}", file=sys.stderr)
    if "fresh" in only:
        walls, reports = [], []
        for i in range(args.repeat):
            wall, report = timed_fresh(clip, CACHE / f"out_fresh_{i}")
            walls.append(wall)
            reports.append(report)
            print(f"  fresh {i}: {wall:.1f} s", file=sys.stderr)
        wall = statistics.median(walls)
        duration = reports[0]["media"]["duration_s"]
        t = median_timings([r["timings_s"] for r in reports])
        print(
            row(
                f"fresh `emochat analyze`, {duration:.0f} s {args.side}x{args.side} talking head: "
                f"median wall {wall:.1f} s = **{wall / duration:.2f}x real time** "
                f"(runs {', '.join(f'{w:.1f}' for w in walls)}; target 1.0x); "
                f"report timings_s: {fmt_timings(t)}; load at start {os.getloadavg()[0]:.1f}"
            )
        )
    if "warm" in only:
        load = os.getloadavg()[0]
        walls, timings, breakdown = warm_runs(clip, args.repeat, not args.no_profile)
        wall = statistics.median(walls)
        duration = args.seconds
        print(
            row(
                f"warm `Analyzer.run` (models loaded), {duration:.0f} s {args.side}x{args.side} "
                f"talking head: median wall {wall:.1f} s = **{wall / duration:.2f}x real time** "
                f"(runs {', '.join(f'{w:.1f}' for w in walls)}; target 0.5x); report timings_s: "
                f"{fmt_timings(median_timings(timings))}; load at start {load:.1f}"
            )
        )
        if breakdown:
            print(
                "cProfile (one warm run, profiler overhead included), s: "
                + ", ".join(f"{k} {v:.2f}" for k, v in breakdown.items())
            )
    if "face" in only:
        load = os.getloadavg()[0]
        source = TALKING.resolve() / "retalking_4.mp4"  # 6.6 s, 30 fps, one face
        parts = []
        for w, h in ((640, 360), (720, 720)):
            clip = scaled_head(CACHE / f"head_{w}x{h}.mp4", source, w, h)
            rate, n = face_fps(clip, args.repeat)
            parts.append(f"{w}x{h}: **{rate:.0f} frames/s** ({n} frames analysed)")
        print(
            row(
                f"face stage alone (default options: fps 10, zoom views), retalking_4 scaled: "
                f"{'; '.join(parts)}; target 30 each; load at start {load:.1f}"
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
