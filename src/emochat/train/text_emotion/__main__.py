"""``python -m emochat.train.text_emotion STEP [args]``: one module per step."""

from __future__ import annotations

from collections.abc import Sequence

from emochat.train.steps import run_step
from emochat.train.text_emotion import STEPS
from emochat.train.text_emotion import __doc__ as SUMMARY


def main(argv: Sequence[str] | None = None) -> int:
    modules = {step: f"emochat.train.text_emotion.{step}" for step in STEPS}
    return run_step("emochat.train.text_emotion", SUMMARY, STEPS, modules, argv)


if __name__ == "__main__":
    raise SystemExit(main())
