"""``python -m emochat.train.speech_emotion``: the recipe's command line."""

from emochat.train.speech_emotion.recipe import main

if __name__ == "__main__":
    raise SystemExit(main())
