"""The speech-emotion head (``emochat/models/speech_emotion/speech_emotion.npz``), trained on
RAVDESS, EmoDB and URDU.

The recipe is :mod:`.recipe`; run ``python -m emochat.train.speech_emotion STEP``.
"""

STEPS = {
    "features": "cache pooled whisper states of every clip in .cache/voice (slow part)",
    "select": "normalisation x C on the validation speakers",
    "fit": "fit on the fit speakers, temperature + OOD threshold on validation; write the npz",
    "heldout": "accuracy / UAR / ECE / OOD rate on each corpus's held-out speakers (once)",
    "loco": "leave-one-corpus-out: train on two corpora, test on the third",
    "all": "every step above, in order",
}
