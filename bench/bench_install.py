"""What a new user pays before the first answer: fresh install, venv size, first run, import.

Clones the repo (its committed HEAD) into a temporary folder and runs the README's first
command there with an empty pip cache, timing the install and the first `emochat analyze`
apart; then the venv's size, whether any of the heavy packages the runtime must not need
(torch, jax, jaxlib, mediapipe) got in, and the import time of ``emochat.api``. ``--target
test`` installs what `make test` installs instead (every extra; compiles llama.cpp).

    python bench/bench_install.py [--target analyze|test] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from common import row

REPO = Path(__file__).resolve().parents[1]
MUST_NOT_INSTALL = ("torch", "jax", "jaxlib", "mediapipe")


def _timed(cmd: list[str], cwd: Path, env: dict | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True)
    return time.perf_counter() - t0


def _du_bytes(path: Path) -> int:
    out = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


def _import_seconds(python: Path, cwd: Path, repeats: int = 5) -> float:
    """Median wall time of ``import emochat.api`` (what ``emochat.analyze`` first pulls in)
    minus a bare interpreter start; ``import emochat`` alone is lazy and costs ~0."""

    def run(code: str) -> float:
        return _timed([str(python), "-c", code], cwd)

    base = statistics.median(run("pass") for _ in range(repeats))
    return statistics.median(run("import emochat.api") for _ in range(repeats)) - base


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", choices=("analyze", "test"), default="analyze")
    ap.add_argument("--keep", action="store_true", help="keep the clone and its venv")
    args = ap.parse_args()

    root = Path(tempfile.mkdtemp(prefix="emochat-install-"))
    clone = root / "emochat"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(REPO), str(clone)], check=True)
    env = {**os.environ, "PIP_CACHE_DIR": str(root / "pip-cache")}
    stamp = ".venv/bin/.installed-" + args.target
    install_s = _timed(["make", stamp], clone, env)
    venv = clone / ".venv"
    first_run_s = _timed(
        [str(venv / "bin/emochat"), "analyze", "samples/single_face.mp4", "-o", str(root / "out")],
        clone,
    )
    listed = subprocess.run(
        [str(venv / "bin/python"), "-m", "pip", "list", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    names = {p["name"].lower() for p in json.loads(listed)}
    heavy = [name for name in MUST_NOT_INSTALL if name in names]
    size_gb = _du_bytes(venv) / 1e9
    import_s = _import_seconds(venv / "bin/python", root)
    figures = (
        f"`make {args.target}` from a fresh clone, empty pip cache: install "
        f"**{install_s / 60:.1f} min**, first `emochat analyze samples/single_face.mp4` "
        f"{first_run_s:.1f} s, together **{(install_s + first_run_s) / 60:.1f} min**; venv "
        f"**{size_gb:.2f} GB**; `import emochat.api` {import_s * 1000:.0f} ms; "
        + (f"heavy packages present: {', '.join(heavy)}" if heavy else "no torch/jax/mediapipe")
    )
    print(row(figures))
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    else:
        print(f"kept {root}")


if __name__ == "__main__":
    main()
