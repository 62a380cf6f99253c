"""``python -m emochat.train.speaker_embedding``: the recipe's command line."""

from emochat.train.speaker_embedding.recipe import main

if __name__ == "__main__":
    raise SystemExit(main())
