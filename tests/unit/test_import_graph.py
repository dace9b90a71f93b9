"""The package's import graph has no cycles.

Every module under `codecomp_lsp` is read with `ast` (nothing is imported), and every
import counts, including the lazy ones inside functions: a cycle through a function-level
import is still two modules that each need the other. A cycle is reported as the chain of
modules that closes it. The same holds one level up, between the package's subpackages
(`training` may use `evaluation` or the reverse, not both).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "codecomp_lsp"
ROOT = Path(__file__).resolve().parents[2] / PACKAGE


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """Module name → source file, for every module and package under `root`."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = (PACKAGE, *path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    """The package modules that `module` imports anywhere in its source."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, is_package, node)
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                # `from pkg import name` imports the submodule pkg.name when there is one.
                targets.add(submodule if submodule in known else source)
    return {t for t in targets if t in known and t != module}


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    known = set(files)
    return {name: imports_of(name, path, known) for name, path in files.items()}


def subpackage_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The module graph collapsed onto `codecomp_lsp.<subpackage or top-level module>`."""

    def top(module: str) -> str:
        return ".".join(module.split(".")[:2])

    collapsed: dict[str, set[str]] = {}
    for module, targets in graph.items():
        edges = collapsed.setdefault(top(module), set())
        edges.update(top(t) for t in targets if top(t) != top(module))
    return collapsed


def all_cycles(graph: dict[str, set[str]]) -> list[tuple[dict[str, set[str]], set[str]]]:
    """Every cycle, between modules and between subpackages, with the graph it is in."""
    packages = subpackage_graph(graph)
    return [(graph, c) for c in strongly_connected(graph)] + [
        (packages, c) for c in strongly_connected(packages)
    ]


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative; only components that contain a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(component)
    return components


def cycle_in(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """One concrete cycle through the component's first module, as a closed chain."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:  # breadth first: the shortest way back to `start`
        following = []
        for node in frontier:
            for child in sorted(graph[node] & component):
                if child == start:
                    return paths[node] + [start]
                if child not in paths:
                    paths[child] = paths[node] + [child]
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle in {sorted(component)}")


def describe(graph: dict[str, set[str]], component: set[str]) -> str:
    chain = " -> ".join(cycle_in(graph, component))
    return f"{chain}   (modules in the cycle: {', '.join(sorted(component))})"


def test_the_walker_sees_function_level_and_relative_imports(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "import codecomp_lsp.a\n"
        "from codecomp_lsp import b\n"
        "from . import c\n"
        "from .a import thing\n"
        "def f():\n"
        "    from codecomp_lsp.d import e\n"
    )
    known = {"codecomp_lsp.a", "codecomp_lsp.b", "codecomp_lsp.c", "codecomp_lsp.d"}
    assert imports_of("codecomp_lsp.m", source, known) == known
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    [component] = strongly_connected(graph)
    assert component == {"a", "b", "c"}
    assert cycle_in(graph, component) == ["a", "b", "c", "a"]


def test_no_import_cycles() -> None:
    graph = import_graph()
    assert len(graph) > 20  # the walk found the package
    cycles = all_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(describe(g, c) for g, c in cycles)
