"""Argument types and the analysis options shared by analyze, batch and serve."""

from __future__ import annotations

import argparse

from emochat.pipeline import AnalyzeOptions


def positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def add_analysis_options(parser: argparse.ArgumentParser) -> None:
    """--fps, --all-frames, --segment-s, --max-faces, --stage-time-limit, --language."""
    parser.add_argument(
        "--fps",
        type=positive_float,
        default=10.0,
        help="video frames analysed per second (default: 10)",
    )
    parser.add_argument("--all-frames", action="store_true", help="analyse every video frame")
    parser.add_argument(
        "--segment-s",
        type=positive_float,
        default=4.0,
        help="segment length in seconds where there is no speech (default: 4)",
    )
    parser.add_argument(
        "--max-faces", type=positive_int, default=8, help="faces tracked at once (default: 8)"
    )
    parser.add_argument(
        "--stage-time-limit",
        type=positive_float,
        default=None,
        metavar="S",
        help="seconds any one stage may take before it is stopped with a 'timeout' warning "
        "(default: 300 + 6 x the media's duration)",
    )
    parser.add_argument(
        "--language",
        choices=["auto", "en", "zh"],
        default="auto",
        help="spoken/transcript language (default: auto-detect)",
    )


def analysis_options(args: argparse.Namespace) -> AnalyzeOptions:
    """The :class:`AnalyzeOptions` that :func:`add_analysis_options` arguments describe."""
    return AnalyzeOptions(
        fps=None if args.all_frames else args.fps,
        segment_s=args.segment_s,
        max_faces=args.max_faces,
        language=None if args.language == "auto" else args.language,
        stage_time_limit_s=args.stage_time_limit,
    )
