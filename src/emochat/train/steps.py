"""Run one step of a recipe whose steps are separate modules, each with ``main(argv)``."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from importlib import import_module


def steps_epilog(steps: Mapping[str, str]) -> str:
    """The steps and what each does, one per line, for a ``--help`` or a listing."""
    width = max(map(len, steps), default=0)
    return "\n".join(f"  {name:<{width}}  {what}" for name, what in steps.items())


def run_step(
    prog: str,
    description: str,
    steps: Mapping[str, str],
    modules: Mapping[str, str],
    argv: Sequence[str] | None,
) -> int:
    """Parse ``STEP [args]`` and hand the args to the step's module."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=description,
        epilog="steps:\n" + steps_epilog(steps),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("step", choices=list(modules), metavar="STEP")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the step's arguments (STEP -h)")
    parsed = parser.parse_args(argv)
    return import_module(modules[parsed.step]).main(parsed.args) or 0
