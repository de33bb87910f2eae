"""The module imports nothing of core but ``core.plugin_api`` and nothing of the ledger but
``ledger.api``: the public API is enough to build it."""

from __future__ import annotations

import ast
from pathlib import Path

import homecoming_schooling
from core import plugin_api
from ledger import api as ledger_api

PACKAGE = Path(homecoming_schooling.__file__).parent
ALLOWED = {"core": ("core.plugin_api", set(plugin_api.__all__)), "ledger": ("ledger.api", set(ledger_api.__all__))}


def _imports(path: Path) -> list[tuple[str, set[str] | None]]:
    """``(module, names)`` of every import of the file; ``names`` is ``None`` for ``import x``."""
    found: list[tuple[str, set[str] | None]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, {alias.name for alias in node.names}))
    return found


def test_the_package_imports_only_the_public_apis_of_core_and_ledger() -> None:
    files = sorted(PACKAGE.rglob("*.py"))
    assert {"hooks.py", "models.py", "schemas.py", "services.py", "routes.py"} <= {f.name for f in files}
    for path in files:
        for module, names in _imports(path):
            top = module.split(".")[0]
            if top not in ALLOWED:
                continue
            public_module, public_names = ALLOWED[top]
            assert names is not None, f"{path.name}: `import {module}`; use `from {public_module} import ...`"
            assert module == public_module, f"{path.name} imports {module}: only {public_module} is public"
            assert names <= public_names, f"{path.name} imports private names of {module}: {sorted(names - public_names)}"


def test_the_check_sees_the_imports_it_must_refuse(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import core.models\nfrom ledger.posting import post\nfrom core.plugin_api import Case\n", encoding="utf-8")
    assert _imports(bad) == [("core.models", None), ("ledger.posting", {"post"}), ("core.plugin_api", {"Case"})]
