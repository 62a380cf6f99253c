"""`emochat export REPORT --table frames|utterances|words [--format csv|parquet] [-o FILE]`:
a report.json as the tidy table a spreadsheet or pandas reads (units: emochat.report.tables)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from emochat.core.errors import EmochatError
from emochat.core.files import atomic_write_text
from emochat.report.tables import TABLES, report_data, table

FORMATS = ("csv", "parquet")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("report", type=Path, help="a report.json written by emochat analyze")
    parser.add_argument("--table", choices=TABLES, default="utterances", help="default: utterances")
    parser.add_argument("--format", choices=FORMATS, default="csv", help="default: csv")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="file to write (default: CSV on stdout; parquet needs a file)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        data = report_data(args.report)
    except OSError as exc:
        raise EmochatError(args.report, f"cannot read the report ({exc.strerror or exc})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EmochatError(args.report, f"not a report.json ({exc})") from None
    if not isinstance(data, dict) or "segments" not in data:
        raise EmochatError(args.report, "not a report.json (no segments)")
    frame = table(data, args.table)
    if args.format == "parquet":
        if args.output is None:
            raise EmochatError(None, "--format parquet needs -o FILE")
        frame.to_parquet(args.output, index=False)
    elif args.output is None:
        frame.to_csv(sys.stdout, index=False)
    else:
        atomic_write_text(args.output, frame.to_csv(index=False))
    return 0
