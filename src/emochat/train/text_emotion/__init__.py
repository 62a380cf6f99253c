"""The text emotion model (``emochat/models/text_emotion/``): the e5 encoder graph and the MLP head.

Four steps, each its own module: ``finetune`` the encoder's top layers, ``export`` them
into the onnxruntime graph, train the ``head`` on that graph's embeddings, ``calibrate``
its temperature on the selection splits.
"""

STEPS = {
    "head": "train the shipped MLP head on e5 embeddings (text_emotion.npz)",
    "finetune": "fine-tune the e5 encoder's top layers: BitFit, LoRA with --rank",
    "export": "build the 4-bit onnxruntime encoder graph (with --tuning: fine-tuned)",
    "calibrate": "fit the temperature on the selection splits (calibration.json)",
}
