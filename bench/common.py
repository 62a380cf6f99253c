"""Shared bits of the benchmark scripts: machine description and markdown rows."""

from __future__ import annotations

import os
import platform
import resource
import shlex
import sys
from datetime import date

from emochat.core.machine import cpu_flags as _cpu_flags
from emochat.core.machine import cpu_model


def cpu_flags() -> str:
    """The kernel-relevant CPU flags, e.g. ``avx2 avx512 vnni`` (empty when unknown)."""
    return " ".join(_cpu_flags())


def machine() -> str:
    cpu = cpu_model()
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
