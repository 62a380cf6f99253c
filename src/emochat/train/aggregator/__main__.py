"""``python -m emochat.train.aggregator STEP [args]``: the RAVDESS recipe, or ``manifest``."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["manifest"]:
        from emochat.train.aggregator.manifest import main as fit_manifest

        return fit_manifest(argv[1:])
    from emochat.train.aggregator.recipe import main as ravdess_recipe

    return ravdess_recipe(argv) or 0


if __name__ == "__main__":
    raise SystemExit(main())
