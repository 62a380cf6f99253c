"""Argument types and the analysis options shared by analyze, batch and serve.

Defaults and choices come from :class:`~emochat.options.AnalyzeOptions`, the one copy.
Here, beside the front ends rather than inside ``emochat.cli``, so that batch and serve
read them without importing the CLI that dispatches to them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from emochat.core.errors import EmochatError
from emochat.models import registry
from emochat.options import (
    AUTO,
    EXPRESSION_VIEWS,
    LANGUAGE_CHOICES,
    REASONER_KINDS,
    AnalyzeOptions,
    reasoner_settings,
)


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


def nonempty_path(text: str) -> str:
    """A file argument as given; an empty one is refused here, since ``Path("")`` is the
    current folder (``analyze ""`` said "is a directory", ``predict face ""`` scanned it)."""
    if not text:
        raise argparse.ArgumentTypeError("empty path: name a file")
    return text


def input_path(text: str) -> Path:
    return Path(nonempty_path(text))


def model_assignment(text: str) -> tuple[str, str]:
    """``SLOT=NAME|PATH`` as (slot, value)."""
    slot, sep, value = text.partition("=")
    if not sep or not slot or not value:
        raise argparse.ArgumentTypeError(f"expected SLOT=NAME|PATH, got {text!r}")
    return slot.strip(), value.strip()


def add_model_option(parser: argparse.ArgumentParser, slots: tuple[str, ...]) -> None:
    """--model SLOT=NAME|PATH, repeatable."""
    parser.add_argument(
        "--model",
        dest="models",
        action="append",
        type=model_assignment,
        default=[],
        metavar="SLOT=NAME|PATH",
        help=f"use another model in a slot ({', '.join(slots)}): a registered name or a "
        "compatible weight file (see emochat models); repeatable",
    )


def chosen_models(args: argparse.Namespace) -> dict[str, str]:
    """The --model choices as ``AnalyzeOptions.models``, checked and loaded now (a bad slot
    or file stops the command before any input is read); files as absolute paths, so
    worker processes read the same ones."""
    chosen = registry.choices(dict(args.models))
    return {slot: choice.label for slot, choice in chosen.items()}


def add_analysis_options(parser: argparse.ArgumentParser) -> None:
    """--fps, --all-frames, --segment-s, --max-faces, --expression-views, --stage-time-limit,
    --language, --reasoner and its config, --model."""
    parser.add_argument(
        "--fps",
        type=positive_float,
        default=AnalyzeOptions.fps,
        help=f"video frames analysed per second (default: {AnalyzeOptions.fps:g})",
    )
    parser.add_argument("--all-frames", action="store_true", help="analyse every video frame")
    parser.add_argument(
        "--segment-s",
        type=positive_float,
        default=AnalyzeOptions.segment_s,
        help="segment length in seconds where there is no speech "
        f"(default: {AnalyzeOptions.segment_s:g})",
    )
    parser.add_argument(
        "--max-faces",
        type=positive_int,
        default=AnalyzeOptions.max_faces,
        help=f"faces tracked at once (default: {AnalyzeOptions.max_faces})",
    )
    parser.add_argument(
        "--expression-views",
        choices=EXPRESSION_VIEWS,
        default=AnalyzeOptions.expression_views,
        help="test-time views per face for the expression model: zoom (4 views, default, "
        "most accurate), mirror (2, twice as fast), none (1)",
    )
    parser.add_argument(
        "--stage-time-limit",
        type=positive_float,
        default=AnalyzeOptions.stage_time_limit_s,
        metavar="S",
        help="seconds any one stage may take before it is stopped with a 'timeout' warning "
        "(default: 300 + 6 x the media's duration)",
    )
    parser.add_argument(
        "--language",
        choices=LANGUAGE_CHOICES,
        default=AUTO,
        help="spoken/transcript language (default: auto-detect)",
    )
    parser.add_argument(
        "--reasoner",
        choices=REASONER_KINDS,
        help="who writes the explanation: the built-in grounded reasoner (default), an "
        "OpenAI-compatible server, a GGUF through llama-cpp-python, transformers, or the "
        "trained multimodal LLM that reads the cue vectors (emochat-llm)",
    )
    parser.add_argument(
        "--reasoner-config",
        type=Path,
        metavar="TOML",
        help="reasoner settings file ([reasoner] table, see configs/); flags override it",
    )
    parser.add_argument(
        "--reasoner-url", metavar="URL", help="openai: server root, e.g. http://127.0.0.1:8080/v1"
    )
    parser.add_argument(
        "--reasoner-model",
        metavar="NAME|PATH",
        help="openai: the server's model name; llama-cpp/transformers: a GGUF or checkpoint "
        "(default: the gemma-3-270m GGUF package); emochat-llm: an adapter folder "
        "(default: the shipped one)",
    )
    add_model_option(parser, registry.SLOTS)


def analysis_options(args: argparse.Namespace) -> AnalyzeOptions:
    """The :class:`AnalyzeOptions` that :func:`add_analysis_options` arguments describe;
    a value out of its range is a one-line :class:`EmochatError`, before any input is read."""
    try:
        return AnalyzeOptions(
            fps=None if args.all_frames else args.fps,
            segment_s=args.segment_s,
            max_faces=args.max_faces,
            expression_views=args.expression_views,
            language=args.language,
            stage_time_limit_s=args.stage_time_limit,
            reasoner=reasoner_settings(
                args.reasoner, args.reasoner_config, args.reasoner_url, args.reasoner_model
            ),
            models=chosen_models(args),
        )
    except ValueError as exc:
        raise EmochatError(None, str(exc)) from None
