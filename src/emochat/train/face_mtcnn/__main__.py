"""``python -m emochat.train.face_mtcnn``: the recipe's command line."""

from emochat.train.face_mtcnn.export import main

if __name__ == "__main__":
    raise SystemExit(main())
