"""A float64 numpy evaluator of small ONNX graphs: the reference that shipped graphs are
checked against on whatever CPU the tests run.

onnxruntime picks integer and float kernels by the CPU's instruction set (AVX2, AVX-512,
VNNI, AMX), and a kernel that saturates or rounds differently computes another function.
This evaluator computes what the graph *means* (the ONNX operator definitions, with
QuantizeLinear/DequantizeLinear as exact fake quantization) in float64 numpy, so its
answer does not depend on the machine beyond float64 rounding. It covers the operators
of the shipped graphs (the int8 expression ensemble, the 4-bit ``MatMulNBits`` text
encoders); an unknown operator raises ``NotImplementedError``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from emochat.core.probabilities import softmax


def _attrs(node) -> dict:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _quantize(x, scale, zero_point=None, axis: int = 1):
    scale, zp = _per_axis(x, scale, zero_point, axis)
    dtype = np.uint8 if zero_point is None or zero_point.dtype == np.uint8 else zero_point.dtype
    info = np.iinfo(dtype)
    q = np.rint(x / scale) + zp  # round half to even, as the operator defines
    return np.clip(q, info.min, info.max).astype(dtype)


def _dequantize(q, scale, zero_point=None, axis: int = 1):
    scale, zp = _per_axis(q, scale, zero_point, axis)
    return (q.astype(np.float64) - zp) * scale


def _per_axis(x, scale, zero_point, axis):
    scale = np.asarray(scale, dtype=np.float64)
    zp = np.zeros_like(scale) if zero_point is None else np.asarray(zero_point, np.float64)
    if scale.ndim == 1 and x.ndim > 1:
        shape = [1] * x.ndim
        shape[axis] = -1
        scale, zp = scale.reshape(shape), zp.reshape(shape)
    return scale, zp


def _windows(x, kh, kw, sh, sw, pads):
    """(N, C, OH, OW, kh, kw) strided view of a padded NCHW tensor."""
    top, left, bottom, right = pads
    if any(pads):
        x = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    v = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))
    return v[:, :, ::sh, ::sw]


def _conv(x, w, b=None, *, pads=(0, 0, 0, 0), strides=(1, 1), group=1, dilations=(1, 1), **_):
    if group != 1 or tuple(dilations) != (1, 1):
        raise NotImplementedError("Conv with groups or dilation")
    o, _, kh, kw = w.shape
    win = _windows(x, kh, kw, strides[0], strides[1], tuple(pads))  # N C OH OW kh kw
    y = np.einsum("nchwij,ocij->nohw", win, w, optimize=True)
    return y if b is None else y + b.reshape(1, o, 1, 1)


def _pool(x, reduce, *, kernel_shape, strides=None, pads=(0, 0, 0, 0), **attrs):
    if attrs.get("ceil_mode", 0) or attrs.get("count_include_pad", 0) and any(pads):
        raise NotImplementedError("pooling with ceil_mode or padded averages")
    strides = strides or kernel_shape
    win = _windows(x, *kernel_shape, *strides, tuple(pads))
    return reduce(win, axis=(4, 5))


def _gemm(a, b, c=None, *, alpha=1.0, beta=1.0, transA=0, transB=0):
    y = alpha * ((a.T if transA else a) @ (b.T if transB else b))
    return y if c is None else y + beta * c


def _div(a, b):
    if a.dtype.kind in "iu" and b.dtype.kind in "iu":
        return np.trunc(a / b).astype(np.result_type(a, b))  # integer Div truncates
    return a / b


def _cast(x, *, to):
    from onnx import TensorProto

    if to in (TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16):
        return x.astype(np.float64)  # the reference computes every float in float64
    return x.astype(
        {TensorProto.INT64: np.int64, TensorProto.INT32: np.int32, TensorProto.BOOL: bool}[to]
    )


def _reshape(x, shape, *, allowzero=0):
    shape = [int(d) for d in shape]
    if not allowzero:
        shape = [x.shape[i] if d == 0 else d for i, d in enumerate(shape)]
    return x.reshape(shape)


def _slice(x, starts, ends, axes=None, steps=None):
    axes = range(len(starts)) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    index = [slice(None)] * x.ndim
    for s, e, a, k in zip(starts, ends, axes, steps, strict=True):
        index[int(a)] = slice(int(s), int(e), int(k))
    return x[tuple(index)]


def _layer_norm(x, scale, bias=None, *, axis=-1, epsilon=1e-5, **_):
    axes = tuple(range(axis % x.ndim, x.ndim))
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    y = (x - mu) / np.sqrt(var + epsilon) * scale
    return y if bias is None else y + bias


def _matmul_nbits(a, packed, scales, zero_points=None, *, K, N, bits, block_size, **_):
    """com.microsoft MatMulNBits: ``a @ W.T`` with W (N, K) stored as 4-bit codes, two per
    byte (low nibble first), one scale per block of ``block_size``; zero point 8 unless
    given. ``accuracy_level`` only picks onnxruntime's kernel: the reference is exact."""
    if bits != 4 or zero_points is not None:
        raise NotImplementedError("MatMulNBits other than 4 bits with the default zero point")
    blocks = packed.reshape(N, -1, block_size // 2)
    codes = np.stack([blocks & 0x0F, blocks >> 4], axis=-1).reshape(N, -1, block_size)
    w = (codes.astype(np.float64) - 8) * scales.astype(np.float64).reshape(N, -1, 1)
    w = np.ascontiguousarray(w.reshape(N, -1)[:, :K].T)
    return (a.reshape(-1, K) @ w).reshape(*a.shape[:-1], N)


def _erf(x):
    from scipy.special import erf

    return erf(x)


_OPS: dict[str, Callable] = {
    "Identity": lambda x: x,
    "Add": np.add,
    "Sub": np.subtract,
    "Mul": np.multiply,
    "Div": _div,
    "Pow": np.power,
    "Sqrt": np.sqrt,
    "Erf": _erf,
    "IsNaN": np.isnan,
    "Where": np.where,
    "Relu": lambda x: np.maximum(x, 0),
    "Sum": lambda *xs: np.sum(xs, axis=0),
    "Cast": _cast,
    "Shape": lambda x: np.array(x.shape, dtype=np.int64),
    "Gather": lambda x, i, axis=0: np.take(x, i, axis=axis),
    "Reshape": _reshape,
    "Transpose": lambda x, perm=None: np.transpose(x, perm),
    "Slice": _slice,
    "Unsqueeze": lambda x, axes: np.expand_dims(x, tuple(int(a) for a in axes)),
    "ReduceMean": lambda x, axes=None, keepdims=1: np.mean(
        x, axis=tuple(axes) if axes is not None else None, keepdims=bool(keepdims)
    ),
    "ReduceSum": lambda x, axes=None, keepdims=1: np.sum(
        x, axis=tuple(int(a) for a in axes) if axes is not None else None, keepdims=bool(keepdims)
    ),
    "Flatten": lambda x, axis=1: x.reshape(int(np.prod(x.shape[:axis])), -1),
    "Concat": lambda *xs, axis: np.concatenate(xs, axis=axis),
    "Softmax": softmax,
    "MatMul": np.matmul,
    "Gemm": _gemm,
    "LayerNormalization": _layer_norm,
    "MatMulNBits": _matmul_nbits,
    "Conv": _conv,
    "MaxPool": lambda x, **a: _pool(x, np.max, **a),
    "AveragePool": lambda x, **a: _pool(x, np.mean, **a),
    "QuantizeLinear": _quantize,
    "DequantizeLinear": _dequantize,
}
_DEFAULT_ONLY_ATTRS = {"auto_pad": b"NOTSET", "storage_order": 0}
"""Attributes the reference leaves out: only their default (which changes nothing) is read."""


def _node_attrs(node) -> dict:
    attrs = _attrs(node)
    for name, default in _DEFAULT_ONLY_ATTRS.items():
        if attrs.pop(name, default) != default:
            raise NotImplementedError(f"{node.op_type} with {name} other than {default!r}")
    return attrs


class ReferenceGraph:
    """``ReferenceGraph(path).run({"input": array})`` -> the graph's outputs, every float
    computed in float64."""

    def __init__(self, path: str | Path):
        import onnx
        from onnx import numpy_helper

        model = onnx.load(str(path))
        self.graph = model.graph
        self.initializers = {
            i.name: _real(numpy_helper.to_array(i)) for i in self.graph.initializer
        }
        for node in self.graph.node:
            if node.op_type not in _OPS and node.op_type != "Constant":
                raise NotImplementedError(f"{path}: no reference for operator {node.op_type}")

    def run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        from onnx import numpy_helper

        values: dict[str, np.ndarray] = dict(self.initializers)
        values.update({name: _real(np.asarray(a)) for name, a in feeds.items()})
        for node in self.graph.node:
            attrs = _node_attrs(node)
            if node.op_type == "Constant":
                values[node.output[0]] = _real(numpy_helper.to_array(attrs["value"]))
                continue
            args = [values[i] if i else None for i in node.input]
            while args and args[-1] is None:
                args.pop()
            values[node.output[0]] = _OPS[node.op_type](*args, **attrs)
        return [values[o.name] for o in self.graph.output]


def _real(a: np.ndarray) -> np.ndarray:
    """float tensors as float64; integer codes, masks and shapes as they are."""
    return a.astype(np.float64) if a.dtype.kind == "f" else a
