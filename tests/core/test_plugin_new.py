"""``homecoming plugin new NAME``: the package it writes, the names and folders it refuses, and
proof that what it writes works: the new package's own tests pass.

The generated package is never installed into the shared environment, nor imported in this
process (its model would join core's shared metadata for the rest of the run). Its tests run in
a subprocess that finds it through ``PYTHONPATH`` and finds its entry point in a ``.dist-info``
folder written into ``tmp_path`` from the generated ``pyproject.toml``: what ``pip install -e``
would record, without a build (the environment has no ``wheel`` to build one offline).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from core.cli import main
from core.scaffold import core_head

NAME = "home_visits"
PACKAGE = "homecoming_home_visits"
EXPECTED_FILES = {
    "pyproject.toml",
    "README.md",
    "babel.cfg",
    f"{PACKAGE}/__init__.py",
    f"{PACKAGE}/hooks.py",
    f"{PACKAGE}/models.py",
    f"{PACKAGE}/schemas.py",
    f"{PACKAGE}/services.py",
    f"{PACKAGE}/routes.py",
    f"{PACKAGE}/templates/{NAME}/list.html",
    f"{PACKAGE}/templates/{NAME}/case.html",
    f"{PACKAGE}/templates/{NAME}/_case.html",
    f"{PACKAGE}/migrations/0001_{NAME}_records.py",
    f"{PACKAGE}/locale/km/LC_MESSAGES/messages.po",
    "tests/conftest.py",
    f"tests/test_{NAME}.py",
}


def new(*args: str) -> Result:
    return CliRunner().invoke(main, ["plugin", "new", *args])


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def generated(tmp_path: Path) -> Path:
    folder = tmp_path / "homecoming-home-visits"
    result = new(NAME, "--dir", str(folder), "--label", "Home visits")
    assert result.exit_code == 0, result.output
    return folder


def test_new_writes_the_standard_layout_and_says_what_next(tmp_path: Path) -> None:
    folder = tmp_path / "homecoming-home-visits"
    result = new(NAME, "--dir", str(folder), "--label", "Home visits")
    assert result.exit_code == 0, result.output
    assert _files(folder) == EXPECTED_FILES
    for line in ("homecoming_home_visits/hooks.py", f"pip install -e {folder}", "homecoming init", "Administration", "pytest"):
        assert line in result.output

    project = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["name"] == "homecoming-home-visits"
    assert project["project"]["entry-points"]["homecoming.plugins"] == {NAME: f"{PACKAGE}.hooks"}
    assert any(dep.startswith("homecoming") for dep in project["project"]["dependencies"])
    assert project["tool"]["pytest"]["ini_options"]["testpaths"] == ["tests"]

    hooks = (folder / PACKAGE / "hooks.py").read_text(encoding="utf-8")
    assert '_l("Home visits")' in hooks and "locale=HERE / \"locale\"" in hooks
    services = (folder / PACKAGE / "services.py").read_text(encoding="utf-8")
    assert all(f'"{NAME}.{what}"' in services for what in ("view", "manage", "recorded"))
    models = (folder / PACKAGE / "models.py").read_text(encoding="utf-8")
    assert "class HomeVisitsRecord(Base):" in models and '__tablename__ = "home_visits_records"' in models
    for page in ("list.html", "case.html"):
        assert (folder / PACKAGE / "templates" / NAME / page).read_text(encoding="utf-8").startswith('{% extends "base.html" %}')
    assert '{{ _("Home visits") }}' in (folder / PACKAGE / "templates" / NAME / "list.html").read_text(encoding="utf-8")


def test_the_migration_starts_its_own_branch_on_cores_head(generated: Path) -> None:
    migration = ast.parse((generated / PACKAGE / "migrations" / f"0001_{NAME}_records.py").read_text(encoding="utf-8"))
    values = {
        node.target.id: ast.literal_eval(node.value)
        for node in migration.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None
    }
    assert values == {"revision": f"0001_{NAME}", "down_revision": None, "branch_labels": (NAME,), "depends_on": core_head()}


def test_the_package_imports_nothing_of_core_but_the_plugin_api(generated: Path) -> None:
    for path in (generated / PACKAGE).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))  # also: every file is valid Python
        for node in ast.walk(tree):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names] if isinstance(node, ast.Import) else []
            for module in modules:
                assert module.split(".")[0] not in {"core", "ledger", "plugins"} or module == "core.plugin_api", f"{path.name} imports {module}"


def test_package_data_covers_every_file_the_module_needs_at_run_time(generated: Path) -> None:
    """Templates, migrations and the catalog must reach a wheel, not only an editable install."""
    patterns = tomllib.loads((generated / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"][PACKAGE]
    covered = {p.relative_to(generated / PACKAGE).as_posix() for pattern in patterns for p in (generated / PACKAGE).glob(pattern) if p.is_file()}
    needed = {p.relative_to(generated / PACKAGE).as_posix() for p in (generated / PACKAGE).rglob("*") if p.is_file() and p.suffix != ".py"}
    assert needed and needed <= covered
    assert f"migrations/0001_{NAME}_records.py" in covered


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Home", "not a module name"),
        ("1visits", "not a module name"),
        ("home-visits", "not a module name"),
        ("_visits", "not a module name"),
        ("class", "Python keyword"),
        ("match", "Python keyword"),
        ("training", "already installed"),
        ("ledger", "already installed"),
        ("core", "taken by core"),
        ("cases", "taken by core"),
        ("a" * 31, "longer than"),
    ],
)
def test_a_bad_or_taken_name_is_refused(tmp_path: Path, name: str, message: str) -> None:
    result = new(name, "--dir", str(tmp_path / "out"))
    assert result.exit_code != 0
    assert message in result.output
    assert not (tmp_path / "out").exists()


def test_a_folder_that_holds_something_is_refused_and_left_alone(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    result = new(NAME, "--dir", str(tmp_path))
    assert result.exit_code != 0
    assert "not empty" in result.output
    assert _files(tmp_path) == {"notes.txt"} and (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_an_empty_folder_is_filled(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert new(NAME, "--dir", str(tmp_path / "empty")).exit_code == 0
    assert _files(tmp_path / "empty") == EXPECTED_FILES


def test_the_default_folder_is_named_after_the_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert new(NAME).exit_code == 0
    assert _files(tmp_path / "homecoming-home-visits") == EXPECTED_FILES


def _register(folder: Path, site: Path) -> None:
    """Record the generated distribution and its entry points in ``site`` as an installer would,
    taking both from its ``pyproject.toml``; the code itself is found through ``PYTHONPATH``."""
    project = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    info = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n", encoding="utf-8")
    groups = [f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()) for group, eps in project["entry-points"].items()]
    (info / "entry_points.txt").write_text("\n".join(groups), encoding="utf-8")


def test_the_generated_module_passes_its_own_tests(generated: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    _register(generated, site)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(site), str(generated), os.environ.get("PYTHONPATH")]))}
    env.pop("PYTEST_ADDOPTS", None)
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(generated / "tests")],
        cwd=generated, env=env, capture_output=True, text=True, timeout=120,
    )
    took = time.monotonic() - started
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    print(f"the generated module's tests: {summary} ({took:.1f} s)")
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert " passed" in summary and "error" not in summary and "skipped" not in summary, summary
