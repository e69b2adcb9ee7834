"""No two modules of the fake Discord import each other, directly or round a loop."""

from __future__ import annotations

from pathlib import Path

from tests.fakediscord.import_cycles import describe, import_cycles, import_graph

ROOT = Path(__file__).resolve().parents[2]


def test_fakediscord_has_no_import_cycle():
    graph = import_graph(ROOT / "fakediscord")
    assert "fakediscord.server" in graph and "fakediscord.result" in graph["fakediscord.server"]
    cycles = import_cycles(graph)
    assert cycles == [], "import cycles in fakediscord:\n" + describe(cycles, graph)


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    pkg = tmp_path / "pkg"
    for name, text in files.items():
        path = pkg / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return pkg


def test_a_loop_through_a_function_level_import_is_a_cycle(tmp_path):
    pkg = _package(
        tmp_path,
        {
            "__init__.py": "from .a import A\n",
            "a.py": "from .b import B\nclass A: ...\n",
            "b.py": "class B:\n    def text(self):\n        from .c import render\n        return render(self)\n",
            "c.py": "from . import a\ndef render(x): return str(x)\n",
            "d.py": "import pkg.a\n",
        },
    )
    graph = import_graph(pkg)
    assert graph["pkg.d"] == {"pkg.a"}
    assert import_cycles(graph) == [["pkg.a", "pkg.b", "pkg.c"]]
    assert describe(import_cycles(graph), graph) == "pkg.a -> pkg.b; pkg.b -> pkg.c; pkg.c -> pkg.a"


def test_type_only_imports_and_the_package_init_are_not_cycles(tmp_path):
    pkg = _package(
        tmp_path,
        {
            "__init__.py": "from .a import A\nfrom .b import B\n",
            "a.py": "from .b import B\nclass A(B): ...\n",
            "b.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from .a import A\n"
                "else:\n    from .sub.leaf import LEAF\n"
                "class B: ...\n"
            ),
            "sub/__init__.py": "",
            "sub/leaf.py": "from ..a import A\nLEAF = 1\n",
        },
    )
    graph = import_graph(pkg)
    assert graph["pkg.b"] == {"pkg.sub.leaf"}
    assert graph["pkg.sub.leaf"] == {"pkg.a"}
    # a -> b -> sub.leaf -> a: the `else` branch of TYPE_CHECKING runs
    assert import_cycles(graph) == [["pkg.a", "pkg.b", "pkg.sub.leaf"]]
