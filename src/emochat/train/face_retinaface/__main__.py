"""``python -m emochat.train.face_retinaface``: the recipe's command line."""

from emochat.train.face_retinaface.convert import main

if __name__ == "__main__":
    raise SystemExit(main())
