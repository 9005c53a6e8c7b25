"""router/ is pure: it imports nothing from the effectful packages, nor I/O or clock helpers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROUTER = Path(__file__).resolve().parents[2] / "router"
MODULES = sorted(ROUTER.glob("*.py"))
FORBIDDEN = (
    "storage",
    "dialogs",
    "inbox",
    "channels",
    "relaydesk",
    "os",
    "socket",
    "aiohttp",
    "sqlalchemy",
    "time",
    "random",
    "subprocess",
    "urllib",
    "http",
)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("module", MODULES, ids=[m.stem for m in MODULES])
def test_module_imports_nothing_effectful(module: Path) -> None:
    """No import of another Relaydesk package or of clock, OS, network or randomness modules."""
    assert not _imports(module) & set(FORBIDDEN)


@pytest.mark.parametrize("module", MODULES, ids=[m.stem for m in MODULES])
def test_module_never_reads_the_clock(module: Path) -> None:
    """Nothing calls datetime.now/utcnow/today: callers pass now in."""
    source = module.read_text(encoding="utf-8")
    assert ".now(" not in source and "utcnow(" not in source and ".today(" not in source
