"""The ``export`` step: the trained torch aggregator (``.pt``) as the ONNX graph analysis runs.

Analysis runs the aggregator in onnxruntime so that it needs no torch (issue #28). The
graph takes :func:`emochat.fusion.aggregator.pad_batch`'s arrays with dynamic batch,
frame and word axes, and carries the model's config as JSON in its metadata
(:data:`~emochat.fusion.aggregator.CONFIG_KEY`). ``fit``, ``heldout`` and ``manifest``
call it after writing the ``.pt``, so the shipped ``aggregator.onnx`` is always the
export of the shipped ``aggregator.pt``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from emochat.fusion.aggregator import (
    CONFIG_KEY,
    FRAME_DIM,
    GRAPH_OUTPUTS,
    INPUTS,
    LLD_DIM,
    MODEL_FILE,
    OUTPUTS,
    WORD_DIM,
    Aggregator,
)

TORCH_FILE = MODEL_FILE.with_suffix(".pt")
"""The shipped torch weights the recipe trains; :data:`MODEL_FILE` is their export."""
OPSET = 17

_DYNAMIC = {
    "frames": {0: "batch", 1: "frames"},
    "frame_t": {0: "batch", 1: "frames"},
    "frame_mask": {0: "batch", 1: "frames"},
    "lld": {0: "batch", 1: "frames"},
    "words": {0: "batch", 1: "words"},
    "spans": {0: "batch", 1: "words"},
    "word_mask": {0: "batch", 1: "words"},
    "word_cover": {0: "batch"},
}
_DYNAMIC_OUT = {
    "word_states": {0: "batch", 1: "words"},
    "pooled": {0: "batch"},
    "logits": {0: "batch"},
    "agree_logit": {0: "batch"},
    "attention": {0: "batch", 1: "words", 2: "frames"},
}


def example_batch(seed: int = 0) -> dict[str, np.ndarray]:
    """Two segments of different lengths (padding and masks traced), random values."""
    rng = np.random.default_rng(seed)
    b, t, n = 2, 9, 4
    frame_t = np.tile(np.arange(t, dtype=np.float32) * 0.04, (b, 1))
    spans = np.sort(rng.uniform(0, 0.36, (b, n, 2)).astype(np.float32), -1)
    frame_mask = np.ones((b, t), bool)
    frame_mask[1, 6:] = False
    word_mask = np.ones((b, n), bool)
    word_mask[1, 3:] = False
    return {
        "frames": rng.normal(size=(b, t, FRAME_DIM)).astype(np.float32),
        "frame_t": frame_t,
        "frame_mask": frame_mask,
        "lld": rng.normal(size=(b, t, LLD_DIM)).astype(np.float32),
        "words": rng.normal(size=(b, n, WORD_DIM)).astype(np.float32),
        "spans": spans,
        "word_mask": word_mask,
        "word_cover": np.ones(b, np.float32),
    }


def export(model: Aggregator, target: Path) -> Path:
    """Write ``model`` (torch) as an ONNX graph at ``target`` (atomically), config in its
    metadata; returns ``target``."""
    import onnx
    import torch

    net = model.net.eval()

    class Positional(torch.nn.Module):
        """The dict-in, dict-out network with positional inputs and a tuple out."""

        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, *args):
            out = self.net(dict(zip(INPUTS, args, strict=True)))
            return tuple(out[k] for k in OUTPUTS)

    batch = example_batch()
    args = tuple(torch.from_numpy(batch[k]) for k in INPUTS)
    target = Path(target)
    tmp = target.with_name(target.name + ".tmp")
    with torch.no_grad():
        torch.onnx.export(
            Positional().eval(),
            args,
            str(tmp),
            input_names=list(INPUTS),
            output_names=list(GRAPH_OUTPUTS),
            dynamic_axes={**_DYNAMIC, **_DYNAMIC_OUT},
            opset_version=OPSET,
            dynamo=False,
        )
    graph = onnx.load(str(tmp))
    graph.doc_string = "emochat Correlation Aggregator (python -m emochat.train.aggregator export)"
    del graph.metadata_props[:]
    entry = graph.metadata_props.add()
    entry.key, entry.value = CONFIG_KEY, json.dumps(model.cfg.to_dict(), sort_keys=True)
    onnx.save(graph, str(tmp))
    tmp.replace(target)
    return target


def main(source: Path = TORCH_FILE, target: Path = MODEL_FILE) -> None:
    """``python -m emochat.train.aggregator export``: the shipped ``.pt`` -> ``.onnx``."""
    export(Aggregator.load(source), target)
    print(f"wrote {target} ({target.stat().st_size / 1e6:.2f} MB) from {source.name}")
