"""Import cycles among a package's own modules, read from the source with ``ast``.

A cycle means no module in it can be understood, tested or moved alone; the refactor in
ARCHITECTURE.md removes them step by step and ``tests/test_import_cycles.py`` keeps the
count from rising. Every import counts, including those inside functions and under
``TYPE_CHECKING``: a lazy import still ties two modules together. Standard library only,
so ``scripts/import_cycles.py`` runs without the package's dependencies.
"""

from __future__ import annotations

import argparse
import ast
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

Graph = Mapping[str, Iterable[str]]


@dataclass(frozen=True)
class ImportSite:
    """One import statement that makes ``importer`` depend on ``imported``."""

    importer: str
    imported: str
    line: int


@dataclass
class ImportGraph:
    """Modules of a package and the imports between them (external imports left out)."""

    package: str
    modules: dict[str, Path]
    edges: dict[str, set[str]] = field(default_factory=dict)
    sites: list[ImportSite] = field(default_factory=list)


def module_name(package_dir: Path, path: Path, package: str) -> str:
    """``emochat/face/track.py`` -> ``emochat.face.track``; an ``__init__`` is its package."""
    parts = list(path.relative_to(package_dir).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([package, *parts])


def _resolve(name: str, modules: Mapping[str, Path]) -> str | None:
    """The module ``name`` refers to: itself, or its longest prefix that is a module."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports_of(
    tree: ast.AST, module: str, is_package: bool, package: str
) -> list[tuple[str, int]]:
    """Absolute dotted names ``module`` imports (modules, or ``module.attribute``), with lines."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # `from . import x` is relative to the package: a module's parent, or itself
                base = module.split(".")
                if not is_package:
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            # `from a import b` imports the submodule a.b when there is one, else a's attribute
            found += [(f"{origin}.{alias.name}", node.lineno) for alias in node.names]
    return [(n, line) for n, line in found if n == package or n.startswith(package + ".")]


def build_graph(package_dir: Path, package: str | None = None) -> ImportGraph:
    """Parse every ``.py`` under ``package_dir`` and connect the modules that import each other."""
    package_dir = Path(package_dir)
    package = package or package_dir.name
    modules = {
        module_name(package_dir, path, package): path for path in sorted(package_dir.rglob("*.py"))
    }
    graph = ImportGraph(package, modules, {name: set() for name in modules})
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for dotted, line in _imports_of(tree, name, path.name == "__init__.py", package):
            target = _resolve(dotted, modules)
            if target is None:
                continue
            # `from pkg import name` inside pkg/__init__ reads pkg's own attribute: not an edge
            if target == name and dotted != name and path.name == "__init__.py":
                continue
            graph.edges[name].add(target)
            graph.sites.append(ImportSite(name, target, line))
    return graph


def strongly_connected_components(graph: Graph) -> list[list[str]]:
    """Tarjan's algorithm without recursion (deep graphs would hit Python's limit).

    Components come out in reverse topological order; each is sorted by name.
    """
    adjacency = {node: sorted(targets) for node, targets in graph.items()}
    for targets in list(adjacency.values()):
        for target in targets:
            adjacency.setdefault(target, [])
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in sorted(adjacency):
        if root in index:
            continue
        work = [(root, 0)]  # (node, position of the next neighbour to visit)
        while work:
            node, position = work.pop()
            if position == 0:
                index[node] = lowlink[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            neighbours = adjacency[node]
            while position < len(neighbours):
                target = neighbours[position]
                position += 1
                if target not in index:
                    work.append((node, position))
                    work.append((target, 0))
                    break
                if target in on_stack:
                    lowlink[node] = min(lowlink[node], index[target])
            else:
                if lowlink[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
                if work:  # hand the lowlink back to the caller
                    parent = work[-1][0]
                    lowlink[parent] = min(lowlink[parent], lowlink[node])
    return components


def cycles(graph: Graph) -> list[list[str]]:
    """Components of more than one node, plus nodes that import themselves; largest first."""
    found = [
        component
        for component in strongly_connected_components(graph)
        if len(component) > 1 or component[0] in set(graph.get(component[0], ()))
    ]
    return sorted(found, key=lambda component: (-len(component), component))


def subpackage_of(module: str, package: str) -> str:
    """``emochat.face.track`` -> ``emochat.face``; ``emochat.core.errors`` and ``emochat`` stay."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == package and len(parts) > 1 else module


def package_graph(graph: ImportGraph) -> dict[str, set[str]]:
    """Imports between top-level subpackages; imports within one subpackage are left out."""
    collapsed: dict[str, set[str]] = defaultdict(set)
    for importer, targets in graph.edges.items():
        source = subpackage_of(importer, graph.package)
        collapsed.setdefault(source, set())
        for target in targets:
            dest = subpackage_of(target, graph.package)
            if dest != source:
                collapsed[source].add(dest)
    return dict(collapsed)


@dataclass(frozen=True)
class CycleSummary:
    """What the ratchet test and the script report."""

    module_cycles: list[list[str]]
    package_cycles: list[list[str]]

    @property
    def modules_in_cycles(self) -> int:
        return sum(len(component) for component in self.module_cycles)

    @property
    def packages_in_cycles(self) -> int:
        return sum(len(component) for component in self.package_cycles)


def summarize(graph: ImportGraph) -> CycleSummary:
    return CycleSummary(cycles(graph.edges), cycles(package_graph(graph)))


def cycle_edges(graph: ImportGraph, component: list[str]) -> list[ImportSite]:
    """The import statements that keep ``component`` together (both ends inside it)."""
    members = set(component)
    return sorted(
        {s for s in graph.sites if s.importer in members and s.imported in members},
        key=lambda s: (s.importer, s.line, s.imported),
    )


def package_cycle_edges(graph: ImportGraph, component: list[str]) -> list[ImportSite]:
    """The imports from one subpackage of ``component`` into another."""
    members = set(component)

    def inside(site: ImportSite) -> bool:
        source = subpackage_of(site.importer, graph.package)
        dest = subpackage_of(site.imported, graph.package)
        return source != dest and source in members and dest in members

    return sorted(
        {s for s in graph.sites if inside(s)}, key=lambda s: (s.importer, s.line, s.imported)
    )


def format_summary(graph: ImportGraph, summary: CycleSummary, *, edges: bool = False) -> str:
    lines = [
        f"modules: {len(graph.modules)}",
        f"module cycles: {len(summary.module_cycles)} "
        f"({summary.modules_in_cycles} modules involved)",
    ]
    if summary.module_cycles:
        largest = summary.module_cycles[0]
        lines.append(f"largest cycle ({len(largest)} modules):")
        lines += [f"  {name}" for name in largest]
    root = graph.modules[graph.package].parent.parent
    for number, component in enumerate(summary.module_cycles, 1):
        lines.append(f"cycle {number} ({len(component)}): {', '.join(component)}")
        if edges:
            for site in cycle_edges(graph, component):
                where = graph.modules[site.importer].relative_to(root)
                lines.append(f"    {site.importer} -> {site.imported}  ({where}:{site.line})")
    lines.append(
        f"package cycles: {len(summary.package_cycles)} "
        f"({summary.packages_in_cycles} packages involved)"
    )
    for component in summary.package_cycles:
        lines.append(f"  {', '.join(component)}")
        if edges:
            for site in package_cycle_edges(graph, component):
                where = graph.modules[site.importer].relative_to(root)
                lines.append(f"    {site.importer} -> {site.imported}  ({where}:{site.line})")
    return "\n".join(lines)


def main(argv: list[str] | None = None, default_dir: Path | None = None) -> int:
    ap = argparse.ArgumentParser(description="Count import cycles among a package's modules.")
    ap.add_argument(
        "package_dir",
        nargs="?",
        type=Path,
        default=default_dir or Path(__file__).resolve().parents[1],
        help="the package's source folder (default: %(default)s)",
    )
    ap.add_argument("--edges", action="store_true", help="list the imports inside each cycle")
    args = ap.parse_args(argv)
    graph = build_graph(args.package_dir)
    print(format_summary(graph, summarize(graph), edges=args.edges))
    return 0
