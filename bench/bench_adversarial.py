"""Run the adversarial corpus (issue 24) through the real CLI and print the table.

Each case is one `emochat` command on a hostile or careless input; the table gives its
outcome, the peak RSS of its largest process (batch workers included) and its time. The
process exits 1 if any case ends in a traceback, a timeout, over 1.5 GB or not as
expected. The table goes into BENCHMARKS.md ("Hostile and careless input").
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from common import command, machine

from emochat.testing.adversarial import CASES, MAX_RSS_MB, run_case


def main() -> int:
    argparse.ArgumentParser(description=__doc__).parse_args()
    print(f"`{command()}` on {machine()}, load average {os.getloadavg()[0]:.1f} at the start\n")
    print("| case | outcome | peak RSS MB | time s |")
    print("|---|---|---|---|")
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            out = run_case(case, Path(tmp) / case.name)
            bad += bool(out.problems)
            outcome = out.summary.replace("|", "\\|")
            print(
                f"| {case.name} | {outcome} | {out.peak_rss_mb:.0f} | {out.seconds} |", flush=True
            )
    print(
        f"\n{len(CASES) - bad} of {len(CASES)} cases end cleanly within their time limit and "
        f"{MAX_RSS_MB:.0f} MB; load average {os.getloadavg()[0]:.1f} at the end"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
