"""The example third-party module ``savings`` (tests/example_plugin), installed as its own package:
found through its entry point, built on ``core.plugin_api`` alone, migrated on its own branch."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from importlib.metadata import entry_points, version
from pathlib import Path

import pytest
from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

import core.plugin_api
import homecoming_savings
from core.cli import main
from core.db import make_engine
from core.demo import load_demo
from core.migrate import alembic_config
from core.models import Event, Organisation
from core.plugins import ENTRY_POINT_GROUP, PluginRegistry
from homecoming_savings import hooks
from homecoming_savings.models import Deposit, from_minor, to_minor
from tests.conftest import World

PACKAGE = Path(homecoming_savings.__file__).parent


def test_discovered_through_its_entry_point_with_the_package_version(registry: PluginRegistry) -> None:
    (ep,) = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == "savings"]
    assert ep.value == "homecoming_savings.hooks"
    assert ep.dist is not None and ep.dist.name == "homecoming-example-savings"

    loaded = registry.modules["savings"]
    assert loaded.plugin is hooks
    assert loaded.version == version("homecoming-example-savings")
    assert str(loaded.module.label) == "Savings"
    assert loaded.module.migrations == PACKAGE / "migrations"
    assert registry.failures == []
    assert "savings.deposit" in registry.event_kinds
    assert {"savings.view", "savings.record"} <= set(registry.permissions)


def test_plugin_api_exports_exactly_its_all() -> None:
    # "@py_builtins" and "@pytest_ar": pytest rewrites the asserts of every module of a package
    # that ships a pytest plugin, as homecoming does (core.testing).
    exported = {n for n in vars(core.plugin_api) if not n.startswith(("_", "@")) and n != "annotations"}
    assert set(core.plugin_api.__all__) == exported


@pytest.mark.parametrize(("amount", "currency", "minor"), [("12.50", "USD", 1250), ("0.01", "USD", 1), ("4000", "KHR", 400000)])
def test_money_is_stored_in_integer_minor_units(amount: str, currency: str, minor: int) -> None:
    assert to_minor(Decimal(amount), currency) == minor
    assert from_minor(minor, currency) == Decimal(amount)
    with pytest.raises(ValueError):
        to_minor(Decimal("0.001"), currency)


def _db_revisions(database_url: str) -> tuple[str, ...]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_heads()
    finally:
        engine.dispose()


def test_init_creates_its_table_through_its_own_branch(database_url: str, registry: PluginRegistry) -> None:
    config = alembic_config(database_url, registry)
    script = ScriptDirectory.from_config(config)
    core_head = script.get_revision("core@head").revision
    assert {core_head, "0001_savings"} <= set(script.get_heads())  # beside core's and the bundled modules' branches
    assert script.get_revision("savings@head").dependencies == "0001_core"

    command.downgrade(config, "savings@base")  # the module's branch alone goes away
    engine = make_engine(database_url)
    tables = set(inspect(engine).get_table_names())
    assert "savings_deposits" not in tables and "cases" in tables
    # Only the savings branch went; core and the other modules' branches stay at their heads: an
    # upgrade would apply the savings revision and nothing else.
    current = _db_revisions(database_url)
    applied = {r.revision for r in script.iterate_revisions(tuple(current), "base")}
    assert set(script.get_heads()) - applied == {"0001_savings"}

    result = CliRunner().invoke(main, ["--database-url", database_url, "init"])
    assert result.exit_code == 0, result.output
    inspector = inspect(engine)
    columns = {c["name"]: c for c in inspector.get_columns("savings_deposits")}
    engine.dispose()
    assert {"org_id", "case_id", "amount_minor", "currency", "deposited_on"} <= set(columns)
    assert "INT" in str(columns["amount_minor"]["type"]).upper()  # minor units, never a float
    current = _db_revisions(database_url)
    assert list(script.iterate_revisions("heads", current)) == []  # nothing left to upgrade


def test_version_locations_survive_a_path_with_spaces(tmp_path: Path, registry: PluginRegistry) -> None:
    folder = tmp_path / "Program Files" / "100% savings" / "migrations"
    loaded = registry.modules["savings"]
    registry.modules["savings"] = replace(loaded, module=replace(loaded.module, migrations=folder))
    assert str(folder) in (alembic_config("sqlite://", registry).get_version_locations_list() or [])


def test_homecoming_plugins_lists_it_with_its_hooks_and_organisations(database_url: str, world: World) -> None:
    result = CliRunner().invoke(main, ["--database-url", database_url, "plugins"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    start = lines.index(f"savings {version('homecoming-example-savings')}: Savings")
    assert lines[start + 1] == "  enabled for: org-a"
    assert lines[start + 2] == (
        "  hooks: load_demo_data, register_case_tabs, register_event_kinds, register_menu_items, "
        "register_module, register_permissions"
    )
    assert "NOT LOADED" not in result.output


def test_demo_data_includes_deposits_only_where_the_module_is_enabled(db: Session, registry: PluginRegistry) -> None:
    load_demo(db, registry)
    by_org = dict(db.execute(select(Organisation.slug, Organisation.id)).all())
    orgs_with_deposits = set(db.scalars(select(Deposit.org_id).distinct()))
    assert orgs_with_deposits == {by_org["fresh-start"]}  # beyond-bars does not enable savings
    deposit = db.scalars(select(Deposit)).first()
    assert deposit is not None
    event = db.scalar(select(Event).where(Event.kind == "savings.deposit", Event.case_id == deposit.case_id))
    assert event is not None and event.payload["currency"] == "USD"
