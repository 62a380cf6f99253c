"""The `emochat` command: a thin layer over the library.

User errors (:class:`~emochat.core.errors.EmochatError`) are printed as one line
naming the file and the problem, with exit code 2; batches go on past a bad item
and exit 1 at the end if any item failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emochat import __version__
from emochat.core.errors import EmochatError

EPILOG = """examples:
  emochat analyze samples/single_face.mp4 -o out/    # writes out/report.json and out/report.html
  emochat analyze clip.mp4 --au-csv --json -q         # per-frame AU CSV; report JSON on stdout
  emochat predict text "I can't believe you did this"
  emochat models speech_emotion                        # card, files with sha256, recipe
  emochat export out/report.json --table frames -o frames.csv   # per-frame AUs, pose, expression
  emochat predict speech clip.wav --model speech_emotion=my_head.npz
  emochat eval ov-mer --pred predict-openset.csv --gold check-openset.csv
"""


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line, like every other emochat error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from emochat.apps.arguments import (
        add_analysis_options,
        add_model_option,
        input_path,
        nonempty_path,
        positive_float,
    )
    from emochat.cli.predict import PREDICT_SLOTS

    parser = _Parser(
        prog="emochat",
        description="Multimodal emotion analysis of video: facial action units, voice and "
        "words, fused and explained. Runs offline on CPU.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"emochat {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    an = sub.add_parser(
        "analyze",
        help="analyse video/audio/photo files and write report.json + report.html",
        description="Analyse one or more media files (any format ffmpeg decodes, or a photo). "
        "Each gets DIR/report.json (schema: emochat/report/report.schema.json) and "
        "DIR/report.html; with several inputs, a folder per input: DIR/<stem>/, or where "
        "inputs share a stem (ignoring case) DIR/<file name with dots as _>/ (a.mp4 -> "
        "DIR/a_mp4/, a.jpg -> DIR/a_jpg/), then -2, -3... in input order if still the same. "
        "Inputs that fail are listed in DIR/failures.json with that folder (left unwritten).",
    )
    an.add_argument("media", nargs="+", type=input_path, help="media file(s) to analyse")
    an.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("emochat-out"),
        help="output folder (default: ./emochat-out)",
    )
    an.add_argument(
        "--transcript", type=Path, help="transcript file (SRT, WebVTT, plain text, JSON words)"
    )
    an.add_argument(
        "--au-csv",
        action="store_true",
        help="also write DIR/au.csv, per-frame AUs in OpenFace 2 format",
    )
    add_analysis_options(an)
    an.add_argument(
        "--time-limit",
        type=positive_float,
        default=None,
        metavar="S",
        help="seconds one input may take in all; past it emochat stops with exit code 3 "
        "(default: 900 + 12 x the media's duration)",
    )
    an.add_argument(
        "--json",
        action="store_true",
        help="print the report JSON on stdout; with several inputs JSON Lines, one report "
        "per line (per input analysed)",
    )
    an.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")

    pr = sub.add_parser(
        "predict",
        help="one modality's emotion for each input, one JSON line each",
        description="Predict the emotion of single inputs with one modality's model. "
        "Prints one JSON line per input: {input, label, probs}.",
    )
    pr_sub = pr.add_subparsers(dest="modality", metavar="MODALITY", required=True)
    for name, helptext in (
        ("face", "photos of faces or face crops, or folders of them"),
        ("speech", "audio files of speech"),
        ("text", "lines of text, or - to read lines from stdin"),
    ):
        p = pr_sub.add_parser(name, help=helptext)
        p.add_argument(
            "inputs", nargs="+", type=None if name == "text" else nonempty_path, help=helptext
        )
        p.add_argument("--format", choices=["jsonl"], default="jsonl")
        add_model_option(p, (PREDICT_SLOTS[name],))
        if name == "text":
            p.add_argument(
                "--context",
                action="store_true",
                help="the inputs are one conversation: each line gets the lines before it "
                "as dialogue context",
            )
            p.add_argument(
                "--domain",
                default=None,
                help="prior calibration: dialogue (default), social, weibo, self_report or none",
            )
            p.add_argument(
                "--details",
                action="store_true",
                help="also print open-vocabulary words and lexicon cues",
            )
        if name == "face":
            p.add_argument(
                "--crops",
                action="store_true",
                help="every image is a face crop (FER2013-style): classify it whole, without "
                "face detection (default: only a small square image with no face found is)",
            )

    from emochat.cli import models as models_cli

    models_cli.add_arguments(
        sub.add_parser(
            "models",
            help="the models emochat runs: versions, files with sha256, cards, recipes",
            description="List every registered model (shipped: trained by emochat; vendored: "
            "another's, copied into emochat with its licence; pypi: a dependency's), or show "
            "one: its card, files with full sha256, and recipe. "
            "Shipped models in a slot can be replaced with --model SLOT=NAME|PATH.",
        )
    )

    from emochat.cli import export as export_cli

    export_cli.add_arguments(
        sub.add_parser(
            "export",
            help="a report.json as a CSV or Parquet table: frames, utterances or words",
            description="Write one of a report's tidy tables: frames (one row per face per "
            "analysed frame: AUs, pose, expression), utterances (one row per segment: each "
            "modality's and the fused label and probabilities) or words (prosody, attention).",
        )
    )

    ev = sub.add_parser(
        "eval",
        help="metrics on a benchmark or your own manifest",
        description="Compute the metrics that BENCHMARKS.md quotes.",
    )
    from emochat.eval import cli as eval_cli

    eval_cli.add_arguments(ev)

    from emochat.train import cli as train_cli

    train_cli.add_arguments(
        sub.add_parser(
            "train",
            help="train a model on the corpora or your own labelled clips",
            description="Run a model's training recipe: emochat train MODEL [STEP] [args]. "
            "Without MODEL: list the models and their steps.",
        )
    )

    from emochat.batch import cli as batch_cli
    from emochat.serve import cli as serve_cli

    batch_cli.add_arguments(
        sub.add_parser(
            "batch",
            help="analyse a folder or manifest of clips, resumable, with a Parquet summary",
            description="Analyse many clips: one report folder per clip, written atomically, "
            "frames.parquet per clip, summary.parquet with one row per segment (each "
            "modality's probabilities), failures.json; re-running resumes.",
        )
    )
    serve_cli.add_arguments(
        sub.add_parser(
            "serve",
            help="run the REST service (FastAPI) with a persistent job queue",
            description="Serve POST /v1/analyze and job/result endpoints; jobs persist in SQLite.",
        )
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        parser.print_help()
        return 0
    args = parser.parse_args(argv)
    try:
        if args.command == "analyze":
            from emochat.cli.analyze import run_analyze

            return run_analyze(args)
        if args.command == "predict":
            from emochat.cli.predict import run_predict

            return run_predict(args)
        if args.command == "models":
            from emochat.cli import models as models_cli

            return models_cli.run(args)
        if args.command == "export":
            from emochat.cli import export as export_cli

            return export_cli.run(args)
        if args.command == "eval":
            from emochat.eval import cli as eval_cli

            return eval_cli.run(args)
        if args.command == "train":
            from emochat.train import cli as train_cli

            return train_cli.run(args)
        if args.command == "batch":
            from emochat.batch import cli as batch_cli

            return batch_cli.run(args)
        if args.command == "serve":
            from emochat.serve import cli as serve_cli

            return serve_cli.run(args)
    except EmochatError as exc:
        print(f"emochat: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("emochat: interrupted", file=sys.stderr)
        return 130
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
