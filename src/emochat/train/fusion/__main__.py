"""``python -m emochat.train.fusion``: the recipe's command line."""

from emochat.train.fusion.recipe import main

if __name__ == "__main__":
    raise SystemExit(main())
