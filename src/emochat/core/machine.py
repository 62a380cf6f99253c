"""What machine a result came from: the CPU's model and the instruction sets that choose
onnxruntime's, CTranslate2's and torch's kernels (results are meant not to depend on them;
recording them is how a difference gets traced)."""

from __future__ import annotations

import platform

KERNEL_FLAGS = {
    "avx2": "avx2",
    "avx512f": "avx512",
    "avx512_vnni": "vnni",
    "avx_vnni": "avx-vnni",
    "amx_tile": "amx",
    "asimddp": "dotprod",
}
"""/proc/cpuinfo flag -> the short name emochat reports."""


def _cpuinfo_lines() -> list[str]:
    try:
        with open("/proc/cpuinfo") as fh:
            return fh.readlines()
    except OSError:
        return []


def cpu_flags() -> list[str]:
    """The kernel-relevant CPU flags, e.g. ``["avx2", "avx512", "vnni"]`` (empty: unknown)."""
    flags: list[str] = []
    for line in _cpuinfo_lines():
        if line.split(":")[0].strip() in ("flags", "Features"):
            flags = line.split(":", 1)[1].split()
            break
    return [name for flag, name in KERNEL_FLAGS.items() if flag in flags]


def cpu_model() -> str:
    """The CPU's marketing name (``AMD EPYC 7B13``), else what ``platform`` knows."""
    for line in _cpuinfo_lines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()
