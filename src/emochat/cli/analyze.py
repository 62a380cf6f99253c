"""`emochat analyze`: run the pipeline per input, write outputs atomically, summarise."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from emochat.apps.arguments import analysis_options
from emochat.apps.jobs import RunProgress, error_record, run_job
from emochat.cli.watchdog import Watchdog, run_time_limit
from emochat.core.errors import EmochatError
from emochat.core.files import atomic_write_text
from emochat.ingest import probe


def output_dirs(base: Path, media: list[Path]) -> list[Path]:
    """Each input's output folder, distinct even when inputs share a name.

    One input: ``base``. Several: ``base/<stem>``; inputs whose stems collide (ignoring
    case, as some file systems do) get ``base/<file name with dots as _>`` instead
    (``a.mp4`` -> ``a_mp4``), and a name still taken gets ``-2``, ``-3``... in input order.
    """
    if len(media) == 1:
        return [base]
    stems = Counter(m.stem.casefold() for m in media)
    taken: set[str] = set()
    dirs = []
    for m in media:
        name = m.stem if stems[m.stem.casefold()] == 1 else m.name.replace(".", "_")
        candidate, n = name, 1
        while candidate.casefold() in taken:
            n += 1
            candidate = f"{name}-{n}"
        taken.add(candidate.casefold())
        dirs.append(base / candidate)
    return dirs


def print_summary(console: Console, report: dict, written: list[Path]) -> None:
    """A few lines about one analysed input, from its report.json content."""
    media = report["media"]
    console.print(
        f"[bold]{Path(media['path']).name}[/]  {media['duration_s']:.1f} s"
        + (f", {media['width']}x{media['height']}" if media.get("width") else "")
        + (", audio" if media["has_audio"] else ", no audio")
        + f" — analysed in {report['timings_s'].get('total', 0):.1f} s"
    )
    if report["overall"] is not None:
        console.print(f"overall: {_overall_line(report['overall'])}")
    if report["faces"]:
        unread = sum(f.get("read") is False for f in report["faces"])
        read = len(report["faces"]) - unread
        console.print(
            f"faces: {read} track(s)"
            + (f", {unread} more found but not readable (no AUs or expression)" if unread else "")
        )
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for col in ("time (s)", "face", "emotion", "p", "active AUs"):
        table.add_column(col)
    for seg in report["segments"]:
        emotion = seg.get("emotion")
        if emotion is None:
            continue
        face = seg.get("evidence", {}).get("face", {})
        aus = ", ".join(f"{a['au']} {a['mean']:.1f}" for a in face.get("active_aus", [])[:4])
        table.add_row(
            f"{seg['start_s']:.1f}-{seg['end_s']:.1f}",
            str(seg.get("face_id", "-")),
            emotion["label"],
            f"{emotion['probs'][emotion['label']]:.2f}",
            aus or "-",
        )
    if table.row_count:
        console.print(table)
    if report["explanation"] is not None:
        console.print(f"why: {report['explanation']['text']}")
    for w in report["warnings"]:
        console.print(f"[yellow]warning[/] ({w['stage']}/{w['code']}): {w['message']}")
    console.print("wrote " + ", ".join(str(p) for p in written))


def _overall_line(overall: dict) -> str:
    """'happy (0.71), neutral 0.20, fear 0.03  (valence ..., arousal ...)': the label once."""
    probs, label = overall["probs"], overall["label"]
    runners_up = sorted((k for k in probs if k != label), key=lambda k: -probs[k])[:2]
    return (
        f"[bold]{label}[/] ({probs[label]:.2f})"
        + "".join(f", {k} {probs[k]:.2f}" for k in runners_up)
        + f"  (valence {overall['valence']:+.2f}, arousal {overall['arousal']:.2f})"
    )


def run_analyze(args: argparse.Namespace) -> int:
    if args.output.exists() and not args.output.is_dir():
        raise EmochatError(args.output, "-o names an existing file; it must be a folder")
    options = replace(analysis_options(args), transcript=args.transcript)
    console = Console(stderr=args.json)
    err = Console(stderr=True)
    many = len(args.media) > 1
    failures = []
    with Watchdog() as watchdog:
        for media, out_dir in zip(args.media, output_dirs(args.output, args.media), strict=True):
            _arm(watchdog, media, args.time_limit)
            failure = _analyze_and_write(media, out_dir, args, options, console, err, many)
            if failure is not None:
                failures.append(failure)
    if failures:
        args.output.mkdir(parents=True, exist_ok=True)
        atomic_write_text(args.output / "failures.json", json.dumps(failures, indent=2))
        failed = f"{len(failures)} of {len(args.media)} inputs failed"
        err.print(f"{failed}; see {args.output / 'failures.json'}")
        return 1
    return 0


def _arm(watchdog: Watchdog, media: Path, limit_s: float | None) -> None:
    """Start ``media``'s countdown: the given limit, else one scaled by its duration."""
    if limit_s is not None:
        watchdog.arm(media, limit_s)
        return
    watchdog.arm(media, run_time_limit(None))  # covers the probe itself
    try:
        duration = probe(media).duration_s
    except EmochatError:
        return  # the analysis reports it
    watchdog.arm(media, run_time_limit(duration))


def _analyze_and_write(media, out_dir, args, options, console, err, many) -> dict | None:
    """Analyse one input and write its outputs; the failure record when a batch goes on.

    With several inputs ``--json`` prints JSON Lines (one report per line), so a reader
    can split them; one input keeps the indented report.
    """
    show = not args.quiet and sys.stderr.isatty()
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
            disable=not show,
        ) as progress:
            task = progress.add_task(f"{media.name}: starting", total=1.0)

            def on_progress(stage: str, fraction: float) -> None:
                progress.update(task, description=f"{media.name}: {stage}", completed=fraction)

            hooks = RunProgress(on_progress)
            output, written = run_job(media, out_dir, options, hooks, au_csv=args.au_csv)
    except EmochatError as exc:
        if not many:
            raise
        err.print(f"emochat: error: {exc}", markup=False, highlight=False)
        return {"input": str(media), "output": str(out_dir), "error": error_record(exc)["error"]}
    if args.json:
        print(json.dumps(output.report, indent=None if many else 2, ensure_ascii=False), flush=True)
    if not args.quiet:
        print_summary(console, output.report, written)
    return None
