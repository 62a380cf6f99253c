"""The built wheel, installed outside the repo, runs the main job: package data is complete.

An editable install reads models and assets from src/, so a file missing from
``[tool.setuptools.package-data]`` would pass every other test and break `pip install
emochat`. This builds the wheel from a copy of the sources, unpacks it into a folder of
its own and analyses the sample clip with that copy first on the path.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("sdist")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, src / name)
    shutil.copytree(
        REPO / "src",
        src / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.tmp"),
    )
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(src),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = dist.glob("emochat-*.whl")
    return built


def test_wheel_holds_every_model_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = [
        p.relative_to(REPO / "src").as_posix() for p in (REPO / "src/emochat/models").rglob("*")
    ]
    data = [
        p for p in shipped if p.rsplit(".", 1)[-1] in {"onnx", "npz", "json", "tflite", "md", "pt"}
    ]
    assert data, "no model files found under src/emochat/models"
    missing = [p for p in data if p not in names]
    assert not missing, f"model files left out of the wheel: {missing}"


def test_installed_wheel_runs_the_main_job(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run(
        [sys.executable, "-c", "import emochat; print(emochat.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(site)), f"emochat imported from {where}, not the wheel"
    out = tmp_path / "out"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "emochat",
            "analyze",
            str(REPO / "samples/single_face.mp4"),
            "-o",
            str(out),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(next(out.rglob("report.json")).read_text())
    assert report["faces"], "the wheel's face models found no face in the sample clip"
    assert next(out.rglob("*.html")).stat().st_size > 10_000
