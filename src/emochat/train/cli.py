"""``emochat train MODEL [STEP] [args]``: run a model's recipe; no MODEL lists them all.

Each recipe is the package :mod:`emochat.train.<model>` (also runnable as
``python -m emochat.train.<model>``); its steps and their arguments are its own.
"""

from __future__ import annotations

import argparse
from importlib import import_module

from emochat.train.steps import steps_epilog

MODELS = (
    "face_expression",
    "speech_emotion",
    "text_emotion",
    "aggregator",
    "fusion",
    "emochat_llm",
    "au_calibration",
    "face_reader",
    "face_mtcnn",
    "face_retinaface",
    "speaker_embedding",
)
"""Every recipe package, in the order ``emochat train`` lists them."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "model", nargs="?", choices=MODELS, metavar="MODEL", help="omit to list models and steps"
    )
    parser.add_argument(
        "args",
        nargs=argparse.REMAINDER,
        metavar="[STEP] ...",
        help="the recipe's step and arguments (emochat train MODEL -h)",
    )


def run(args: argparse.Namespace) -> int:
    if args.model is None:
        print(recipes_listing())
        return 0
    recipe = import_module(f"emochat.train.{args.model}.__main__")
    return recipe.main(args.args) or 0


def recipes_listing() -> str:
    """Every model with the first line of its recipe's docstring and its steps."""
    blocks = []
    for model in MODELS:
        package = import_module(f"emochat.train.{model}")
        summary = package.__doc__.split("\n\n")[0].replace("\n", " ")
        steps = steps_epilog(package.STEPS) or "  (a single step: no STEP argument)"
        blocks.append(f"{model}: {summary}\n{steps}")
    return "\n\n".join(blocks)
