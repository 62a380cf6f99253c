"""The speaker embedding model: Resemblyzer's GE2E voice encoder, converted to ``.npz``.

One step (:mod:`.recipe`): ``python -m emochat.train.speaker_embedding --wheel WHEEL``
reads ``resemblyzer/pretrained.pt`` from the Resemblyzer 0.1.4 wheel (torch: the
``train`` extra) and writes ``emochat/models/speaker_embedding/speaker_encoder.npz``.
"""

STEPS: dict[str, str] = {}
