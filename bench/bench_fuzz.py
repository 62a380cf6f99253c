"""Fuzz the transcript parsers and the manifest reader for longer than CI does.

Each target (emochat.testing.fuzz.TARGETS) gets ``--examples`` hypothesis inputs
(seeded, no example database) and must return a valid result or raise the
project's one-line user error. Findings are grouped by signature (exception and
where it was raised) with the shortest input that showed each. An input slower
than ``--slow-s`` is a finding too (a hang in the making). Then each parser
reads large valid files (``--big-mb``) to show parse time grows linearly.
Prints one BENCHMARKS.md row per target; exits 1 if anything was found.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from common import row
from hypothesis import HealthCheck, given, seed, settings

from emochat.testing.fuzz import TARGETS, Finding, FuzzWorkdir, check_input


def fuzz(
    name: str, examples: int, rng_seed: int, slow_s: float
) -> tuple[int, float, list[Finding]]:
    target = TARGETS[name]
    workdir = FuzzWorkdir(target)
    findings: dict[str, Finding] = {}
    count = 0
    check_input(target, workdir, b"")  # imports happen here, not in a timed input

    @seed(rng_seed)
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(target.inputs())
    def one(data: bytes) -> None:
        nonlocal count
        count += 1
        t0 = time.perf_counter()
        found = check_input(target, workdir, data)
        took = time.perf_counter() - t0
        if found is None and took > slow_s:
            found = (f"slow (> {slow_s:g} s)", f"{took:.1f} s on {len(data)} bytes")
        if found is not None:
            sig, detail = found
            f = findings.get(sig)
            if f is None:
                findings[sig] = Finding(sig, data, detail)
            else:
                f.count += 1
                if len(data) < len(f.data):
                    f.data, f.detail = data, detail

    t0 = time.perf_counter()
    try:
        one()
    finally:
        workdir.cleanup()
    return count, time.perf_counter() - t0, list(findings.values())


def _big_srt(n: int) -> str:
    return "".join(
        f"{i + 1}\n00:{i // 60 % 60:02d}:{i % 60:02d},000 --> 00:{i // 60 % 60:02d}:{i % 60:02d},900\n"
        f"<i>word {i}</i> and more\n\n"
        for i in range(n)
    )


def _big_json(n: int) -> str:
    return json.dumps(
        [
            {"word": f"w{i}", "start": i * 0.3, "end": i * 0.3 + 0.2, "probability": 0.9}
            for i in range(n)
        ],
        indent=1,
    )


BIG = {
    "srt": ("big.srt", _big_srt),
    "vtt": ("big.vtt", lambda n: "WEBVTT\n\n" + _big_srt(n).replace(",", ".")),
    "text": ("big.txt", lambda n: "This is one sentence. " * n),
    "json": ("big.json", _big_json),
    "tags": ("tags.srt", lambda n: "1\n00:00:00,000 --> 00:00:01,000\n" + "<" * (n * 40) + "\n"),
}


def scaling(workdir: Path, megabytes: float) -> list[str]:
    """Parse time of valid files of about ``megabytes`` and a tenth of that, per format."""
    from emochat.core.errors import EmochatError
    from emochat.voice.transcript import read_transcript

    out = []
    for name, (filename, make) in BIG.items():
        times = []
        for mb in (megabytes / 10, megabytes):
            unit = len(make(100)) / 100
            text = make(max(1, int(mb * 2**20 / unit)))
            path = workdir / filename
            path.write_text(text, encoding="utf-8")
            t0 = time.perf_counter()
            try:
                read_transcript(path)
            except EmochatError:
                pass
            times.append(time.perf_counter() - t0)
        out.append(
            f"{name} {megabytes / 10:g} MB {times[0]:.2f} s, {megabytes:g} MB {times[1]:.2f} s"
        )
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--examples", type=int, default=20_000, help="inputs per target")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--slow-s", type=float, default=1.0)
    ap.add_argument("--big-mb", type=float, default=4.0)
    ap.add_argument("--targets", nargs="+", default=list(TARGETS))
    args = ap.parse_args()
    total_findings = 0
    for name in args.targets:
        count, wall, findings = fuzz(name, args.examples, args.seed, args.slow_s)
        total_findings += len(findings)
        for f in findings:
            print(
                f"  {name}: {f.signature} x{f.count}: {f.detail!r} <- {f.data[:120]!r}",
                file=sys.stderr,
            )
        found = "; ".join(f"{f.signature} x{f.count}" for f in findings) or "none"
        print(
            row(
                f"{name}: {count} inputs in {wall:.0f} s ({count / wall:.0f}/s), findings: {found}"
            ),
            flush=True,
        )
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print(row("parse time of big valid files: " + "; ".join(scaling(Path(tmp), args.big_mb))))
    return 1 if total_findings else 0


if __name__ == "__main__":
    sys.exit(main())
