"""The Correlation Aggregator (``emochat/models/aggregator/aggregator.pt``, exported to the
``aggregator.onnx`` that analysis runs): words x audio frames.

The shipped model's recipe on RAVDESS is :mod:`.recipe`; ``manifest`` fits one on your
own labelled clips (:mod:`.manifest`). Both train with :mod:`.training` on the voice
stage's cached outputs (:mod:`.features`).
"""

RAVDESS_STEPS = {
    "features": "voice stage over the 1,440 RAVDESS clips, cached",
    "select": "actor-grouped CV of the candidate settings",
    "fit": "fit the chosen setting on actors 1-20",
    "heldout": "actors 21-24, once, vs the linear speech head",
    "export": "the shipped aggregator.pt as aggregator.onnx (fit and heldout run it too)",
    "all": "every RAVDESS step above, in order",
}
STEPS = {**RAVDESS_STEPS, "manifest": "fit one on your own clips (CSV: path,label[,transcript])"}
