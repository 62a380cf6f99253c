"""The fusion weights (``emochat/models/fusion/fusion.json``), fitted on synthetic multimodal pairs.

One step (:mod:`.recipe`): ``python -m emochat.train.fusion [--pairs N]``.
"""

STEPS: dict[str, str] = {}
