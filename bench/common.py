"""Shared bits of the benchmark scripts: machine description and markdown rows."""

from __future__ import annotations

import os
import platform
import resource
import shlex
import sys
from datetime import date

# the instruction sets that pick onnxruntime's, torch's and CTranslate2's kernels
_KERNEL_FLAGS = {
    "avx2": "avx2",
    "avx512f": "avx512",
    "avx512_vnni": "vnni",
    "avx_vnni": "avx-vnni",
    "amx_tile": "amx",
    "asimddp": "dotprod",
}


def cpu_flags() -> str:
    """The kernel-relevant CPU flags, e.g. ``avx2 avx512 vnni`` (empty when unknown)."""
    try:
        with open("/proc/cpuinfo") as fh:
            flags = next(
                (
                    line.split(":", 1)[1].split()
                    for line in fh
                    if line.split(":")[0].strip() in ("flags", "Features")
                ),
                [],
            )
    except OSError:
        return ""
    return " ".join(name for flag, name in _KERNEL_FLAGS.items() if flag in flags)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            names = [line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    flags = cpu_flags()
    cpu = f"{cpu} ({flags})" if flags else cpu
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cores = len(os.sched_getaffinity(0))
    return f"{cpu}, {cores} cores, {mem_gb:.0f} GiB, Python {platform.python_version()}"


def command() -> str:
    return "python " + " ".join(shlex.quote(a) for a in sys.argv)


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def row(figures: str) -> str:
    """One BENCHMARKS.md table row: date | machine | command | figures."""
    return f"| {date.today().isoformat()} | {machine()} | `{command()}` | {figures} |"
