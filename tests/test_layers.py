"""The layers' seams, read from the source: ``bot/`` uses only what ``lore`` exports, and
``lore/`` never reaches for Discord or the adapter."""

from __future__ import annotations

import ast
from pathlib import Path

import lore

ROOT = Path(__file__).resolve().parent.parent


def _imports(package: str) -> list[tuple[str, int, str, list[str]]]:
    """(file, line, imported module, imported names) of every import in a package, at any depth."""
    out = []
    for path in sorted((ROOT / package).rglob("*.py")):
        rel = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), rel)):
            if isinstance(node, ast.Import):
                out += [(rel, node.lineno, a.name, []) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                out.append((rel, node.lineno, node.module, [a.name for a in node.names]))
    return out


def test_the_adapter_imports_only_the_public_api_of_lore():
    wrong = [
        f"{file}:{line}: {module}"
        for file, line, module, _ in _imports("bot")
        if module.startswith("lore.") or (module == "lore" and not _)
    ]
    assert not wrong, "bot/ must import `from lore import X`, never a lore submodule:\n" + "\n".join(wrong)
    exported = set(lore.__all__)
    unknown = [
        f"{file}:{line}: {name}"
        for file, line, module, names in _imports("bot")
        if module == "lore"
        for name in names
        if name not in exported
    ]
    assert not unknown, "bot/ imports names lore does not export:\n" + "\n".join(unknown)


def test_every_exported_name_exists():
    missing = [name for name in lore.__all__ if not hasattr(lore, name)]
    assert not missing


def test_the_domain_never_imports_discord_or_the_adapter():
    wrong = [
        f"{file}:{line}: {module}"
        for file, line, module, _ in _imports("lore")
        if module.split(".")[0] in {"discord", "bot", "fakediscord", "aiohttp"}
    ]
    assert not wrong, "\n".join(wrong)


def test_the_adapter_never_reaches_into_the_store():
    """The service's ``store`` is the engine's own: bot/ asks the service (schedules, quiz scores,
    coordination, meta) instead, so a second store backend changes nothing above it."""
    wrong = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        rel = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), rel)):
            if isinstance(node, ast.Attribute) and node.attr == "store":
                wrong.append(f"{rel}:{node.lineno}: .store")
    assert not wrong, "bot/ must not use the lore service's store:\n" + "\n".join(wrong)
