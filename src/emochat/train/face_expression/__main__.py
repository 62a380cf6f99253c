"""``python -m emochat.train.face_expression``: the recipe's command line."""

from emochat.train.face_expression.recipe import main

if __name__ == "__main__":
    raise SystemExit(main())
