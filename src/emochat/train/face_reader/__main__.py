"""``python -m emochat.train.face_reader STEP``: the recipe's command line."""

from emochat.train.face_reader.recipe import main

if __name__ == "__main__":
    raise SystemExit(main())
