"""The facial-expression CNN (``emochat/models/face_expression/expression.onnx``), trained on FER2013.

The recipe is :mod:`.recipe`; run ``python -m emochat.train.face_expression STEP``.
"""

STEPS = {
    "bench": "seconds per epoch of candidate nets",
    "fit": "train (resumable), checkpoints in --out",
    "ensemble": "PublicTest of --members and their combinations",
    "export": "--members (or --out's best) -> int8 expression.onnx",
    "split": "take each member out of an exported graph",
    "narrow": "--base 8-bit graph -> 7-bit weights (same on any CPU)",
    "speed": "faces/s: torch vs onnxruntime, batched",
    "test": "PrivateTest figure + docs/fer_confusion.png (once)",
}
