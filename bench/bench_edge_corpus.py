"""Run every edge/malformed input through `emochat analyze` and print the outcome table.

The table goes into BENCHMARKS.md ("Bad input"); the process exits 1 if any case
ends in a traceback, a hang, a half-written report or an unexpected outcome.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from common import command, machine

from emochat.testing.edge_corpus import CASES, run_case


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--fast", action="store_true", help="only the cases CI runs")
    args = ap.parse_args()
    cases = [c for c in CASES if c.fast or not args.fast]
    print(f"`{command()}` on {machine()}\n")
    print("| input | expected | exit | outcome | warnings | s |")
    print("|---|---|---|---|---|---|")
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            out = run_case(case, Path(tmp) / case.name)
            bad += not out.ok
            result = "report" if out.exit_code == 0 else (out.message or "no message")
            if out.problems:
                result = "**FAIL**: " + "; ".join(out.problems) + f" ({result})"
            result = result.replace(tmp, "…").replace("|", "\\|")
            print(
                f"| {case.name} | {case.expect.replace('|', ' or ')} | {out.exit_code} | {result} | "
                f"{', '.join(out.warnings) or '-'} | {out.seconds} |",
                flush=True,
            )
    print(
        f"\n{len(cases) - bad} of {len(cases)} cases as expected; tracebacks/hangs/bad outcomes: {bad}"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
