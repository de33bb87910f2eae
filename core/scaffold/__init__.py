"""``homecoming plugin new NAME``: a new module package with the standard layout, ready to test.

The files to write are in ``files/`` as ``string.Template`` sources (``.tmpl``; ``$name``,
``${package}`` ... are the placeholders, ``$$`` a literal dollar sign). A folder named ``PACKAGE``
takes the package's name, and ``NAME`` in a folder or file name the module's.
``string.Template`` rather than Jinja: the generated templates are Jinja themselves, and their
``{{ _("...") }}`` must come out untouched.
"""

from __future__ import annotations

import json
import keyword
import re
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from string import Template

from alembic.script import ScriptDirectory

from core.migrate import CORE_MIGRATIONS
from core.plugins import CORE, ENTRY_POINT_GROUP

FILES = Path(__file__).parent / "files"
SUFFIX = ".tmpl"

NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*\Z")
MAX_NAME_LENGTH = 30
"""Keeps ``<name>_records`` and its constraint names within PostgreSQL's 63 characters."""

RESERVED = frozenset({
    CORE, "admin", "api", "calendar", "cases", "files", "imports", "language", "login", "logout",
    "organisation", "persons", "releases", "reports", "static", "tokens",
})
"""First path segments of core's own pages: a module's pages live under ``/<name>``."""


class ScaffoldError(Exception):
    """The module cannot be generated; the message says why."""


@dataclass(frozen=True)
class ModuleNames:
    """Every name derived from the module's: what the file templates are filled in with."""

    name: str
    label: str
    core_head: str

    @property
    def dist(self) -> str:
        return dist_name(self.name)

    @property
    def package(self) -> str:
        return package_name(self.name)

    @property
    def model(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("_") if part) + "Record"

    @property
    def revision(self) -> str:
        return f"0001_{self.name}"

    def placeholders(self) -> dict[str, str]:
        return {
            "name": self.name,
            "label": self.label,
            # A double-quoted literal valid in Python, Jinja and TOML alike.
            "label_literal": json.dumps(self.label, ensure_ascii=False),
            "dist": self.dist,
            "package": self.package,
            "model": self.model,
            "table": f"{self.name}_records",
            "revision": self.revision,
            "core_head": self.core_head,
        }


def dist_name(name: str) -> str:
    """The distribution a module is published as: ``home_visits`` -> ``homecoming-home-visits``."""
    return "homecoming-" + name.replace("_", "-")


def package_name(name: str) -> str:
    """The import package of a module: ``home_visits`` -> ``homecoming_home_visits``."""
    return f"homecoming_{name}"


def installed_modules() -> set[str]:
    """Entry-point names of the installed modules (read from package metadata, none imported)."""
    return {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}


def name_problem(name: str, installed: set[str] | None = None) -> str | None:
    """Why ``name`` cannot name a new module, or ``None`` when it can."""
    if not NAME_PATTERN.match(name):
        return f"{name!r} is not a module name: use lowercase letters, digits and underscores, starting with a letter"
    if len(name) > MAX_NAME_LENGTH:
        return f"{name!r} is longer than {MAX_NAME_LENGTH} characters"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"{name!r} is a Python keyword"
    if name in RESERVED:
        return f"{name!r} is taken by core (its pages live under /{name})"
    if name in (installed_modules() if installed is None else installed):
        return f"a module named {name!r} is already installed"
    return None


def core_head() -> str:
    """Core's current head revision, which a new module's first migration depends on."""
    heads = ScriptDirectory(str(CORE_MIGRATIONS)).get_heads()
    if len(heads) != 1:
        raise ScaffoldError(f"core's migrations have {len(heads)} heads ({', '.join(heads)}); expected one")
    return heads[0]


def default_label(name: str) -> str:
    return name.replace("_", " ").strip().capitalize()


def new_module(name: str, target: Path, label: str | None = None) -> list[Path]:
    """Write a new module named ``name`` into the folder ``target``; returns the files written.

    :raises ScaffoldError: a bad or taken name, or a ``target`` that exists and is not an
        empty folder (nothing is overwritten).
    """
    problem = name_problem(name)
    if problem:
        raise ScaffoldError(problem)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ScaffoldError(f"{target} already exists and is not empty; choose another folder with --dir")
    names = ModuleNames(name, (label or "").strip() or default_label(name), core_head())
    values = names.placeholders()
    renames = {"PACKAGE": names.package, "NAME": names.name}
    rendered: list[tuple[Path, str]] = []
    for source in sorted(FILES.rglob("*" + SUFFIX)):
        parts = [renames.get(part, part) for part in source.relative_to(FILES).with_suffix("").parts]
        parts[-1] = parts[-1].replace("NAME", names.name)
        rendered.append((target.joinpath(*parts), Template(source.read_text(encoding="utf-8")).substitute(values)))
    for path, text in rendered:  # every template rendered before anything is written
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return [path for path, _ in rendered]


__all__ = ["ModuleNames", "ScaffoldError", "core_head", "dist_name", "installed_modules", "name_problem", "new_module", "package_name"]
