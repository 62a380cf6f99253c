"""Per-process settings: the one reader of ``os.environ`` in the runtime.

Each function reads its variable when called (so a test or a worker may set it first)
and keeps the name and meaning it has always had. Per-run knobs are not here: they are
:class:`emochat.options.AnalyzeOptions`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parents[3]

NATIVE_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""The thread-pool sizes that OpenMP, OpenBLAS and MKL read when they load."""


def data_root() -> Path:
    """Root of the training/evaluation corpora.

    ``EMOCHAT_DATA_ROOT`` wins; otherwise ``../shared/data`` beside the working
    directory or beside the source checkout, the layout the project's CI uses.
    """
    env = os.environ.get("EMOCHAT_DATA_ROOT")
    if env:
        return Path(env).expanduser()
    for base in (Path.cwd(), _REPO_ROOT):
        candidate = base.parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return Path.cwd().parent / "shared" / "data"


def media_root() -> Path:
    """Real test media (``../shared/media``), found like :func:`data_root`."""
    env = os.environ.get("EMOCHAT_MEDIA_ROOT")
    if env:
        return Path(env).expanduser()
    return data_root().parent / "media"


def cache_dir() -> Path:
    """Per-user cache for assembled model files (``EMOCHAT_CACHE_DIR`` or XDG)."""
    env = os.environ.get("EMOCHAT_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "emochat"


def cpu_threads() -> int:
    """Threads for the voice models: ``EMOCHAT_THREADS`` if set, else the usable cores.

    On a machine shared with other busy processes, 1 thread is faster than spinning
    thread pools fighting for the same cores (see bench/bench_audio.py).
    """
    env = os.environ.get("EMOCHAT_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def prefer_single_voice_thread() -> None:
    """Make :func:`cpu_threads` 1 unless ``EMOCHAT_THREADS`` says otherwise (for recipes
    that run one process per core)."""
    os.environ.setdefault("EMOCHAT_THREADS", "1")


def limit_native_threads() -> None:
    """One BLAS/OpenMP thread per worker process (workers are the parallelism).

    Sets :data:`NATIVE_THREAD_VARS` unless the user did; call it before numpy or torch load.
    """
    for var in NATIVE_THREAD_VARS:
        os.environ.setdefault(var, "1")


def aggregator_model_override() -> Path | None:
    """The aggregator file ``EMOCHAT_AGGREGATOR_MODEL`` names instead of the shipped one."""
    env = os.environ.get("EMOCHAT_AGGREGATOR_MODEL")
    return Path(env) if env else None


def serve_token() -> str | None:
    """The bearer token ``EMOCHAT_SERVE_TOKEN`` sets for ``emochat serve`` (None: no auth)."""
    return os.environ.get("EMOCHAT_SERVE_TOKEN") or None


def secret(variable: str) -> str | None:
    """The value of the environment variable a config names for a secret (an API key),
    so the secret itself never sits in a file."""
    return os.environ.get(variable) if variable else None


@dataclass(frozen=True)
class Torchrun:
    """Where this process sits in a ``torchrun`` launch (one process: rank 0 of 1)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0


def torchrun() -> Torchrun:
    """``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` as torchrun sets them."""
    return Torchrun(
        rank=int(os.environ.get("RANK", "0")),
        world_size=int(os.environ.get("WORLD_SIZE", "1")),
        local_rank=int(os.environ.get("LOCAL_RANK", "0")),
    )
