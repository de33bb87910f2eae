"""Every programme module, built-in or third-party, uses only core's public plugin API."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import core.plugin_api
from core.plugins import get_plugin_manager

# The ledger is part of the platform (ARCHITECTURE section 2: plugins -> ledger -> core).
MODULES = sorted(name for name in get_plugin_manager().modules if name != "ledger")


def _package_of(name: str) -> Path:
    hooks = get_plugin_manager().modules[name].plugin
    return Path(sys.modules[hooks.__name__].__file__).parent  # type: ignore[arg-type]


@pytest.mark.parametrize("name", MODULES)
def test_imports_nothing_of_core_but_the_plugin_api(name: str) -> None:
    public = set(core.plugin_api.__all__)
    for path in _package_of(name).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                assert not any(a.name.split(".")[0] == "core" for a in node.names), path
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "core":
                assert node.module == "core.plugin_api", f"{path} imports {node.module}"
                assert {a.name for a in node.names} <= public, path


def test_the_modules_checked_include_the_example_and_training() -> None:
    assert {"savings", "training"} <= set(MODULES)
