"""A corpus of edge-case and malformed inputs, and a runner that checks how `emochat analyze` treats them.

Every case must end in one of two ways: a valid report (schema-checked), with
the warnings the case calls for, or a non-zero exit with a one-line message that
names the file. Never a traceback, never a hang, never a half-written report.
``fast=True`` cases are cheap enough for CI; the bench runs them all.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emochat.testing.synth import tone, write_media


@dataclass(frozen=True)
class EdgeCase:
    name: str
    build: Callable[[Path], list[str]]
    """Writes the input(s) under the given folder; returns the `emochat analyze` arguments."""
    expect: str
    """'report' (exit 0, valid report) or 'error' (non-zero exit, one-line message)."""
    warnings: tuple[str, ...] = ()
    """Warning codes the report must contain."""
    fast: bool = True


@dataclass
class Outcome:
    case: str
    expect: str
    exit_code: int | None
    seconds: float
    message: str = ""
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _file(path: Path, data: bytes) -> list[str]:
    path.write_bytes(data)
    return [str(path)]


def _clip(path: Path, *args, **kwargs) -> list[str]:
    write_media(path, *args, **kwargs)
    return [str(path)]


def _cut(d: Path, name: str, tenths: int, seconds: float, **media) -> list[str]:
    """A clip of ``seconds`` written as ``name`` and cut to its first ``tenths`` / 10 of
    bytes."""
    full = write_media(d / f"full{Path(name).suffix}", seconds, audio=tone(seconds), **media)
    data = full.read_bytes()
    full.unlink()
    return _file(d / name, data[: len(data) * tenths // 10])


def _truncated(d: Path) -> list[str]:
    return _cut(d, "truncated.mp4", 5, 2.0)


def _truncated_avi(d: Path) -> list[str]:
    """An AVI cut at 60 %: its index (at the end) is lost, so ffmpeg times it by what is
    left; only the header's chunk counts say more was declared."""
    return _cut(d, "truncated.avi", 6, 3.0, video_codec="mpeg4", audio_codec="pcm_s16le")


def _truncated_mkv(d: Path) -> list[str]:
    """A Matroska file cut at 60 %: ffmpeg gives its streams no duration; only the
    per-track DURATION tags say more was declared."""
    return _cut(d, "truncated.mkv", 6, 3.0)


def _corrupt_middle(d: Path) -> list[str]:
    full = write_media(d / "full.mp4", 2.0, audio=tone(2.0))
    data = bytearray(full.read_bytes())
    full.unlink()
    mid = len(data) // 2
    data[mid : mid + 4096] = np.random.default_rng(1).bytes(4096)
    return _file(d / "corrupt_middle.mp4", bytes(data))


def _with_transcript(d: Path, name: str, content: bytes) -> list[str]:
    clip = write_media(d / "clip.mp4", 1.0, audio=tone(1.0))
    (d / name).write_bytes(content)
    return [str(clip), "--transcript", str(d / name)]


_SRT = "1\n00:00:00,500 --> 00:00:01,500\nhello there\n\n2\n00:00:01,000 --> 00:00:00,800\nback\n"

CASES: list[EdgeCase] = [
    EdgeCase("zero_byte", lambda d: _file(d / "empty.mp4", b""), "error"),
    EdgeCase(
        "random_bytes",
        lambda d: _file(d / "noise.mp4", np.random.default_rng(0).bytes(100_000)),
        "error",
    ),
    EdgeCase(
        "text_named_mp4", lambda d: _file(d / "notes.mp4", b"just some text\n" * 100), "error"
    ),
    EdgeCase("missing_file", lambda d: [str(d / "does_not_exist.mp4")], "error"),
    EdgeCase("directory", lambda d: [str(d)], "error"),
    EdgeCase("truncated_half", _truncated, "report|error"),
    EdgeCase("truncated_avi", _truncated_avi, "report", ("decode_error",)),
    EdgeCase("truncated_mkv", _truncated_mkv, "report", ("decode_error",)),
    EdgeCase("corrupt_middle", _corrupt_middle, "report|error"),
    EdgeCase(
        "moov_at_end",
        lambda d: _clip(d / "moov_end.mp4", 1.0, audio=tone(1.0)),
        "report",
        ("no_face",),
    ),
    EdgeCase(
        "faststart",
        lambda d: _clip(
            d / "fast.mp4", 1.0, audio=tone(1.0), container_options={"movflags": "faststart"}
        ),
        "report",
        ("no_face",),
    ),
    EdgeCase(
        "audio_only_wav",
        lambda d: _clip(d / "a.wav", video=False, audio=tone(1.0), audio_codec="pcm_s16le"),
        "report",
        ("no_video",),
    ),
    EdgeCase(
        "audio_only_m4a",
        lambda d: _clip(d / "a.m4a", video=False, audio=tone(1.0), audio_codec="aac"),
        "report",
        ("no_video",),
    ),
    EdgeCase(
        "audio_with_cover_art",
        lambda d: _clip(
            d / "song.mp3",
            video=False,
            audio=tone(1.0),
            audio_codec="mp3",
            cover=np.full((64, 64, 3), 128, np.uint8),
        ),
        "report",
        ("no_video",),
    ),
    EdgeCase("video_only", lambda d: _clip(d / "v.mp4", 1.0), "report", ("no_face",)),
    EdgeCase(
        "single_frame", lambda d: _clip(d / "one.mp4", frame_times_s=[0.0]), "report", ("no_face",)
    ),
    EdgeCase(
        "frames_4k",
        lambda d: _clip(d / "uhd.mp4", 0.4, width=3840, height=2160, fps=10),
        "report",
        ("no_face",),
        fast=False,
    ),
    EdgeCase(
        "variable_frame_rate",
        lambda d: _clip(d / "vfr.mp4", frame_times_s=[0, 0.01, 0.02, 0.5, 0.52, 1.0, 1.6, 2.0]),
        "report",
        ("no_face",),
    ),
    EdgeCase(
        "rotated_phone",
        lambda d: _clip(d / "rot.mp4", 0.5, rotation_deg=90),
        "report",
        ("no_face",),
    ),
    EdgeCase(
        "hevc_mkv",
        lambda d: _clip(d / "h.mkv", 0.5, video_codec="libx265"),
        "report",
        ("no_face",),
        fast=False,
    ),
    EdgeCase(
        "vp9_webm",
        lambda d: _clip(
            d / "v.webm",
            0.5,
            video_codec="libvpx-vp9",
            audio=tone(0.5, sample_rate=48_000),
            audio_rate=48_000,
            audio_codec="libopus",
        ),
        "report",
        ("no_face",),
    ),
    EdgeCase(
        "av1_mkv",
        lambda d: _clip(d / "a.mkv", 0.5, video_codec="libsvtav1", width=320, height=240),
        "report",
        ("no_face",),
        fast=False,
    ),
    EdgeCase(
        "mpeg4_avi", lambda d: _clip(d / "m.avi", 0.5, video_codec="mpeg4"), "report", ("no_face",)
    ),
    EdgeCase(
        "audio_5_1",
        lambda d: _clip(
            d / "surround.mkv",
            0.5,
            audio=tone(0.5, sample_rate=48_000),
            audio_rate=48_000,
            audio_codec="flac",
            audio_layout="5.1",
        ),
        "report",
        ("no_face",),
    ),
    EdgeCase(
        "audio_8khz",
        lambda d: _clip(d / "phone.mp4", 0.5, audio=tone(0.5, sample_rate=8_000), audio_rate=8_000),
        "report",
        ("no_face",),
    ),
    EdgeCase(
        "pure_silence",
        lambda d: _clip(d / "silence.mp4", 1.0, audio=np.zeros(16_000, np.float32)),
        "report",
        ("no_face",),
    ),
    EdgeCase(
        "clipping_loud",
        lambda d: _clip(d / "loud.mp4", 1.0, audio=np.clip(tone(1.0, amp=4.0), -1, 1)),
        "report",
        ("no_face",),
    ),
    EdgeCase(
        "unicode_spaces_path",
        lambda d: _clip(d / "clip with spaces é 表情.mp4", 0.5, audio=tone(0.5)),
        "report",
        ("no_face",),
    ),
    EdgeCase("tiny_clip", lambda d: _clip(d / "tiny.mp4", 0.1, fps=10), "report", ("no_face",)),
    EdgeCase(
        "transcript_utf16",
        lambda d: _with_transcript(d, "t.txt", "hello there, nice to see you\n".encode("utf-16")),
        "report",
    ),
    EdgeCase(
        "transcript_latin1",
        lambda d: _with_transcript(d, "t.txt", "très bien, café\n".encode("latin-1")),
        "report",
    ),
    EdgeCase(
        "transcript_bad_srt_times",
        lambda d: _with_transcript(d, "t.srt", _SRT.encode()),
        "report|error",
    ),
    EdgeCase("transcript_empty", lambda d: _with_transcript(d, "t.srt", b""), "report|error"),
    EdgeCase(
        "transcript_binary", lambda d: _with_transcript(d, "t.vtt", bytes(range(256)) * 4), "error"
    ),
    EdgeCase(
        "transcript_missing",
        lambda d: _with_transcript(d, "t.srt", b"x")[:2] + [str(d / "nope.srt")],
        "error",
    ),
    # found by fuzzing (bench/bench_fuzz.py): these used to raise ValueError / pass NaN on
    EdgeCase(
        "transcript_json_nan",
        lambda d: _with_transcript(d, "t.json", b'[{"word": "hi", "start": NaN, "end": 1}]'),
        "error",
    ),
    EdgeCase(
        "transcript_huge_hours",
        lambda d: _with_transcript(
            d, "t.srt", b"1\n" + b"9" * 4301 + b":00:00,000 --> 00:00:01,000\nhi\n"
        ),
        "error",
    ),
    EdgeCase(
        "stage_time_limit",
        lambda d: _clip(d / "c.mp4", 1.0, audio=tone(1.0)) + ["--stage-time-limit", "0.001"],
        "report",
        ("timeout",),
    ),
    EdgeCase(
        "run_time_limit",
        lambda d: _clip(d / "c.mp4", 1.0, audio=tone(1.0)) + ["--time-limit", "0.2"],
        "error",
    ),
    EdgeCase("wrong_language", lambda d: _clip(d / "c.mp4", 0.5) + ["--language", "xx"], "error"),
    EdgeCase(
        "gif_animation",
        lambda d: _clip(d / "anim.gif", 0.5, fps=10, video_codec="gif"),
        "report",
        ("no_face",),
    ),
]


def run_case(case: EdgeCase, workdir: Path, timeout_s: float = 300.0) -> Outcome:
    """Build the case's input and run the real CLI on it in a subprocess."""
    workdir.mkdir(parents=True, exist_ok=True)
    args = case.build(workdir)
    out_dir = workdir / "out"
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "emochat",
                "analyze",
                *args,
                "-o",
                str(out_dir),
                "-q",
                "--fps",
                "5",
            ],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return Outcome(case.name, case.expect, None, timeout_s, problems=["hang: timed out"])
    outcome = Outcome(case.name, case.expect, proc.returncode, round(time.perf_counter() - t0, 2))
    stderr = proc.stderr.strip()
    outcome.message = stderr.splitlines()[-1] if stderr else ""
    if "Traceback" in proc.stderr:
        outcome.problems.append("traceback")
    report_path = out_dir / "report.json"
    if proc.returncode == 0:
        if "report" not in case.expect:
            outcome.problems.append("expected an error, got a report")
        if not report_path.exists():
            outcome.problems.append("exit 0 but no report.json")
        else:
            from emochat.report.model import validate_report

            data = json.loads(report_path.read_text("utf-8"))
            validate_report(data)
            outcome.warnings = [w["code"] for w in data["warnings"]]
            missing = set(case.warnings) - set(outcome.warnings)
            if missing:
                outcome.problems.append(f"missing warnings {sorted(missing)}")
    else:
        if "error" not in case.expect:
            outcome.problems.append("expected a report, got an error")
        if len(stderr.splitlines()) != 1:
            outcome.problems.append(f"error message is {len(stderr.splitlines())} lines, not one")
        if report_path.exists():
            outcome.problems.append("failed run left a report.json")
        named = Path(
            args[args.index("--transcript") + 1] if "--transcript" in args else args[0]
        ).name
        if case.name != "wrong_language" and named not in outcome.message:
            outcome.problems.append(f"message does not name {named}")
    leftovers = [p.name for p in out_dir.glob(".*.tmp")] if out_dir.exists() else []
    if leftovers:
        outcome.problems.append(f"temporary files left: {leftovers}")
    return outcome
