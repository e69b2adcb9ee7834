"""Import cycles among the modules of a package, found by reading the source (nothing is imported).

``import_graph(Path("fakediscord"))`` maps every module of the package to the modules of the same
package it imports; ``import_cycles(graph)`` returns the cycles, each as a list of module names
that import one another in a loop. Every ``import``/``from ... import`` statement counts, at any
depth (an import inside a function is a cycle too, only a later one), except those under
``if TYPE_CHECKING:``: they never run, and annotations naming a type are not an import cycle.
``from . import name`` resolves to the submodule ``name`` when there is one, else to the package.
Importing a submodule also runs its package's ``__init__``; that implicit edge is not counted
(every module would otherwise be in a cycle with an ``__init__`` that re-exports it).

Usable for any package: ``import_cycles(import_graph(ROOT / "lore"))``.
"""

from __future__ import annotations

import ast
from pathlib import Path


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement in ``tree`` outside ``if TYPE_CHECKING:`` blocks (their ``else`` counts)."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph(package: Path) -> dict[str, set[str]]:
    """``{module: {modules of the same package it imports}}`` for the package directory ``package``."""
    files = {_module_name(p, package): p for p in sorted(package.rglob("*.py"))}
    top = package.name
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        here = name.split(".") if is_package else name.split(".")[:-1]
        edges: set[str] = set()
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                if node.level:
                    base_parts = here[: len(here) - (node.level - 1)] if node.level > 1 else here
                    base = ".".join([*base_parts, *([node.module] if node.module else [])])
                else:
                    base = node.module or ""
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names]
            for target in targets:
                # `import a.b.c` needs a.b.c; the longest prefix that is a module of the package.
                parts = target.split(".")
                while parts and ".".join(parts) not in files:
                    parts.pop()
                if parts and parts[0] == top and ".".join(parts) != name:
                    edges.add(".".join(parts))
        graph[name] = edges
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted, largest first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component: list[str] = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return sorted(cycles, key=lambda c: (-len(c), c))


def describe(cycles: list[list[str]], graph: dict[str, set[str]]) -> str:
    """One line per cycle, with the imports that close it: ``a -> b -> a``."""
    lines = []
    for cycle in cycles:
        members = set(cycle)
        edges = [f"{a} -> {b}" for a in cycle for b in sorted(graph[a] & members)]
        lines.append("; ".join(edges))
    return "\n".join(lines)
