"""A ratchet on import cycles among emochat's modules (ARCHITECTURE.md: 0 is the goal).

When a refactoring step removes cycles, lower the ceilings below to the new counts so
they cannot come back; ``python scripts/import_cycles.py --edges`` shows which imports
hold each cycle together.
"""

from __future__ import annotations

from pathlib import Path

from emochat.testing.imports import build_graph, cycles, format_summary, package_graph, summarize

SOURCE = Path(__file__).resolve().parents[1] / "src" / "emochat"

MAX_MODULE_CYCLES = 0
"""Cycles among modules (strongly connected components of more than one, or self-imports)."""
MAX_MODULES_IN_CYCLES = 0
"""Modules that belong to some cycle."""
DEPRECATED_REEXPORT = ("emochat.pipeline", "emochat.api")
"""The one import allowed to close a cycle among subpackages: ``emochat.pipeline`` re-exports
``analyze``/``run_analysis``/``default_pipeline`` from the composition root for one release
(with a DeprecationWarning). Delete this and the discard below when it goes."""


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


def test_subpackages_form_no_cycle_but_the_deprecated_reexport():
    graph = build_graph(SOURCE)
    importer, imported = DEPRECATED_REEXPORT
    graph.edges[importer].discard(imported)
    found = cycles(package_graph(graph))
    assert found == [], (
        f"subpackages import each other in a cycle: {found}; see "
        "python scripts/import_cycles.py --edges and ARCHITECTURE.md's floors"
    )
