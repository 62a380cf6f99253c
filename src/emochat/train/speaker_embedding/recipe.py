"""Convert Resemblyzer 0.1.4's voice encoder (``pretrained.pt``) to emochat's ``.npz``.

    python -m emochat.train.speaker_embedding --wheel Resemblyzer-0.1.4-py3-none-any.whl

The wheel (PyPI, Apache-2.0) holds ``resemblyzer/pretrained.pt``: a torch checkpoint of a
3-layer LSTM (40 mel bands -> 256) and a 256 -> 256 linear layer, trained with the GE2E
loss. Only the model's weights are kept (the checkpoint also holds the optimiser's
state), as float32, in a zip whose members carry a fixed date: the same wheel gives the
same bytes. The LICENSE is copied from the wheel's dist-info.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

OUT_DIR = Path(__file__).resolve().parents[2] / "models" / "speaker_embedding"
OUT_FILE = OUT_DIR / "speaker_encoder.npz"
CHECKPOINT = "resemblyzer/pretrained.pt"
LICENSE = "Resemblyzer-0.1.4.dist-info/LICENSE"
CHECKPOINT_SHA256 = "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"
"""sha256 of ``pretrained.pt`` (the wheel's RECORD gives it in urlsafe base64)."""

KEYS = (
    *(
        f"lstm.{w}_l{layer}"
        for layer in range(3)
        for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    ),
    "linear.weight",
    "linear.bias",
)


def read_checkpoint(wheel: Path) -> tuple[bytes, bytes]:
    """(``pretrained.pt`` bytes, LICENSE bytes) from the wheel, the checkpoint checked
    against :data:`CHECKPOINT_SHA256` and the wheel's own RECORD."""
    with zipfile.ZipFile(wheel) as z:
        blob = z.read(CHECKPOINT)
        licence = z.read(LICENSE)
        record = z.read("Resemblyzer-0.1.4.dist-info/RECORD").decode()
    digest = hashlib.sha256(blob).digest()
    if digest.hex() != CHECKPOINT_SHA256:
        raise SystemExit(f"{CHECKPOINT}: sha256 {digest.hex()}, expected {CHECKPOINT_SHA256}")
    recorded = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    if f"{CHECKPOINT},sha256={recorded}," not in record:
        raise SystemExit(f"{CHECKPOINT}: not the file the wheel's RECORD names")
    return blob, licence


def weights(blob: bytes) -> dict[str, np.ndarray]:
    """The model's tensors as float32 arrays (torch reads the checkpoint)."""
    import torch

    state = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=False)["model_state"]
    return {k: state[k].detach().numpy().astype(np.float32) for k in KEYS}


def write_npz(arrays: dict[str, np.ndarray], path: Path) -> None:
    """``np.load``-readable, compressed, byte-reproducible (fixed member dates)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for key in sorted(arrays):
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arrays[key]), allow_pickle=False)
            z.writestr(info, member.getvalue(), compresslevel=9)
    path.write_bytes(buf.getvalue())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="emochat.train.speaker_embedding",
        description="Convert Resemblyzer 0.1.4's GE2E voice encoder to "
        "emochat/models/speaker_embedding/speaker_encoder.npz.",
    )
    parser.add_argument("--wheel", type=Path, required=True, help="Resemblyzer-0.1.4 wheel")
    parser.add_argument("--out", type=Path, default=OUT_FILE)
    args = parser.parse_args(argv)
    blob, licence = read_checkpoint(args.wheel)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_npz(weights(blob), args.out)
    (args.out.parent / "LICENSE").write_bytes(licence)
    print(
        f"{args.out}: {args.out.stat().st_size:,} bytes, "
        f"sha256 {hashlib.sha256(args.out.read_bytes()).hexdigest()}"
    )
    return 0
