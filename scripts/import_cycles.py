#!/usr/bin/env python3
"""Count import cycles among emochat's modules and subpackages (see ARCHITECTURE.md).

Usage: ``python scripts/import_cycles.py [--edges]``; ``--edges`` lists the import
statements inside each cycle, the ones a refactoring step has to move.
"""

from __future__ import annotations

from pathlib import Path

from emochat.testing.imports import main

if __name__ == "__main__":
    # this checkout's source, whichever emochat is installed
    raise SystemExit(main(default_dir=Path(__file__).resolve().parents[1] / "src" / "emochat"))
