"""MTCNN's three face-detection nets (``emochat/models/face_mtcnn/*.onnx``), exported to ONNX.

Not trained here: the weights are MTCNN's original ones (Zhang et al. 2016) as ported to
PyTorch in the ``facenet-pytorch==2.6.0`` wheel on PyPI (MIT). The recipe rebuilds the
nets, loads those weights and writes ONNX graphs that onnxruntime runs, so the base
install needs no torch. Run ``python -m emochat.train.face_mtcnn export`` (torch: the
``train`` extra).
"""

STEPS = {
    "export": "facenet-pytorch 2.6.0 wheel's pnet/rnet/onet.pt -> pnet/rnet/onet.onnx",
}
