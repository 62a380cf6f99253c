"""``emochat eval``: ``ov-mer``, ``hit-rate``, ``manifest`` and one sub-command per corpus.

The lead CLI calls :func:`add_arguments` on the ``eval`` parser and :func:`run` with
the parsed arguments. Each sub-command is an :class:`~emochat.eval.registry.Evaluator`
in :data:`~emochat.eval.registry.EVALUATORS`; registering another one there (before
the parser is built) adds it. This module imports nothing heavy: the metrics, pandas
and models load only when a sub-command runs. User errors are raised as
:class:`~emochat.core.errors.EmochatError`, which the CLI prints as one line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from emochat.core.errors import DataError
from emochat.data.csvio import read_rows
from emochat.data.registry import DATASETS
from emochat.eval.registry import EVALUATORS, Evaluator, NoModelError, register_evaluator
from emochat.options import AUTO, LANGUAGE_CHOICES

DEFAULT_OUT = Path("eval-results")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _write_json(path: Path, payload: dict) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        raise DataError(path, f"cannot write: {exc.strerror or exc}") from None


def _wheel_maps(args: argparse.Namespace):
    from emochat.eval.ovmer import load_wheel_maps

    return load_wheel_maps(args.wheels, source=args.mapping)


def _add_wheel_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--wheels",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder with wheel1-5.csv, synonym.csv, format.csv, wheel_mapping.json "
        "(default: DATA_ROOT/ov-mer)",
    )
    p.add_argument(
        "--mapping",
        choices=["auto", "json", "csv"],
        default="auto",
        help="read the word mappings from wheel_mapping.json or build them from the "
        "CSVs (they agree; default: auto = the JSON when present)",
    )
    p.add_argument(
        "--json",
        type=Path,
        default=None,
        metavar="OUT",
        help="also write the figures as JSON to OUT",
    )


def _add_pred_gold(p: argparse.ArgumentParser, pred_help: str, gold_help: str) -> None:
    """``--pred FILE --gold FILE`` and the wheel options (ov-mer, hit-rate)."""
    p.add_argument("--pred", type=Path, required=True, metavar="FILE", help=pred_help)
    p.add_argument("--gold", type=Path, required=True, metavar="FILE", help=gold_help)
    _add_wheel_options(p)


def _add_run_options(p: argparse.ArgumentParser, what: str) -> None:
    """``--limit``, ``-o/--out`` and ``--no-write`` (corpora and manifests)."""
    p.add_argument(
        "--limit", type=int, default=None, metavar="N", help=f"score only the first N {what}"
    )
    p.add_argument(
        "-o",
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"where to write NAME-SPLIT-MODALITY.json/.md/-confusion.png "
        f"(default: ./{DEFAULT_OUT})",
    )
    p.add_argument("--no-write", action="store_true", help="print only, write no files")


def _warn_missing(missing: list[str], total: int) -> None:
    if missing:
        print(
            f"emochat: warning: {len(missing)} of {total} gold samples have no prediction "
            f"(scored as empty), e.g. {missing[0]}",
            file=sys.stderr,
        )


# --- ov-mer -----------------------------------------------------------------------------


def _ovmer_args(p: argparse.ArgumentParser) -> None:
    _add_pred_gold(
        p,
        "predicted labels, CSV name,openset (a Python-list string of words)",
        "ground-truth labels, same format (e.g. ov-mer/check-openset.csv)",
    )


def _ovmer_run(args: argparse.Namespace) -> int:
    from emochat.eval.ovmer import ov_mer_scores, read_openset_csv

    gold = read_openset_csv(args.gold)
    pred = read_openset_csv(args.pred)
    result = ov_mer_scores(gold, pred, _wheel_maps(args))
    print(f"OV-MER emotion-wheel metric: {result.n_gold} gold samples, pred {args.pred}")
    print(result.format_table())
    _warn_missing(result.missing_predictions, result.n_gold)
    if args.json:
        payload = result.as_dict() | {"pred": str(args.pred), "gold": str(args.gold)}
        _write_json(args.json, payload)
    return 0


# --- hit-rate ---------------------------------------------------------------------------


def _hitrate_args(p: argparse.ArgumentParser) -> None:
    _add_pred_gold(
        p,
        "predicted open-vocabulary labels, CSV name,openset",
        "gold basic labels, CSV name,label (or name,openset)",
    )


def _read_gold_labels(path: Path) -> dict[str, str]:
    rows = read_rows(path, ("name",))
    column = next((c for c in ("label", "openset") if rows and c in rows[0][1]), None)
    if column is None:
        raise DataError(path, "line 1: need a label or openset column")
    gold: dict[str, str] = {}
    for line, row in rows:
        name = row["name"].strip()
        if name in gold:
            raise DataError(path, f"line {line}: sample {name!r} listed twice")
        gold[name] = row[column]
    return gold


def _hitrate_run(args: argparse.Namespace) -> int:
    from emochat.eval.ovmer import hit_rate, read_openset_csv

    gold = _read_gold_labels(args.gold)
    pred = read_openset_csv(args.pred)
    result = hit_rate(gold, pred, _wheel_maps(args))
    print(f"MER-UniBench hit rate: {result.n_gold} gold samples, pred {args.pred}")
    for wheel, value in result.per_wheel.items():
        print(f"{wheel:<8}{value:>8.4f}{result.n_scored[wheel]:>6d}")
    print(f"{'mean':<8}{result.hit_rate:>8.4f}")
    _warn_missing(result.missing_predictions, result.n_gold)
    if args.json:
        _write_json(args.json, result.as_dict() | {"pred": str(args.pred), "gold": str(args.gold)})
    return 0


# --- corpora ----------------------------------------------------------------------------


def _dataset_args(name: str):
    spec = DATASETS[name]

    def add(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--split",
            choices=spec.splits,
            default=spec.held_out,
            help=f"split to score (default: {spec.held_out}, the held-out one)",
        )
        p.add_argument(
            "--modality",
            choices=spec.modalities,
            default=spec.modalities[0],
            help=f"which model to score (default: {spec.modalities[0]})",
        )
        p.add_argument(
            "--labels",
            choices=["basic", "native"],
            default="basic",
            help="compare in the 7 basic labels or the corpus's own (default: basic)",
        )
        p.add_argument(
            "--data-root",
            type=Path,
            default=None,
            metavar="DIR",
            help="corpora folder (default: EMOCHAT_DATA_ROOT or ../shared/data)",
        )
        if name == "meld":
            p.add_argument(
                "--media-root",
                type=Path,
                default=None,
                metavar="DIR",
                help="MELD.Raw folder with train_splits/, dev_splits_complete/, "
                "output_repeated_splits_test/ (for --modality video)",
            )
        if "text" in spec.modalities:
            p.add_argument(
                "--calibration",
                default=None,
                metavar="DOMAIN",
                help="the text model's calibration (domain) to apply "
                f"(default: {spec.calibration or 'the model default'}, this corpus's)",
            )
        _add_run_options(p, "samples (smoke tests)")

    return add


def _dataset_run(name: str):
    def run(args: argparse.Namespace) -> int:
        from emochat.eval.runner import evaluate_dataset, write_outputs

        try:
            result = evaluate_dataset(
                name,
                args.split,
                args.modality,
                label_space=args.labels,
                limit=args.limit,
                root=args.data_root,
                media_root=getattr(args, "media_root", None),
                calibration=getattr(args, "calibration", None),
            )
        except NoModelError as exc:
            raise NoModelError(
                None, _one_line(f"cannot evaluate {name} --modality {args.modality}: {exc}")
            ) from None
        print(result.summary_table())
        if not args.no_write:
            for path in write_outputs(result, args.out).values():
                print(f"wrote {path}")
        return 0

    return run


# --- manifest ---------------------------------------------------------------------------


def _manifest_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "manifest",
        type=Path,
        metavar="FILE",
        help="CSV with columns path,label and optional transcript (a file), valence; or a "
        "folder with one folder of clips or photos per label (anger/, happy/, ...)",
    )
    p.add_argument(
        "--language",
        choices=LANGUAGE_CHOICES,
        default=AUTO,
        metavar="CODE",
        help="spoken/transcript language passed to the pipeline: auto (default) or a "
        "whisper language code",
    )
    _add_run_options(p, "clips")
    p.add_argument("-q", "--quiet", action="store_true", help="no per-clip progress on stderr")


def _manifest_run(args: argparse.Namespace) -> int:
    from emochat.eval.runner import evaluate_manifest, write_outputs

    def progress(i: int, n: int, path: str) -> None:
        if not args.quiet:
            print(f"[{i + 1}/{n}] {path}", file=sys.stderr, flush=True)

    try:
        result = evaluate_manifest(
            args.manifest, language=args.language, limit=args.limit, progress=progress
        )
    except NoModelError as exc:
        raise NoModelError(None, _one_line(f"cannot evaluate a manifest: {exc}")) from None
    print(result.summary_table())
    for failure in result.failures:
        print(f"emochat: warning: {_one_line(failure)}", file=sys.stderr)
    if not args.no_write:
        for path in write_outputs(result, args.out).values():
            print(f"wrote {path}")
    return 1 if result.failures else 0


# --- wiring -----------------------------------------------------------------------------


def _builtin_evaluators() -> list[Evaluator]:
    evaluators = [
        Evaluator(
            "ov-mer",
            "OV-MER emotion-wheel precision/recall/F of open-vocabulary labels",
            _ovmer_args,
            _ovmer_run,
        ),
        Evaluator(
            "hit-rate",
            "MER-UniBench hit rate of open-vocabulary labels on basic labels",
            _hitrate_args,
            _hitrate_run,
        ),
        Evaluator(
            "manifest",
            "run the full pipeline on a clip list and score it",
            _manifest_args,
            _manifest_run,
        ),
    ]
    for name, spec in DATASETS.items():
        evaluators.append(
            Evaluator(name, spec.description, _dataset_args(name), _dataset_run(name))
        )
    return evaluators


for _evaluator in _builtin_evaluators():
    if _evaluator.name not in EVALUATORS:
        register_evaluator(_evaluator)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``emochat eval`` sub-commands (one per registered evaluator) to ``parser``."""
    sub = parser.add_subparsers(dest="eval_target", metavar="TARGET", required=True)
    for evaluator in EVALUATORS.values():
        p = sub.add_parser(evaluator.name, help=evaluator.help, description=evaluator.help)
        evaluator.add_arguments(p)


def run(args: argparse.Namespace) -> int:
    """Run the ``emochat eval`` sub-command named in ``args``; returns the exit code."""
    target = getattr(args, "eval_target", None)
    evaluator = EVALUATORS.get(target)
    if evaluator is None:
        raise DataError(None, f"unknown evaluation {target!r}; known: {', '.join(EVALUATORS)}")
    return evaluator.run(args)
