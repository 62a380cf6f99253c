"""Argument types and the analysis options shared by analyze, batch and serve.

Defaults and choices come from :class:`~emochat.options.AnalyzeOptions`, the one copy.
Here, beside the front ends rather than inside ``emochat.cli``, so that batch and serve
read them without importing the CLI that dispatches to them.
"""

from __future__ import annotations

import argparse
import json
import tomllib
from pathlib import Path
from typing import Any

from emochat import provenance
from emochat.core.errors import EmochatError
from emochat.models import registry
from emochat.options import (
    ASR_MODELS,
    CHINESE_SCRIPTS,
    EXPRESSION_VIEWS,
    MAX_BEAM_SIZE,
    MAX_FACES_LIMIT,
    REASONER_KINDS,
    VIDEO_MAX_FACES,
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
    """--options, --fps, --all-frames, --segment-s, --max-faces, --expression-views,
    --no-micro-reread, --stage-time-limit, --language, --asr-model, --beam-size, --chinese-script,
    --record-paths, --reasoner and its config, --model.

    The value flags default to None ("not given"), so that :func:`analysis_options` can lay
    them over an ``--options`` file; the help names the real defaults."""
    parser.add_argument(
        "--options",
        dest="options_file",
        type=Path,
        metavar="FILE",
        help="start from the options in FILE: a report.json (re-runs the analysis its "
        "provenance records), or a JSON/TOML table of option names (fps, segment_s, "
        "language, ...); flags given here override it",
    )
    parser.add_argument(
        "--fps",
        type=positive_float,
        help=f"video frames analysed per second (default: {AnalyzeOptions.fps:g})",
    )
    parser.add_argument("--all-frames", action="store_true", help="analyse every video frame")
    parser.add_argument(
        "--segment-s",
        type=positive_float,
        help="segment length in seconds where there is no speech "
        f"(default: {AnalyzeOptions.segment_s:g})",
    )
    parser.add_argument(
        "--max-faces",
        type=positive_int,
        help=f"faces tracked at once (default: {VIDEO_MAX_FACES} on video, {MAX_FACES_LIMIT} "
        "on a photo)",
    )
    parser.add_argument(
        "--expression-views",
        choices=EXPRESSION_VIEWS,
        help="test-time views per face for the expression model: zoom (4 views, default, "
        "most accurate), mirror (2, twice as fast), none (1)",
    )
    parser.add_argument(
        "--no-micro-reread",
        dest="micro_reread",
        action="store_const",
        const=False,
        help="do not re-decode micro-expression candidates at the native frame rate: "
        "faster on busy footage, and no event is flagged micro",
    )
    parser.add_argument(
        "--stage-time-limit",
        type=positive_float,
        metavar="S",
        help="seconds any one stage may take before it is stopped with a 'timeout' warning "
        "(default: 300 + 6 x the media's duration)",
    )
    parser.add_argument(
        "--language",
        metavar="CODE",
        help="spoken/transcript language: auto (default: detected) or any whisper language "
        "code (en, zh, fr, de, es, ja, ar, hi, ...)",
    )
    parser.add_argument(
        "--asr-model",
        choices=ASR_MODELS,
        help="speech recogniser: base (default, 99 languages) or tiny.en (English, ~3x faster)",
    )
    parser.add_argument(
        "--beam-size",
        type=positive_int,
        help=f"speech recogniser beam width, 1-{MAX_BEAM_SIZE} (default: "
        f"{AnalyzeOptions.beam_size}; 1 is greedy and fastest)",
    )
    parser.add_argument(
        "--chinese-script",
        choices=CHINESE_SCRIPTS,
        help="write Chinese words in simplified or traditional characters (default: auto, "
        "a transcript as written, recognised speech in its dominant script)",
    )
    parser.add_argument(
        "--record-paths",
        action="store_true",
        default=None,
        help="write the input's absolute path into the report's provenance (default: only "
        "its name, size and sha256)",
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
    """The :class:`AnalyzeOptions` that :func:`add_analysis_options` arguments describe: an
    ``--options`` file's, with the flags given on top; a value out of its range is a one-line
    :class:`EmochatError`, before any input is read."""
    # analyze takes one --transcript; batch and serve take theirs per clip or job
    values = options_file_values(
        args.options_file, getattr(args, "transcript", None), hasattr(args, "transcript")
    )
    given = {
        "fps": args.fps,
        "segment_s": args.segment_s,
        "max_faces": args.max_faces,
        "expression_views": args.expression_views,
        "micro_reread": args.micro_reread,
        "stage_time_limit_s": args.stage_time_limit,
        "language": args.language,
        "asr_model": args.asr_model,
        "beam_size": args.beam_size,
        "chinese_script": args.chinese_script,
        "record_paths": args.record_paths,
    }
    values.update({k: v for k, v in given.items() if v is not None})
    if args.all_frames:
        values["fps"] = None
    try:
        reasoner = reasoner_settings(
            args.reasoner, args.reasoner_config, args.reasoner_url, args.reasoner_model
        )
        if reasoner is not None:
            values["reasoner"] = reasoner
        if args.models:
            values["models"] = chosen_models(args)
        return AnalyzeOptions.from_mapping(values)
    except ValueError as exc:
        raise EmochatError(args.options_file, str(exc)) from None


def options_file_values(
    path: Path | None, transcript: Path | None = None, check_transcript: bool = True
) -> dict[str, Any]:
    """Option values from a report.json's provenance or a JSON/TOML table of options ({}
    without a file). A report's transcript is not taken from it (the file may have moved):
    when the report names one, ``transcript`` (--transcript) must be that file, unless
    ``check_transcript`` is off (a front end whose transcripts come per clip)."""
    if path is None:
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EmochatError(path, f"cannot read the options file ({exc})") from None
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        kind = "TOML" if path.suffix.lower() == ".toml" else "JSON"
        raise EmochatError(path, f"not a {kind} options file ({exc})") from None
    if not isinstance(data, dict):
        raise EmochatError(path, "an options file holds a table of option names and values")
    if "schema_version" not in data:
        return data
    values, named = provenance.options_from_report(data, path)
    mismatch = (
        check_transcript
        and named is not None
        and (
            transcript is None
            or (transcript.is_file() and not provenance.transcript_matches(named, transcript))
        )
    )
    if mismatch:
        raise EmochatError(
            path,
            f"this report's analysis read the transcript {named.get('name')!r} "
            f"(sha256 {str(named.get('sha256'))[:12]}...): pass that file as --transcript",
        )
    return values
