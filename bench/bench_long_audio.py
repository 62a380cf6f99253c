"""Peak RSS and wall time of `emochat analyze` on long audio-only files (issue #24).

The issue measured a 2-h WAV at 1.04 GB and a 6-h FLAC at 2.75 GB: the whole track was
held at 16 kHz. Each file here is low-level noise with a 0.5 s tone every 20 s and a
RAVDESS sentence every 5 minutes (so VAD, ASR, prosody, speech emotion and the
aggregator all run), made once with numpy + PyAV and cached in ``--workdir``.
`emochat analyze` runs in a child whose peak RSS comes from wait4's rusage.
``--src`` runs another checkout's code (e.g. the main branch, for the "before" row).
Bounded memory: the peak does not grow with the length.

``speech<N>min.flac`` cases are *continuous* speech instead: RAVDESS sentences of actors
01-04 one after another, 1 s apart, with an SRT of what they say (the two RAVDESS
statements), analysed with ``--transcript`` so that whisper ASR (hours for hours of
speech on 2 cores) is not run; VAD, prosody, speech emotion, the kept encoder frames and
the aggregator all run on every utterance. Their peaks give the memory slope per hour
of speech.
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


def _encode(out, stream, x: np.ndarray) -> None:
    """Write mono float samples (clipped to [-1, 1]) as 16-bit PCM frames."""
    import av

    pcm = (np.clip(x, -1, 1) * 32767).astype(np.int16)[None]
    frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
    frame.sample_rate = SR
    for packet in stream.encode(frame):
        out.mux(packet)


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
            _encode(out, stream, x)
        for packet in stream.encode(None):
            out.mux(packet)
    tmp.rename(path)


STATEMENTS = {"01": "Kids are talking by the door.", "02": "Dogs are sitting by the door."}


def _srt_time(t: float) -> str:
    ms = int(round(t * 1000))
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def make_speech(path: Path, minutes: float, gap_s: float = 1.0) -> None:
    """``minutes`` of RAVDESS sentences (actors 01-04 in turn, looped) ``gap_s`` apart
    over low noise, and ``path``.srt with each sentence's text and times."""
    import av

    from emochat.ingest import load_audio

    files = sorted(
        f for a in range(1, 5) for f in (SPEECH.parent / f"Actor_{a:02d}").resolve().glob("*.flac")
    )
    rng = np.random.default_rng(1)
    tmp = path.with_suffix(".part" + path.suffix)
    cues, t, total, i = [], 0.0, minutes * 60, 0
    with av.open(str(tmp), "w") as out:
        stream = out.add_stream("flac", rate=SR, layout="mono")
        while t < total - 6:
            f = files[i % len(files)]
            i += 1
            x = load_audio(f)
            cues.append((t, t + x.size / SR, STATEMENTS[f.name.split("-")[4]]))
            x = np.concatenate([x, np.zeros(int(gap_s * SR), np.float32)])
            x = x + rng.normal(0, 0.002, x.size)
            t += x.size / SR
            _encode(out, stream, x)
        for packet in stream.encode(None):
            out.mux(packet)
    srt = "\n".join(
        f"{n}\n{_srt_time(a)} --> {_srt_time(b)}\n{text}\n"
        for n, (a, b, text) in enumerate(cues, 1)
    )
    path.with_suffix(".srt").write_text(srt, encoding="utf-8")
    tmp.rename(path)


_LAUNCH = """
import os, subprocess, sys
proc = subprocess.Popen([sys.executable, "-m", "emochat", "analyze", *sys.argv[1:], "--quiet"])
_, status, usage = os.wait4(proc.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def run_analyze(
    media: Path, out_dir: Path, src: Path, extra: tuple[str, ...] = ()
) -> tuple[int, float, float]:
    """(exit code, wall s, peak RSS MiB) of one `emochat analyze` in a small launcher, so
    the peak is the analysis process's own."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCH, str(media), "-o", str(out_dir), *extra],
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


def _summary(report: Path) -> str:
    """Segments, those with an aggregator token, and the voice stage's seconds."""
    import json

    r = json.loads(report.read_text(encoding="utf-8"))
    tokens = sum(1 for s in r["segments"] if (s["evidence"].get("voice") or {}).get("aggregator"))
    t = r["timings_s"]
    return (
        f"{len(r['segments'])} segments, {tokens} aggregator tokens; stages s: voice "
        f"{t.get('voice', 0):.0f}, aggregator {t.get('aggregator', 0):.0f}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("cases", nargs="*", default=["6min.wav", "120min.wav", "360min.flac"])
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/emochat_long_audio"))
    ap.add_argument("--src", type=Path, default=REPO / "src", help="the code to run")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    for case in args.cases:
        media = args.workdir / case
        speech = case.startswith("speech")
        if not media.exists():
            t0 = time.perf_counter()
            make = make_speech if speech else make_audio
            make(media, float(case.removeprefix("speech").split("min")[0]))
            print(f"made {media} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        extra = ("--transcript", str(media.with_suffix(".srt"))) if speech else ()
        load = os.getloadavg()[0]
        out_dir = args.workdir / f"out_{case}"
        code, wall, peak = run_analyze(media, out_dir, args.src, extra)
        if code:
            print(f"{case}: emochat analyze failed", file=sys.stderr)
            return 1
        print(
            row(
                f"{case} ({media.stat().st_size / 2**20:.0f} MiB), code {args.src}: "
                f"peak RSS **{peak:.0f} MiB**, wall {wall:.0f} s; load at start {load:.1f}; "
                f"{_summary(out_dir / 'report.json')}"
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
