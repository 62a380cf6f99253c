"""No import cycles among emochat's modules nor among its subpackages (ARCHITECTURE.md).

When a refactoring step removes cycles, lower the ceilings below to the new counts so
they cannot come back; ``python scripts/import_cycles.py --edges`` shows which imports
hold each cycle together.
"""

from __future__ import annotations

from pathlib import Path

from emochat.testing.imports import build_graph, format_summary, summarize

SOURCE = Path(__file__).resolve().parents[1] / "src" / "emochat"

MAX_MODULE_CYCLES = 0
"""Cycles among modules (strongly connected components of more than one, or self-imports)."""
MAX_MODULES_IN_CYCLES = 0
"""Modules that belong to some cycle."""


def test_import_cycles_do_not_grow():
    graph = build_graph(SOURCE)
    summary = summarize(graph)
    cycles = len(summary.module_cycles)
    involved = summary.modules_in_cycles
    assert cycles <= MAX_MODULE_CYCLES and involved <= MAX_MODULES_IN_CYCLES, (
        f"import cycles grew to {cycles} (ceiling {MAX_MODULE_CYCLES}) with {involved} modules "
        f"(ceiling {MAX_MODULES_IN_CYCLES}); break the new cycle instead of raising the "
        f"ceiling:\n{format_summary(graph, summary, edges=True)}"
    )


def test_subpackages_form_no_cycle():
    """Subpackages are the floors of ARCHITECTURE.md: two that import each other are one."""
    graph = build_graph(SOURCE)
    summary = summarize(graph)
    assert summary.package_cycles == [], (
        "subpackages import each other in a cycle; break it along ARCHITECTURE.md's floors:\n"
        f"{format_summary(graph, summary, edges=True)}"
    )
