"""``python -m emochat.train.emochat_llm STEP [args]``: ``train`` from a config, or ``adapter``."""

from __future__ import annotations

from collections.abc import Sequence

from emochat.train.emochat_llm import STEPS
from emochat.train.emochat_llm import __doc__ as SUMMARY
from emochat.train.steps import run_step

MODULES = {
    "train": "emochat.train.emochat_llm.trainer",
    "adapter": "emochat.train.emochat_llm.adapter",
}


def main(argv: Sequence[str] | None = None) -> int:
    return run_step("emochat.train.emochat_llm", SUMMARY, STEPS, MODULES, argv)


if __name__ == "__main__":
    raise SystemExit(main())
