"""`emochat serve`: the REST service under uvicorn (loopback by default)."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from emochat.apps.arguments import add_model_option, chosen_models, positive_float, positive_int
from emochat.core.settings import serve_token
from emochat.models.registry import SLOTS
from emochat.options import AnalyzeOptions

DESCRIPTION = """Run the analysis service: POST /v1/analyze (upload, or a server-side path inside
--allowed-root) answers a job id; GET /v1/jobs/{id} gives status and progress;
GET /v1/jobs/{id}/result and /report.html give the report. Jobs live in
DATA_DIR/jobs.sqlite3: a restart loses none and resumes the queued ones; finished
jobs and their files are deleted after --keep-hours, or with DELETE /v1/jobs/{id}.
Every request needs 'Authorization: Bearer TOKEN' when a token is set: --token,
$EMOCHAT_SERVE_TOKEN, or, on any address but loopback, one generated at start
(printed once, and kept in DATA_DIR/token). OpenAPI: /openapi.json (browsable at
/docs; open /docs?token=TOKEN in a browser)."""


def non_negative_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, loopback only)",
    )
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path("emochat-serve"),
        help="jobs database, uploads and results (default: ./emochat-serve)",
    )
    parser.add_argument(
        "--allowed-root",
        type=Path,
        default=None,
        help="allow jobs on server-side files under this folder (default: off)",
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        help="analyses run in parallel, one process each (default: 1)",
    )
    parser.add_argument(
        "--max-upload-mb",
        type=positive_float,
        default=500.0,
        help="largest accepted upload in MB (default: 500)",
    )
    parser.add_argument(
        "--max-queue",
        type=positive_int,
        default=1000,
        help="queued jobs beyond which submissions get 503 (default: 1000)",
    )
    parser.add_argument(
        "--token",
        default=None,
        help="require 'Authorization: Bearer TOKEN' (default: $EMOCHAT_SERVE_TOKEN; if "
        "unset, a generated token on any --host but loopback, none on loopback)",
    )
    parser.add_argument(
        "--no-auth",
        action="store_true",
        help="no token even if $EMOCHAT_SERVE_TOKEN is set (loopback --host only)",
    )
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a Host name clients reach the server by, besides its address, localhost and "
        "IP addresses (other names are refused against DNS rebinding); repeatable",
    )
    parser.add_argument(
        "--keep-hours",
        type=non_negative_float,
        default=24.0,
        help="delete finished jobs, uploads and results included, this many hours after "
        "they finished (default: 24; 0 keeps them forever)",
    )
    parser.add_argument(
        "--max-disk-gb",
        type=positive_float,
        default=None,
        help="refuse new jobs (507) while the jobs' uploads and results take more than "
        "this many GB (default: no quota)",
    )
    parser.add_argument(
        "--fps",
        type=positive_float,
        default=AnalyzeOptions.fps,
        help=f"default frames analysed per second (default: {AnalyzeOptions.fps:g})",
    )
    parser.add_argument(
        "--segment-s",
        type=positive_float,
        default=AnalyzeOptions.segment_s,
        help=f"default segment length in seconds (default: {AnalyzeOptions.segment_s:g})",
    )
    add_model_option(parser, SLOTS)
    parser.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    parser.add_argument("--analyzer", default=None, help=argparse.SUPPRESS)


def settings_from(args: argparse.Namespace, token: str | None = None):
    """The service's settings from its arguments, with the token
    :func:`~emochat.serve.security.startup_token` chose."""
    from emochat.serve.app import ServeSettings

    return ServeSettings(
        data_dir=args.data_dir,
        allowed_root=args.allowed_root,
        workers=args.workers,
        max_upload_bytes=int(args.max_upload_mb * 1024 * 1024),
        max_queue=args.max_queue,
        token=token,
        host=args.host,
        allowed_hosts=tuple(args.allowed_host),
        keep_hours=args.keep_hours,
        max_disk_bytes=None if args.max_disk_gb is None else int(args.max_disk_gb * 1e9),
        fps=args.fps,
        segment_s=args.segment_s,
        analyzer=args.analyzer,
        models=chosen_models(args),
    )


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from emochat.serve.app import create_app
    except ImportError as exc:
        print(
            f"emochat serve needs the [serve] extra (pip install 'emochat[serve]'): {exc}",
            file=sys.stderr,
        )
        return 2
    if args.allowed_root is not None and not args.allowed_root.is_dir():
        print(
            f"emochat: error: {args.allowed_root}: --allowed-root is not a folder", file=sys.stderr
        )
        return 2
    from emochat.serve.security import AuthError, startup_token

    try:
        given = args.token or (None if args.no_auth else serve_token())
        token, generated = startup_token(args.host, given, args.no_auth, args.data_dir)
    except AuthError as exc:
        print(f"emochat: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"emochat: error: {args.data_dir}: cannot write there ({exc})", file=sys.stderr)
        return 2
    if generated:
        url_host = f"[{args.host}]" if ":" in args.host else args.host
        print(
            f"emochat serve: access token {token} (also in {args.data_dir / 'token'}); send "
            f"'Authorization: Bearer TOKEN', or open http://{url_host}:{args.port}/docs"
            f"?token={token} in a browser",
            file=sys.stderr,
            flush=True,
        )
    app = create_app(settings_from(args, token))
    uvicorn.run(
        app, host=args.host, port=args.port, log_level=args.log_level, timeout_graceful_shutdown=10
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m emochat.serve`` until the ``emochat serve`` subcommand is wired."""
    parser = argparse.ArgumentParser(prog="emochat serve")
    add_arguments(parser)
    return run(parser.parse_args(argv))
