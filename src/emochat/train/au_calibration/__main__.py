"""``python -m emochat.train.au_calibration``: the recipe's command line."""

from emochat.train.au_calibration.recipe import main

if __name__ == "__main__":
    raise SystemExit(main())
