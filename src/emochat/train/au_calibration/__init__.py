"""The AU Agent's frontal face template and population neutral, from FER2013 train faces.

One step (:mod:`.recipe`): ``python -m emochat.train.au_calibration [--per-class N]``.
"""

STEPS: dict[str, str] = {}
