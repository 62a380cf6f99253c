"""The README's notebook example runs as written: a per-frame plot in four lines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_per_frame_plot_runs(media_dir, monkeypatch, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    (example,) = [b for b in blocks if "gaze_angle_x" in b]
    assert len(example.strip().splitlines()) <= 5
    clip = media_dir / "single_face.mp4"
    namespace: dict = {}
    exec(example.replace('"clip.mp4"', repr(str(clip))), namespace)  # noqa: S102
    frames = namespace["frames"]
    assert {"AU12_r", "expr_happy", "gaze_angle_x", "gaze_angle_y"} <= set(frames.columns)
    import matplotlib.pyplot as plt

    assert plt.get_fignums()  # the plots were drawn
    plt.savefig(tmp_path / "frames.png")
    plt.close("all")
