"""The speech-emotion head (``emochat/models/speech_emotion/speech_emotion.npz``), trained on RAVDESS.

The recipe is :mod:`.recipe`; run ``python -m emochat.train.speech_emotion STEP``.
"""

STEPS = {
    "features": "cache features in .cache/voice (slow part)",
    "compare": "actor-CV table of representations",
    "fit": "fit the chosen head on actors 1-20, write the npz",
    "heldout": "accuracy / UAR on actors 21-24 (once)",
    "all": "every step above, in order",
}
