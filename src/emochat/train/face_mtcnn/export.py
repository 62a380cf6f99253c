"""Export MTCNN's P-, R- and O-Net from the facenet-pytorch wheel's weights to ONNX.

    python -m emochat.train.face_mtcnn export [--wheel facenet_pytorch-2.6.0-py3-none-any.whl]
        [--out src/emochat/models/face_mtcnn]

Without ``--wheel`` the wheel is fetched with ``pip download facenet-pytorch==2.6.0
--no-deps`` (PyPI). The layer definitions are facenet-pytorch's (``models/mtcnn.py``),
written out here so that neither facenet-pytorch nor torchvision is needed. P-Net takes
any image size (dynamic height and width); R-Net (24x24) and O-Net (48x48) a batch of
crops. Inputs are RGB, NCHW, scaled as ``(x - 127.5) / 128``. Outputs: P-Net (box
offsets, face probability map), R-Net (offsets, probabilities), O-Net (offsets,
5 landmarks, probabilities): facenet-pytorch's order, softmax included.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "facenet-pytorch==2.6.0"
OUT = Path(__file__).resolve().parents[2] / "models" / "face_mtcnn"
OPSET = 17


def _nets():
    import torch
    from torch import nn

    class PNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 10, kernel_size=3)
            self.prelu1 = nn.PReLU(10)
            self.pool1 = nn.MaxPool2d(2, 2, ceil_mode=True)
            self.conv2 = nn.Conv2d(10, 16, kernel_size=3)
            self.prelu2 = nn.PReLU(16)
            self.conv3 = nn.Conv2d(16, 32, kernel_size=3)
            self.prelu3 = nn.PReLU(32)
            self.conv4_1 = nn.Conv2d(32, 2, kernel_size=1)
            self.softmax4_1 = nn.Softmax(dim=1)
            self.conv4_2 = nn.Conv2d(32, 4, kernel_size=1)

        def forward(self, x):
            x = self.prelu1(self.conv1(x))
            x = self.pool1(x)
            x = self.prelu2(self.conv2(x))
            x = self.prelu3(self.conv3(x))
            return self.conv4_2(x), self.softmax4_1(self.conv4_1(x))

    class RNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 28, kernel_size=3)
            self.prelu1 = nn.PReLU(28)
            self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
            self.conv2 = nn.Conv2d(28, 48, kernel_size=3)
            self.prelu2 = nn.PReLU(48)
            self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
            self.conv3 = nn.Conv2d(48, 64, kernel_size=2)
            self.prelu3 = nn.PReLU(64)
            self.dense4 = nn.Linear(576, 128)
            self.prelu4 = nn.PReLU(128)
            self.dense5_1 = nn.Linear(128, 2)
            self.softmax5_1 = nn.Softmax(dim=1)
            self.dense5_2 = nn.Linear(128, 4)

        def forward(self, x):
            x = self.pool1(self.prelu1(self.conv1(x)))
            x = self.pool2(self.prelu2(self.conv2(x)))
            x = self.prelu3(self.conv3(x))
            x = x.permute(0, 3, 2, 1).contiguous()
            x = self.prelu4(self.dense4(x.view(x.shape[0], -1)))
            return self.dense5_2(x), self.softmax5_1(self.dense5_1(x))

    class ONet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 32, kernel_size=3)
            self.prelu1 = nn.PReLU(32)
            self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
            self.conv2 = nn.Conv2d(32, 64, kernel_size=3)
            self.prelu2 = nn.PReLU(64)
            self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
            self.conv3 = nn.Conv2d(64, 64, kernel_size=3)
            self.prelu3 = nn.PReLU(64)
            self.pool3 = nn.MaxPool2d(2, 2, ceil_mode=True)
            self.conv4 = nn.Conv2d(64, 128, kernel_size=2)
            self.prelu4 = nn.PReLU(128)
            self.dense5 = nn.Linear(1152, 256)
            self.prelu5 = nn.PReLU(256)
            self.dense6_1 = nn.Linear(256, 2)
            self.softmax6_1 = nn.Softmax(dim=1)
            self.dense6_2 = nn.Linear(256, 4)
            self.dense6_3 = nn.Linear(256, 10)

        def forward(self, x):
            x = self.pool1(self.prelu1(self.conv1(x)))
            x = self.pool2(self.prelu2(self.conv2(x)))
            x = self.pool3(self.prelu3(self.conv3(x)))
            x = self.prelu4(self.conv4(x))
            x = x.permute(0, 3, 2, 1).contiguous()
            x = self.prelu5(self.dense5(x.view(x.shape[0], -1)))
            return self.dense6_2(x), self.dense6_3(x), self.softmax6_1(self.dense6_1(x))

    return torch, {"pnet": PNet, "rnet": RNet, "onet": ONet}


def _fetch_wheel(folder: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", WHEEL, "--no-deps", "-d", str(folder)],
        check=True,
    )
    return next(folder.glob("facenet_pytorch-*.whl"))


def export(wheel: Path, out: Path) -> dict[str, str]:
    """Write pnet/rnet/onet.onnx into ``out``; file name -> sha256."""
    torch, nets = _nets()
    out.mkdir(parents=True, exist_ok=True)
    shapes = {"pnet": (1, 3, 64, 80), "rnet": (2, 3, 24, 24), "onet": (2, 3, 48, 48)}
    digests = {}
    with zipfile.ZipFile(wheel) as zf:
        for name, cls in nets.items():
            net = cls().eval()
            state = torch.load(io.BytesIO(zf.read(f"facenet_pytorch/data/{name}.pt")))
            net.load_state_dict(state)
            dynamic = {0: "n", 2: "h", 3: "w"} if name == "pnet" else {0: "n"}
            n_out = 3 if name == "onet" else 2
            outputs = [f"out{i}" for i in range(n_out)]
            path = out / f"{name}.onnx"
            torch.onnx.export(
                net,
                torch.zeros(shapes[name]),
                str(path),
                input_names=["image"],
                output_names=outputs,
                dynamic_axes={"image": dynamic, **{o: {0: "n"} for o in outputs}},
                opset_version=OPSET,
                dynamo=False,
            )
            digests[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="emochat.train.face_mtcnn", description=__doc__.splitlines()[0]
    )
    parser.add_argument("step", choices=["export"])
    parser.add_argument("--wheel", type=Path, help=f"a downloaded {WHEEL} wheel")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or _fetch_wheel(Path(tmp))
        for name, sha in export(wheel, args.out).items():
            print(f"{name}  {(args.out / name).stat().st_size:,} bytes  sha256 {sha}")
    return 0
