"""One way to open an ONNX graph for CPU inference, shared by every onnxruntime model."""

from __future__ import annotations

from pathlib import Path


def cpu_session(path: str | Path, threads: int | None = None):
    """An onnxruntime session on the CPU provider: ``threads`` intra-op threads (None:
    onnxruntime's default), one inter-op thread (the graphs are sequential) and only
    errors logged (its warnings are about graph optimisations, not about results)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
