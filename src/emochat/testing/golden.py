"""Golden reports: the safety net that keeps every report.json identical across refactors.

Each golden input (every real test medium, a few synthesized speech clips, the sample clip
with a transcript) is analysed with the default pipeline; the report, stripped of what
legitimately changes between runs (:func:`canonical`), is stored gzipped in
``tests/golden/<name>.json.gz``. A later run is compared to it with :func:`compare`.

    python -m emochat.testing.golden record [--only NAME ...]   # from the reference code
    python -m emochat.testing.golden check [--only NAME ...]    # prints the differences

Record only from code whose reports are right by definition (main before a refactor); a
check that fails after a move means the move changed behaviour.

Goldens hold for one CPU class (:func:`cpu_class`, written to ``tests/golden/CPU_CLASS``
when recorded): the float kernels of the face models (XNNPACK), the ASR (CTranslate2) and
numpy's BLAS are picked by the CPU's vector units, and decoding speech (and, rarely, a
face whose mesh region lands on another grid step) turns their last-bit differences into
other words and other AU values.
On another class the check says so and fails rather than list that noise as changes;
record there (all inputs) after confirming the code is the reference.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[3]
GOLDEN_DIR = REPO_ROOT / "tests" / "golden"
SAMPLE_CLIP = REPO_ROOT / "samples" / "single_face.mp4"

MEDIA_SUFFIXES = (".mp4", ".mov", ".avi", ".wav", ".jpg")
"""Media in the media root; the .xml/.json/.rttm files beside them are annotations."""

VOLATILE_KEYS = ("timings_s", "created_at", "emochat_version")
"""Top-level keys that differ on every run or release, whatever the analysis found."""

VOLATILE_PROVENANCE = ("software", "machine")
"""Provenance that differs between machines and installs; its options, models and input
hashes must not change."""

CPU_CLASS_FILE = "CPU_CLASS"
"""Beside the goldens: the :func:`cpu_class` they were recorded on."""

DEFAULT_ATOL = 2e-3
"""Absolute float tolerance of :func:`compare`.

The report rounds probabilities, weights and valence/arousal to 4 decimals and AU
intensities to 3, so a last-bit difference between CPUs of one class (another BLAS
build, another thread split) shows up, when it straddles a rounding boundary, as one step
of 1e-4 or 1e-3. 2e-3 lets one such step pass; a real change (a weight, a prior, a threshold, a
window) moves some probability or intensity by far more, and usually a label or a string
with it, which are compared exactly.
"""

STORE_DECIMALS = 5
"""Floats in the stored goldens are rounded to this many decimals: well below
:data:`DEFAULT_ATOL`, and the report itself rounds most values to 3-4 anyway."""

MAX_DIFFS = 30

_MEASURED = re.compile(r"\b(took|after|elapsed|in) \d+(?:\.\d+)?( ?m?s)\b")
"""A measured duration inside a warning ("took 12.3 s"): masked, it changes every run."""


# ---------------------------------------------------------------- canonical form + diff


def canonical(report: dict[str, Any], media_root: Path | None = None) -> dict[str, Any]:
    """``report`` (report.json's content) without what legitimately changes between runs.

    Drops timings, creation time, version and the machine-specific provenance; an absolute ``media.path`` becomes the path
    relative to ``media_root`` (or the file name alone: synthesized clips live in a temporary
    folder); measured seconds in warning messages are masked. Everything else is kept.
    """
    out = json.loads(json.dumps(report))  # a deep copy with JSON's types (tuples -> lists)
    for key in VOLATILE_KEYS:
        out.pop(key, None)
    for key in VOLATILE_PROVENANCE:
        (out.get("provenance") or {}).pop(key, None)
    media = out.get("media")
    if isinstance(media, dict) and media.get("path") is not None:
        media["path"] = _relative_path(Path(media["path"]), media_root)
    for warning in out.get("warnings") or []:
        if isinstance(warning.get("message"), str):
            warning["message"] = _MEASURED.sub(r"\1 <t>\2", warning["message"])
    return out


def _relative_path(path: Path, root: Path | None) -> str:
    """Relative paths are kept: canonical() of a canonical report changes nothing."""
    if not path.is_absolute():
        return path.as_posix()
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return path.name


def rounded(value: Any, decimals: int = STORE_DECIMALS) -> Any:
    """``value`` with every float rounded (the stored goldens stay small and readable)."""
    if isinstance(value, float):
        return round(value, decimals) if math.isfinite(value) else value
    if isinstance(value, dict):
        return {k: rounded(v, decimals) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v, decimals) for v in value]
    return value


def compare(expected: Any, actual: Any, atol: float = DEFAULT_ATOL) -> list[str]:
    """Differences between two canonical reports, one readable line each (empty: same).

    Strings, bools, None, ints, dict keys and list lengths must match exactly; floats may
    differ by ``atol`` (see :data:`DEFAULT_ATOL`; NaN equals NaN). An int where a float was
    (or the reverse) counts as a change, as JSON writes them differently. At most
    :data:`MAX_DIFFS` lines, then one line with the count of the rest.
    """
    diffs: list[str] = []
    _diff(expected, actual, "", atol, diffs)
    if len(diffs) > MAX_DIFFS:
        rest = len(diffs) - MAX_DIFFS
        diffs = diffs[:MAX_DIFFS] + [f"... and {rest} more difference(s)"]
    return diffs


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def _diff(exp: Any, act: Any, path: str, atol: float, out: list[str]) -> None:
    where = path or "<root>"
    if isinstance(exp, dict) and isinstance(act, dict):
        # the live report's key order (goldens are stored sorted): segments come before
        # the explanation, so the cause of a change is listed before its echoes
        for key in [*act, *(k for k in exp if k not in act)]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in act:
                out.append(f"{sub}: missing (expected {_show(exp[key])})")
            elif key not in exp:
                out.append(f"{sub}: unexpected key (got {_show(act[key])})")
            else:
                _diff(exp[key], act[key], sub, atol, out)
        return
    if isinstance(exp, list) and isinstance(act, list):
        if len(exp) != len(act):
            out.append(f"{where}: length {len(exp)} != {len(act)}")
        for i, (e, a) in enumerate(zip(exp, act, strict=False)):
            _diff(e, a, f"{path}[{i}]", atol, out)
        return
    if _is_float(exp) and _is_float(act):
        if math.isnan(exp) and math.isnan(act):
            return
        if not abs(exp - act) <= atol:  # NaN against a number fails too
            out.append(f"{where}: {exp!r} != {act!r} (|diff| {abs(exp - act):.3g} > {atol:g})")
        return
    if type(exp) is not type(act):
        out.append(
            f"{where}: {_show(exp)} ({type(exp).__name__}) != {_show(act)} ({type(act).__name__})"
        )
        return
    if isinstance(exp, str) and exp != act:
        out.append(f"{where}: {_string_diff(exp, act)}")
    elif exp != act:
        out.append(f"{where}: {_show(exp)} != {_show(act)}")


def _string_diff(exp: str, act: str, context: int = 30) -> str:
    """Both strings around their first difference (explanations run to hundreds of chars)."""
    if len(exp) <= 80 and len(act) <= 80:
        return f"{_show(exp)} != {_show(act)}"
    pairs = enumerate(zip(exp, act, strict=False))
    at = next((i for i, (a, b) in pairs if a != b), min(len(exp), len(act)))
    lo = max(0, at - context)

    def cut(text: str) -> str:
        piece = text[lo : at + context]
        return ("..." if lo else "") + piece + ("..." if at + context < len(text) else "")

    return f"at char {at}: {_show(cut(exp))} != {_show(cut(act))}"


def _is_float(value: Any) -> bool:
    return isinstance(value, float)


# ---------------------------------------------------------------- the golden inputs


@dataclass(frozen=True)
class GoldenInput:
    """One analysed input: a real medium, or a clip made on the fly by ``build``."""

    name: str
    media: str | None = None
    """Path relative to the media root (real media)."""
    build: Callable[[Path], tuple[Path, Path | None]] | None = None
    """Synthesized inputs: writes the clip (and transcript) into a folder, returns both."""
    slow: bool = False
    """Marked ``slow`` in the tests (see :func:`_media_is_slow`)."""

    @property
    def needs_media(self) -> bool:
        return self.media is not None

    def materialize(self, media_root: Path, work_dir: Path) -> tuple[Path, Path | None]:
        """The file to analyse and its transcript (None: none)."""
        if self.media is not None:
            return media_root / self.media, None
        assert self.build is not None
        out = work_dir / self.name
        out.mkdir(parents=True, exist_ok=True)
        return self.build(out)


def golden_name(relative: str) -> str:
    """The golden's name for a medium: its relative path with ``/`` and ``.`` made ``_``."""
    return relative.replace("/", "_").replace(".", "_")


def media_inputs(media_root: Path) -> list[GoldenInput]:
    """Every medium under ``media_root`` (not the annotation files), sorted."""
    paths = sorted(
        p.relative_to(media_root).as_posix()
        for p in media_root.rglob("*")
        if p.is_file() and p.suffix.lower() in MEDIA_SUFFIXES
    )
    return [
        GoldenInput(golden_name(rel), media=rel, slow=_media_is_slow(media_root / rel))
        for rel in paths
    ]


def _media_is_slow(path: Path) -> bool:
    """Over ~3 s of analysis on 2 cores: audio long enough to hold speech (whisper, the speech
    encoder and the aggregator run) or a long video. Photos and short silent clips are not."""
    if path.suffix.lower() == ".jpg":
        return False
    from emochat.ingest import probe

    media = probe(path)
    duration = media.duration_s or 0.0
    return (media.has_audio and duration > 4.5) or duration > 10.0


EN_SENTENCE = "I am so happy to see you again. This is wonderful news!"
ZH_SENTENCE = "我今天非常难过。一切都不顺利。"
"""Said by espeak-ng's Mandarin voice, which whisper does not understand (it hears tone
digits: "War in 1.1.1 ..."), so its words come from a plain-text transcript."""
CONFLICT_SENTENCE = "I am so sad. Everything went wrong today and I feel terrible."
SRT = """1
00:00:00,200 --> 00:00:01,200
What a lovely surprise!

2
00:00:01,300 --> 00:00:02,300
I am really glad you came.
"""

STILL_FACE_AT_S = 1.5
"""The sample clip's frame at the apex of its smile: the still face of the speech clips."""


def _still_face() -> np.ndarray:
    from emochat.ingest import iter_frames
    from emochat.testing.synth import even_sized

    frames = list(iter_frames(SAMPLE_CLIP, fps=10, max_side=640))
    frame = min(frames, key=lambda f: abs(f.t_s - STILL_FACE_AT_S))
    return even_sized([frame.rgb])[0]


def _speech(text: str, voice: str, wpm: int) -> np.ndarray:
    from emochat.testing.synth import espeak

    lead = np.zeros(8000, np.float32)  # half a second of silence before the words
    return np.concatenate([lead, espeak(text, wpm=wpm, voice=voice), lead])


def _speech_over_still_face(
    text: str, voice: str, transcript: bool = False
) -> Callable[[Path], tuple[Path, Path | None]]:
    """A still smiling face saying ``text``; with ``transcript`` the words come from a file."""

    def build(out: Path) -> tuple[Path, Path | None]:
        from emochat.testing.synth import write_media

        audio = _speech(text, voice, wpm=150)
        face = _still_face()
        clip = write_media(
            out / "clip.mp4",
            audio.size / 16_000,
            width=face.shape[1],
            height=face.shape[0],
            fps=10,
            images=[face],
            audio=audio,
        )
        if not transcript:
            return clip, None
        words = out / "transcript.txt"
        words.write_text(text + "\n", encoding="utf-8")
        return clip, words

    return build


def _conflict(out: Path) -> tuple[Path, None]:
    """The smiling sample video saying a sad sentence (EmoChat's hard case)."""
    from emochat.testing.synth import mux_with_video

    audio = _speech(CONFLICT_SENTENCE, "en-us", wpm=150)
    return mux_with_video(SAMPLE_CLIP, audio, out / "clip.mp4"), None


def _sample_with_srt(out: Path) -> tuple[Path, Path]:
    srt = out / "single_face.srt"
    srt.write_text(SRT, encoding="utf-8")
    return SAMPLE_CLIP, srt


SYNTH_INPUTS = [
    GoldenInput(
        "synth_en_still_face", build=_speech_over_still_face(EN_SENTENCE, "en-us"), slow=True
    ),
    GoldenInput(
        "synth_zh_still_face_transcript",
        build=_speech_over_still_face(ZH_SENTENCE, "cmn", transcript=True),
        slow=True,
    ),
    GoldenInput("synth_en_conflict", build=_conflict, slow=True),
    GoldenInput("sample_single_face_srt", build=_sample_with_srt),
]
"""Inputs made here, independent of the media root (espeak-ng for the speech ones)."""


def golden_inputs(media_root: Path | None = None) -> list[GoldenInput]:
    """All golden inputs: the media root's files (when it exists) then the synthesized ones."""
    from emochat.core.settings import media_root as default_root

    root = media_root or default_root()
    found = media_inputs(root) if root.is_dir() else []
    return found + SYNTH_INPUTS


# ---------------------------------------------------------------- analyse, store, check


ASR_SEED = 20250101
"""Seed of whisper's sampling (see :func:`reproducible_asr`)."""

_asr_state = {"sampled": True, "watched": False}
"""sampled: whisper may have drawn random numbers since its last seeded load (True until
the first load); watched: :func:`_watch_sampling` is in place."""


def reproducible_asr() -> None:
    """Make the next analysis's ASR repeatable.

    Whisper falls back to sampling at temperature 0.4 and 0.8 when its greedy text looks
    like a hallucination (compression ratio over 2.4, or a low log-probability), as it does
    on conversation/clearervoice_002.avi and visualvoice_interview.mp4. CTranslate2 samples
    from a per-thread generator seeded from std::random_device when the model's worker
    thread first samples, so those clips gave other words on every run, even in one
    process. A fixed seed plus a fresh model (a fresh worker thread, hence a fresh
    generator) gives the same words every time, whatever ran before in the process. The
    reload (1-2 s) is skipped while the loaded model has not sampled: its generator is
    then unused, and takes the seed set here when it is first needed.
    """
    import ctranslate2

    from emochat.voice.asr import whisper_model

    ctranslate2.set_random_seed(ASR_SEED)
    if not _watch_sampling() or _asr_state["sampled"]:
        whisper_model.cache_clear()  # reloaded lazily, by the next input with speech
        _asr_state["sampled"] = False


def _watch_sampling() -> bool:
    """Note whenever whisper decodes at a temperature above 0 (False: cannot tell)."""
    if _asr_state["watched"]:
        return True
    from faster_whisper.transcribe import WhisperModel

    original = getattr(WhisperModel, "generate_with_fallback", None)
    if original is None:  # another faster-whisper: reload before every analysis
        return False

    def generate_with_fallback(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        try:  # (result, avg_logprob, temperature, compression_ratio); the last one tried
            _asr_state["sampled"] = _asr_state["sampled"] or result[2] > 0
        except (TypeError, IndexError):
            _asr_state["sampled"] = True
        return result

    WhisperModel.generate_with_fallback = generate_with_fallback
    _asr_state["watched"] = True
    return True


def analyse_raw(item: GoldenInput, media_root: Path, work_dir: Path) -> dict[str, Any]:
    """report.json's content for ``item`` with the default pipeline and options."""
    from emochat.api import run_analysis

    path, transcript = item.materialize(media_root, work_dir)
    reproducible_asr()
    ctx = run_analysis(path, transcript=transcript)
    return json.loads(ctx.report.to_json(indent=None))


def analyse(item: GoldenInput, media_root: Path, work_dir: Path) -> dict[str, Any]:
    """The canonical report of ``item`` with the default pipeline and options."""
    return canonical(analyse_raw(item, media_root, work_dir), media_root)


def cpu_class() -> str:
    """What picks the float kernels' numbers here: the architecture, the CPU's vendor and
    its widest vector units (x86: AVX-512, with AMX; else AVX2 with FMA, with or without
    AVX-VNNI's int8 dot products). On 2026-12-07 an AVX2-only AMD EPYC read
    WolfgangLanger_Pexels.mp4's AU means up to 0.3 apart and conversation words'
    probabilities up to 0.13 apart from the AVX-512 AMD EPYC the goldens had been
    recorded on (BENCHMARKS.md, "Reports across CPU classes")."""
    import platform

    vendor, flags = "", set()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "vendor_id" and not vendor:
                vendor = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
    except OSError:  # not Linux: the architecture alone
        pass
    if {"avx512f", "avx512bw", "avx512dq", "avx512vl"} <= flags:
        simd = "avx512+amx" if "amx_tile" in flags else "avx512"
    elif {"avx2", "fma"} <= flags:  # AVX-VNNI (Alder Lake on): other int8 kernels
        simd = "avx2+vnni" if "avx_vnni" in flags else "avx2"
    else:
        simd = "baseline" if flags else ""
    return " ".join(p for p in (platform.machine().lower(), vendor, simd) if p)


def recorded_cpu_class(golden_dir: Path = GOLDEN_DIR) -> str | None:
    """The CPU class the goldens in ``golden_dir`` were recorded on (None: not said)."""
    path = golden_dir / CPU_CLASS_FILE
    return path.read_text(encoding="utf-8").strip() if path.is_file() else None


def cpu_class_mismatch(golden_dir: Path = GOLDEN_DIR) -> str | None:
    """Why this machine cannot check the goldens, or None when it can."""
    recorded, here = recorded_cpu_class(golden_dir), cpu_class()
    if recorded == here:
        return None
    return (
        f"the goldens were recorded on a CPU of class {recorded!r} and this one is {here!r}: "
        "the float kernels differ by class, so the reports do too (golden.py's docstring); "
        "after confirming this checkout is the reference, record every golden here: "
        "python -m emochat.testing.golden record"
    )


def golden_path(name: str, golden_dir: Path = GOLDEN_DIR) -> Path:
    return golden_dir / f"{name}.json.gz"


def save(report: dict[str, Any], path: Path) -> Path:
    """Gzipped JSON, keys sorted, floats rounded; no timestamp, so re-recording is a no-op."""
    text = json.dumps(rounded(report), sort_keys=True, indent=0, ensure_ascii=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
    return path


def load(path: Path) -> dict[str, Any]:
    return json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))


def check_one(
    item: GoldenInput, media_root: Path, work_dir: Path, golden_dir: Path = GOLDEN_DIR
) -> list[str]:
    """Differences between ``item``'s golden and a fresh analysis (empty: identical)."""
    return _check_report(item, analyse_raw(item, media_root, work_dir), media_root, golden_dir)


def _check_report(
    item: GoldenInput, report: dict[str, Any], media_root: Path, golden_dir: Path
) -> list[str]:
    expected = load(golden_path(item.name, golden_dir))
    return compare(expected, rounded(canonical(report, media_root)))


def _timings(report: dict[str, Any]) -> str:
    """The stages that took time, for spotting what makes the check slow."""
    spent = {k: v for k, v in (report.get("timings_s") or {}).items() if k != "total"}
    return ", ".join(f"{k} {v:.1f}" for k, v in spent.items() if v >= 0.3)


def _select(items: Sequence[GoldenInput], only: Iterable[str] | None) -> list[GoldenInput]:
    if not only:
        return list(items)
    wanted = set(only)
    unknown = wanted - {i.name for i in items}
    if unknown:
        raise SystemExit(f"unknown golden input(s): {', '.join(sorted(unknown))}")
    return [i for i in items if i.name in wanted]


def record(
    out_dir: Path = GOLDEN_DIR,
    only: Iterable[str] | None = None,
    media_root: Path | None = None,
) -> list[Path]:
    """Analyse the golden inputs and (over)write their goldens in ``out_dir``."""
    from emochat.core.settings import media_root as default_root

    root = media_root or default_root()
    mismatch = cpu_class_mismatch(out_dir)
    if only and mismatch and recorded_cpu_class(out_dir) is not None:
        raise SystemExit(f"not recording some goldens only: {mismatch}")
    written = []
    (out_dir / CPU_CLASS_FILE).parent.mkdir(parents=True, exist_ok=True)
    (out_dir / CPU_CLASS_FILE).write_text(cpu_class() + "\n", encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="emochat-golden-") as tmp:
        for item in _select(golden_inputs(root), only):
            t0 = time.perf_counter()
            raw = analyse_raw(item, root, Path(tmp))
            written.append(save(canonical(raw, root), golden_path(item.name, out_dir)))
            took = time.perf_counter() - t0
            print(f"{item.name}: recorded in {took:.1f} s ({_timings(raw)})", flush=True)
    return written


def check(
    golden_dir: Path = GOLDEN_DIR,
    only: Iterable[str] | None = None,
    media_root: Path | None = None,
) -> int:
    """Compare every golden to a fresh analysis; prints differences, returns how many differ."""
    from emochat.core.settings import media_root as default_root

    root = media_root or default_root()
    mismatch = cpu_class_mismatch(golden_dir)
    if mismatch:
        print(f"cannot check: {mismatch}")
        return len(_select(golden_inputs(root), only))
    failed = 0
    with tempfile.TemporaryDirectory(prefix="emochat-golden-") as tmp:
        for item in _select(golden_inputs(root), only):
            t0 = time.perf_counter()
            if not golden_path(item.name, golden_dir).exists():
                print(f"{item.name}: NO GOLDEN (run record)")
                failed += 1
                continue
            raw = analyse_raw(item, root, Path(tmp))
            diffs = _check_report(item, raw, root, golden_dir)
            took = time.perf_counter() - t0
            verdict = "DIFFERS" if diffs else "ok"
            print(f"{item.name}: {verdict} in {took:.1f} s ({_timings(raw)})", flush=True)
            for line in diffs:
                print(f"    {line}")
            failed += bool(diffs)
    return failed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m emochat.testing.golden",
        description="Record or check the golden reports (tests/golden/*.json.gz).",
    )
    parser.add_argument("command", choices=["record", "check", "list"])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="these inputs only")
    parser.add_argument("--dir", type=Path, default=GOLDEN_DIR, help="golden folder")
    parser.add_argument("--media-root", type=Path, default=None, help="default: EMOCHAT_MEDIA_ROOT")
    args = parser.parse_args(argv)
    if args.command == "list":
        for item in golden_inputs(args.media_root):
            print(item.name, item.media or "(synthesized)", "slow" if item.slow else "")
        return 0
    if args.command == "record":
        record(args.dir, args.only, args.media_root)
        return 0
    failed = check(args.dir, args.only, args.media_root)
    print(f"{failed} golden(s) differ" if failed else "all goldens match")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
