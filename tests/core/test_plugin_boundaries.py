"""The built-in modules under ``plugins/`` use nothing of Homecoming but its documented public API:
``core.plugin_api`` and ``ledger.api``, and only the names in their ``__all__`` (docs/plugins.md,
section 7). Any other name of ``core`` or ``ledger`` is private and may change without notice."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
PUBLIC = {"core": "core.plugin_api", "ledger": "ledger.api"}


def violations(source: str, filename: str = "<source>") -> list[str]:
    """What in ``source`` reaches past the public API of core or the ledger, one line each."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                if top in PUBLIC and alias.name != PUBLIC[top]:
                    found.append(f"{filename}:{node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            top = node.module.split(".")[0]
            if top not in PUBLIC:
                continue
            if node.module != PUBLIC[top]:
                found.append(f"{filename}:{node.lineno}: from {node.module} import ... (only {PUBLIC[top]})")
                continue
            public = set(importlib.import_module(node.module).__all__)
            for alias in node.names:
                if alias.name == "*":
                    found.append(f"{filename}:{node.lineno}: from {node.module} import *")
                elif alias.name.startswith("_") or alias.name not in public:
                    found.append(f"{filename}:{node.lineno}: {alias.name} is not in {node.module}.__all__")
    return found


FILES = sorted(PLUGINS.rglob("*.py"))


def test_the_built_in_modules_are_all_walked() -> None:
    walked = {path.relative_to(PLUGINS).parts[0] for path in FILES}
    assert {"training", "grants", "family_visits", "housing", "release_support"} <= walked
    assert any(path.name == "services.py" and "grants" in path.parts for path in FILES)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PLUGINS)))
def test_a_built_in_module_imports_only_the_public_api(path: Path) -> None:
    assert not violations(path.read_text(encoding="utf-8"), str(path.relative_to(PLUGINS.parent)))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from core.plugin_api import Module, hookimpl\nfrom ledger.api import post", []),
        ("from .models import Grant\nimport sqlalchemy", []),
        ("from core.i18n import gettext", ["from core.i18n import ... (only core.plugin_api)"]),
        ("from ledger.money import to_minor", ["from ledger.money import ... (only ledger.api)"]),
        ("from ledger import posting", ["from ledger import ... (only ledger.api)"]),
        ("import core.models", ["import core.models"]),
        ("from core.plugin_api import *", ["from core.plugin_api import *"]),
        ("from core.plugin_api import _flatten", ["_flatten is not in core.plugin_api.__all__"]),
        ("from ledger.api import Base", ["Base is not in ledger.api.__all__"]),
        ("def f():\n    from core.web.tables import table\n", ["from core.web.tables import ... (only core.plugin_api)"]),
    ],
)
def test_the_check_catches_each_way_past_the_api(source: str, expected: list[str]) -> None:
    assert [v.split(": ", 1)[1] for v in violations(source)] == expected
