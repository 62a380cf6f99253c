"""Hostile and careless inputs (issue 24), run through the real CLI with memory and time
measured per case.

Each case writes its inputs under a folder and names an ``emochat`` command line. It
must end in a clear error (non-zero exit, the last stderr line names the problem) or a
valid result (exit 0 and the case's own checks), with no traceback, within its time
limit and :data:`MAX_RSS_MB` of peak memory. The test (tests/testing/test_adversarial.py)
and the bench (bench/bench_adversarial.py) run the same cases.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from emochat.testing.synth import huge_png, tone, write_media

MAX_RSS_MB = 1536.0
"""Peak resident memory any case may take (the largest process, batch workers included)."""
SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "single_face.mp4"
"""A 2.4-s clip with a face and no speech (per ``analyze``)."""


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], list[str]]
    """Writes the inputs under the folder; returns the arguments after ``emochat``."""
    expect: str
    """``error`` (non-zero exit) or ``ok`` (exit 0)."""
    says: str = ""
    """Text the error's last stderr line, or the output, must hold."""
    check: Callable[[Path, str], list[str]] | None = None
    """Further problems with a successful run, from its folder and stdout."""
    time_limit_s: float = 30.0
    stdin: str | None = None
    """A file (under the folder) fed to stdin."""


@dataclass
class Outcome:
    case: str
    exit_code: int | None
    seconds: float
    peak_rss_mb: float
    message: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """What the case ended in, in a few words (the bench table's outcome column)."""
        said = "ok" if self.exit_code == 0 else f"exit {self.exit_code}: {self.message}"
        return f"**FAIL** ({'; '.join(self.problems)}): {said}" if self.problems else said


# ---------------------------------------------------------------------------- inputs


def _write(path: Path, data: bytes | str) -> Path:
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path


def _analyze(media: Path | str, *extra: str | Path) -> list[str]:
    return ["analyze", str(media), *map(str, extra), "-q", "--fps", "5"]


def _with_transcript(d: Path, name: str, data: bytes | str) -> list[str]:
    return _analyze(SAMPLE, "--transcript", _write(d / name, data), "-o", d / "out")


def _srt_of(d: Path, name: str, n_bytes: int) -> list[str]:
    """``n_bytes`` of well-formed cues, all inside the sample clip, written in a blink."""
    block = "1\n00:00:00,500 --> 00:00:01,000\nsome words in a long subtitle file\n\n"
    return _with_transcript(d, name, block * (n_bytes // len(block)))


def _cut(path: Path, keep: float = 0.5) -> Path:
    path.write_bytes(path.read_bytes()[: int(path.stat().st_size * keep)])
    return path


def _cut_mp4(d: Path) -> list[str]:
    clip = write_media(
        d / "cut.mp4", 4.0, audio=tone(4.0), container_options={"movflags": "faststart"}
    )
    return _analyze(_cut(clip), "-o", d / "out")


def _cut_m4a(d: Path) -> list[str]:
    clip = write_media(
        d / "cut.m4a",
        video=False,
        audio=tone(6.0),
        audio_codec="aac",
        container_options={"movflags": "faststart"},
    )
    return _analyze(_cut(clip), "-o", d / "out")


def _cut_jpeg(d: Path) -> list[str]:
    import cv2
    import numpy as np

    photo = d / "cut.jpg"
    cv2.imwrite(str(photo), np.random.default_rng(0).integers(0, 255, (360, 480, 3), np.uint8))
    return _analyze(_cut(photo), "-o", d / "out")


def _fifo(d: Path) -> list[str]:
    os.mkfifo(d / "pipe.mp4")
    return _analyze(d / "pipe.mp4", "-o", d / "out")


def _symlink_loop(d: Path) -> list[str]:
    (d / "a.mp4").symlink_to(d / "b.mp4")
    (d / "b.mp4").symlink_to(d / "a.mp4")
    return _analyze(d / "a.mp4", "-o", d / "out")


def _sine(d: Path) -> list[str]:
    import wave

    import numpy as np

    samples = (tone(0.1, freq_hz=440.0, amp=0.5) * 32767).astype("<i2")
    with wave.open(str(d / "tone.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes(np.asarray(samples).tobytes())
    return ["predict", "speech", str(d / "tone.wav")]


def _text_lines(d: Path) -> list[str]:
    lines = [f"line {i}: I am so happy, and then so angry about it" for i in range(200)]
    _write(d / "lines.txt", "\n".join(lines) + "\n")
    return ["predict", "text", "-"]


def _odd_folder(d: Path) -> list[str]:
    src = d / "in"
    (src / ".hidden").mkdir(parents=True)
    write_media(src / "clip.mp4", 0.5)
    write_media(src / "anim.gif", 0.5, video_codec="gif")
    _write(src / ".hidden" / "h.mp4", b"x")
    os.mkfifo(src / "pipe.mp4")
    (src / "loop1.mp4").symlink_to(src / "loop2.mp4")
    (src / "loop2.mp4").symlink_to(src / "loop1.mp4")
    return ["batch", str(src), "-o", str(d / "out"), "--workers", "1", "-q", "--fps", "2"]


def _duplicate_rows(d: Path) -> list[str]:
    write_media(d / "clip.mp4", 0.5)
    manifest = _write(d / "list.txt", "clip.mp4\nother.mp4\n./clip.mp4\n")
    return ["batch", str(manifest), "-o", str(d / "out"), "-q"]


def _bad_language_row(d: Path) -> list[str]:
    write_media(d / "clip.mp4", 0.5)
    manifest = _write(d / "m.csv", "path,language\nclip.mp4,xx\n")
    return ["batch", str(manifest), "-o", str(d / "out"), "--workers", "1", "-q"]


# ---------------------------------------------------------------------------- checks


def _report(d: Path) -> dict:
    from emochat.report.model import validate_report

    data = json.loads((d / "out" / "report.json").read_text("utf-8"))
    validate_report(data)
    return data


def _warns(code: str, says: str = "") -> Callable[[Path, str], list[str]]:
    def check(d: Path, _: str) -> list[str]:
        messages = [w["message"] for w in _report(d)["warnings"] if w["code"] == code]
        if not any(says in m for m in messages):
            return [f"no {code} warning saying {says!r}"]
        return []

    return check


def _late_cues_clipped(d: Path, stdout: str) -> list[str]:
    report = _report(d)
    duration, segments = report["media"]["duration_s"], report["segments"]
    problems = _warns("transcript_past_end")(d, stdout)
    if any(s["end_s"] > duration + 1e-3 for s in segments):
        problems.append("a segment ends after the media")
    if len(segments) > duration / 4.0 + 3:  # the windows, plus the cue that remains
        problems.append(f"{len(segments)} segments for {duration} s")
    return problems


def _chinese_text(d: Path, _: str) -> list[str]:
    texts = " ".join(s.get("text") or "" for s in _report(d)["segments"])
    return [] if "开心" in texts else [f"transcript read as {texts!r}"]


def _jsonl_labels(expected: int, status: str | None = None) -> Callable[[Path, str], list[str]]:
    def check(_: Path, stdout: str) -> list[str]:
        rows = [json.loads(line) for line in stdout.splitlines()]
        problems = [] if len(rows) == expected else [f"{len(rows)} results, not {expected}"]
        if status is not None and any(r.get("status") != status for r in rows):
            problems.append(f"a result is not {status}: {rows[:1]}")
        return problems

    return check


def _skips_recorded(d: Path, _: str) -> list[str]:
    failures = json.loads((d / "out" / "failures.json").read_text("utf-8"))
    reasons = {Path(f["input"]).name: f["error"] for f in failures if f["kind"] == "skipped"}
    wanted = {
        ".hidden": "hidden folder",
        "pipe.mp4": "not a regular file",
        "loop1.mp4": "symlink loop",
        "loop2.mp4": "symlink loop",
    }
    problems = [
        f"{name} not recorded as {why!r}"
        for name, why in wanted.items()
        if why not in reasons.get(name, "")
    ]
    analysed = sorted(p.name for p in (d / "out" / "clips").iterdir())
    if analysed != ["anim.gif", "clip.mp4"]:
        problems.append(f"analysed {analysed}")
    return problems


def _failure_says(text: str) -> Callable[[Path, str], list[str]]:
    def check(d: Path, _: str) -> list[str]:
        failures = json.loads((d / "out" / "failures.json").read_text("utf-8"))
        if not any(text in f["error"] and "traceback" not in f for f in failures):
            return [f"failures.json does not say {text!r}: {failures}"]
        return []

    return check


CUES_PAST_THE_END = (
    "1\n00:00:00,500 --> 00:00:01,000\nHi.\n\n2\n00:10:00,000 --> 00:20:00,000\nLater.\n"
)

CASES: list[Case] = [
    Case(
        "srt_cue_at_hour_999999",
        lambda d: _with_transcript(
            d, "far.srt", "1\n999999:00:00,000 --> 999999:59:59,999\nLater.\n"
        ),
        "error",
        "far.srt: line 2: time 3,600,000,000 s is past 24 hours",
    ),
    Case(
        "json_word_at_1e9_s",
        lambda d: _with_transcript(d, "far.json", '[{"word": "a", "start": 1e9, "end": 1e9}]'),
        "error",
        "far.json: line 1: word 0 time 1,000,000,000 s is past 24 hours",
    ),
    Case(
        "vtt_cue_at_hour_99999",
        lambda d: _with_transcript(
            d, "far.vtt", "WEBVTT\n\n99999:00:00.000 --> 99999:00:01.000\nx\n"
        ),
        "error",
        "far.vtt: line 3:",
    ),
    Case(
        "cues_past_the_media_end",
        lambda d: _with_transcript(d, "late.srt", CUES_PAST_THE_END),
        "ok",
        check=_late_cues_clipped,
        time_limit_s=120.0,
    ),
    Case(
        "segment_s_1e-6",
        lambda d: _analyze(SAMPLE, "--segment-s", "0.000001", "-o", d / "out"),
        "error",
        "segment_s must be a number >= 0.5",
    ),
    Case("srt_25_mb", lambda d: _srt_of(d, "huge.srt", 25_000_000), "error", "over the 20 MiB"),
    Case(
        "srt_19_mb_on_a_2s_clip",
        lambda d: _srt_of(d, "dense.srt", 19_000_000),
        "error",
        "dense.srt: 1,955,877 words, 9,499,974 characters for 2.419 s of media",
        time_limit_s=120.0,
    ),
    Case(
        "gb18030_transcript",
        lambda d: _with_transcript(
            d, "zh.srt", "1\n00:00:00,000 --> 00:00:02,000\n我今天非常开心。\n".encode("gb18030")
        ),
        "ok",
        check=_chinese_text,
        time_limit_s=120.0,
    ),
    Case(
        "binary_transcript",
        lambda d: _with_transcript(d, "bin.srt", bytes(range(256)) * 16),
        "error",
        "bin.srt: line 1: binary data",
    ),
    Case(
        "missing_transcript",
        lambda d: _analyze(SAMPLE, "--transcript", d / "nope.srt", "-o", d / "out"),
        "error",
        "nope.srt: transcript file not found",
    ),
    Case("fifo_media", _fifo, "error", "pipe.mp4: not a regular file"),
    Case("symlink_loop_media", _symlink_loop, "error", "a.mp4: symlink loop"),
    Case("empty_path", lambda d: _analyze("", "-o", d / "out"), "error", "empty path"),
    Case(
        "output_is_a_file",
        lambda d: _analyze(SAMPLE, "-o", _write(d / "taken", "x")),
        "error",
        "taken: -o names an existing file",
    ),
    Case(
        "png_20000x20000",
        lambda d: _analyze(huge_png(d / "bomb.png", 20_000, 20_000), "-o", d / "out"),
        "error",
        "image is 20000x20000 (400 Mpx), over the 150 Mpx limit",
    ),
    Case(
        "jpeg_cut_at_50pct",
        _cut_jpeg,
        "ok",
        check=_warns("decode_error", "image data ends early"),
        time_limit_s=120.0,
    ),
    Case(
        "mp4_cut_at_50pct",
        _cut_mp4,
        "ok",
        check=_warns("decode_error", "video decoding stopped at 1."),
        time_limit_s=120.0,
    ),
    Case(
        "m4a_cut_at_50pct",
        _cut_m4a,
        "ok",
        check=_warns("decode_error", "audio decoding failed at 2."),
        time_limit_s=120.0,
    ),
    Case(
        "predict_face_png_20000x20000",
        lambda d: ["predict", "face", str(huge_png(d / "bomb.png", 20_000, 20_000))],
        "error",
        "over the 150 Mpx limit",
    ),
    Case("predict_speech_sine_0.1s", _sine, "ok", check=_jsonl_labels(1, "no_speech")),
    Case(
        "predict_text_stdin_200_lines",
        _text_lines,
        "ok",
        check=_jsonl_labels(200),
        time_limit_s=120.0,
        stdin="lines.txt",
    ),
    Case(
        "batch_folder_fifo_loop_hidden_gif",
        _odd_folder,
        "ok",
        check=_skips_recorded,
        time_limit_s=240.0,
    ),
    Case("batch_duplicate_rows", _duplicate_rows, "error", "listed more than once (lines 1, 3:"),
    Case(
        "batch_row_language_xx",
        _bad_language_row,
        "error",
        check=_failure_says("language must be auto or a language code"),
        time_limit_s=120.0,
    ),
]


# ---------------------------------------------------------------------------- runner


_LAUNCHER = """
import json, os, signal, subprocess, sys, threading, time
argv, stdin, stdout, stderr, limit_s = json.loads(sys.argv[1])
with open(stdin, "rb") as feed, open(stdout, "wb") as out, open(stderr, "wb") as err:
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=feed, stdout=out, stderr=err, start_new_session=True)
    killed = threading.Event()
    def kill():
        killed.set()
        os.killpg(proc.pid, signal.SIGKILL)
    timer = threading.Timer(limit_s, kill)
    timer.start()
    _, status, usage = os.wait4(proc.pid, 0)
    timer.cancel()
    code = None if killed.is_set() else os.waitstatus_to_exitcode(status)
    print(json.dumps([code, time.perf_counter() - t0, usage.ru_maxrss / 1024]))
"""
"""Runs one case's command and prints [exit code or None, seconds, peak RSS MiB].

A separate small process because Linux carries a forked child's memory high-water mark
over its exec: a command forked straight from a test process that holds loaded models
would report that process's size as its own peak."""


def _measured(argv: list[str], stdin: Path | None, limit_s: float, cwd: Path):
    """Run ``emochat argv``: (exit code or None on timeout, stdout, stderr, s, peak RSS MiB).

    ``os.wait4`` in the launcher gives the command's own resource use, its reaped
    children (batch workers) included, so cases do not blur into one another.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with tempfile.TemporaryDirectory() as tmp:
        out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
        job = [[sys.executable, "-m", "emochat", *argv], str(stdin or os.devnull), str(out)]
        job += [str(err), limit_s]
        launched = subprocess.run(
            [sys.executable, "-c", _LAUNCHER, json.dumps(job)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        code, seconds, rss_mb = json.loads(launched.stdout)
        text = (
            out.read_bytes().decode("utf-8", "replace"),
            err.read_bytes().decode("utf-8", "replace"),
        )
        return code, *text, seconds, rss_mb


def run_case(case: Case, workdir: Path) -> Outcome:
    """Build the case's inputs under ``workdir`` and run it; the outcome lists problems."""
    workdir.mkdir(parents=True, exist_ok=True)
    argv = case.build(workdir)
    stdin = workdir / case.stdin if case.stdin else None
    code, stdout, stderr, seconds, rss = _measured(argv, stdin, case.time_limit_s, workdir)
    lines = stderr.strip().splitlines()
    outcome = Outcome(case.name, code, round(seconds, 2), round(rss), lines[-1] if lines else "")
    problems = outcome.problems
    if code is None:
        problems.append(f"still running after {case.time_limit_s:g} s")
    if "Traceback" in stderr:
        problems.append("traceback")
    if rss > MAX_RSS_MB:
        problems.append(f"peak RSS {rss:.0f} MB > {MAX_RSS_MB:.0f} MB")
    if case.expect == "error" and code == 0:
        problems.append("expected an error")
    if case.expect == "ok" and code != 0 and code is not None:
        problems.append("expected success")
    if code is not None and case.says and case.says not in (outcome.message if code else stdout):
        problems.append(f"does not say {case.says!r}")
    if code is not None and case.check is not None and (code == 0 or case.expect == "error"):
        try:
            problems.extend(case.check(workdir, stdout))
        except (OSError, ValueError, KeyError) as exc:  # a missing or malformed output
            problems.append(f"output unreadable: {type(exc).__name__}: {exc}")
    outcome.message = outcome.message.replace(str(workdir), "…")
    return outcome
