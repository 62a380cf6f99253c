"""`emochat batch INPUT_DIR|MANIFEST -o OUT [--workers N] [--engine local|ray]`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from emochat.apps.arguments import add_analysis_options, analysis_options, positive_int

DESCRIPTION = """Analyse every media file of a folder (recursively) or a manifest (.txt: one path
per line; .csv/.jsonl with a 'path' column and optional id, transcript, language; a file
listed twice needs distinct ids).
Writes OUT/clips/<id>/report.json + report.html + frames.parquet (one row per face per
analysed frame: AUs, pose, expression) per clip (atomically), OUT/summary.parquet (one row
per segment: the fused and each modality's label, probabilities and weight, uncertain),
OUT/failures.json (clips that failed, with the reason, and what a
folder scan could not take: FIFOs, symlink loops, unreadable or hidden files). Run it
again after any crash (kill -9 included): finished clips are skipped, the rest redone,
and every clip appears exactly once in the summary. Each clip records the analysis
options it was made with: a rerun into the same OUT with other options (--fps ...) stops
with an error before writing anything, unless --rerun-changed analyses those clips again
with the new options; so OUT/batch.json's options produced every result."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.add_argument("input", type=Path, help="folder of media files, or a manifest file")
    parser.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=max(1, (os.cpu_count() or 2) // 2),
        help="clips analysed in parallel (default: half the CPU cores)",
    )
    parser.add_argument(
        "--engine",
        choices=["local", "ray"],
        default="local",
        help="local process pool (default) or Ray tasks",
    )
    parser.add_argument(
        "--ray-address",
        default=None,
        help="Ray cluster to join (default: start a local Ray instance)",
    )
    add_analysis_options(parser)
    parser.add_argument(
        "--retry-failed",
        action="store_true",
        help="analyse again the clips that failed in an earlier run",
    )
    parser.add_argument(
        "--rerun-changed",
        action="store_true",
        help="analyse again the finished clips whose recorded options differ from this "
        "run's (without it such a rerun stops with an error)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress, only errors")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from emochat.batch.runner import run_batch

    err = Console(stderr=True)
    # plain values: the options travel to worker processes and Ray tasks
    options = {k: v for k, v in analysis_options(args).to_mapping().items() if k != "transcript"}
    if not options["models"]:
        del options["models"]  # the registered models: markers written before --model match
    show = not args.quiet and sys.stderr.isatty()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not show,
    ) as progress:
        task = progress.add_task("batch", total=None)

        def on_clip(clip, record, n, total):
            progress.update(task, total=total, completed=n, description=clip.id)
            if not record.get("ok"):
                err.print(f"[yellow]failed[/] {clip.path}: {record.get('error')}", highlight=False)
            elif not args.quiet and not show:
                err.print(f"done {clip.id} ({record['output'].seconds:.1f} s)", highlight=False)

        result = run_batch(
            args.input,
            args.output,
            workers=args.workers,
            engine=args.engine,
            options=options,
            retry_failed=args.retry_failed,
            rerun_changed=args.rerun_changed,
            ray_address=args.ray_address,
            on_clip=on_clip,
        )
    if not args.quiet:
        err.print(
            f"{result.total} clips: {result.done} done ({result.processed} this run, "
            f"{result.skipped} already finished), {result.failed} failed; "
            f"{result.rows} segment rows in {args.output / 'summary.parquet'} "
            f"[{result.seconds:.1f} s]",
            highlight=False,
        )
    if result.skipped_inputs:
        err.print(
            f"{result.skipped_inputs} item(s) in the folder are not analysable inputs (FIFO, "
            f"symlink loop, unreadable, hidden); see {args.output / 'failures.json'}",
            highlight=False,
        )
    if result.failed:
        err.print(
            f"{result.failed} clip(s) failed; see {args.output / 'failures.json'}", highlight=False
        )
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m emochat.batch`` until the ``emochat batch`` subcommand is wired."""
    from emochat.core.errors import EmochatError

    parser = argparse.ArgumentParser(prog="emochat batch")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except EmochatError as exc:
        print(f"emochat: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("emochat: interrupted (run again to resume)", file=sys.stderr)
        return 130
