"""The import-cycle counter on small made-up packages, where the answer is known."""

from __future__ import annotations

from pathlib import Path

from emochat.testing.imports import (
    build_graph,
    cycles,
    package_graph,
    strongly_connected_components,
    summarize,
)


def _package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "pkg"


def test_every_kind_of_internal_import_is_an_edge(tmp_path):
    pkg = _package(
        tmp_path,
        {
            "__init__.py": "from pkg import version\n",
            "version.py": "import os\n",
            "a/__init__.py": "from .b import thing\n",
            "a/b.py": "def f():\n    from pkg.c import d\n",
            "a/e.py": "from .. import c\nfrom . import b\n",
            "c/__init__.py": "",
            "c/d.py": "from pkg.c import helper\nimport pkg.a.b\n",
        },
    )
    graph = build_graph(pkg)
    assert graph.edges == {
        "pkg": {"pkg.version"},
        "pkg.version": set(),
        "pkg.a": {"pkg.a.b"},
        "pkg.a.b": {"pkg.c.d"},  # inside a function, `d` resolved to the submodule
        "pkg.a.e": {"pkg.c", "pkg.a.b"},
        "pkg.c": set(),
        "pkg.c.d": {"pkg.c", "pkg.a.b"},  # `helper` is an attribute of pkg.c
    }
    summary = summarize(graph)
    assert summary.module_cycles == [["pkg.a.b", "pkg.c.d"]]
    assert summary.package_cycles == [["pkg.a", "pkg.c"]]
    assert package_graph(graph)["pkg.a"] == {"pkg.c"}


def test_self_imports_count_but_a_package_reading_its_own_names_does_not(tmp_path):
    pkg = _package(
        tmp_path,
        {"__init__.py": "from pkg import x\nx = 1\n", "m.py": "from pkg.m import y\ny = 1\n"},
    )
    assert cycles(build_graph(pkg).edges) == [["pkg.m"]]


def test_tarjan_finds_components_without_recursion_limits():
    chain = {f"n{i}": {f"n{i + 1}"} for i in range(5000)}
    chain["n5000"] = {"n0"}
    chain["x"] = {"y"}
    chain["y"] = {"x", "n3"}
    components = sorted(strongly_connected_components(chain), key=len)
    assert [len(c) for c in components] == [2, 5001]
    assert components[0] == ["x", "y"]
    assert [len(c) for c in cycles(chain)] == [5001, 2]
