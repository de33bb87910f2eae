"""The ``release_support`` module as a plugin: found through its entry point, migrated on its own
branch (the migration matching the models), with demo stock, release-day support and checklists
in fresh-start that the ledger's check, verify and export accept; beyond-bars does not run it."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from litestar.testing import TestClient
from sqlalchemy import func, inspect, select

import plugins.release_support
from core.cli import main
from core.db import Base, make_engine, make_session_factory
from core.demo import DEMO_PASSWORD
from core.migrate import alembic_config, upgrade
from core.models import Event, Organisation
from core.plugins import ENTRY_POINT_GROUP, PluginRegistry, get_plugin_manager
from core.settings import get_settings
from core.web.app import create_app
from ledger.api import JournalTransaction
from plugins.release_support import hooks, services
from plugins.release_support.models import ChecklistStep, ReleaseRecord, StockItem, StockReceipt
from plugins.release_support.schemas import STEPS

PACKAGE = Path(plugins.release_support.__file__).parent
TABLES = {"release_support_settings", "release_support_items", "release_support_receipts", "release_support_records",
          "release_support_lines", "release_support_checklist"}


def test_discovered_through_its_entry_point(registry: PluginRegistry) -> None:
    (ep,) = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == "release_support"]
    assert ep.value == "plugins.release_support.hooks"
    assert registry.modules["release_support"].plugin is hooks
    assert {services.SUPPORT_GIVEN, services.SUPPORT_REVERSED, services.COLLECTED, services.REACHED_HOME, services.DOCUMENT_IN_HAND} <= set(registry.event_kinds)
    assert {services.VIEW, services.RECORD, services.STOCK, services.CORRECT, services.SETTINGS} <= set(registry.permissions)


def test_it_has_the_standard_module_layout() -> None:
    names = {p.name for p in PACKAGE.rglob("*.py")}
    assert {"hooks.py", "models.py", "schemas.py", "services.py", "routes.py", "0001_release_support.py"} <= names
    assert (PACKAGE / "templates" / "release_support").is_dir()


@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
@pytest.mark.filterwarnings("ignore:Expression #2 'lower")
def test_its_branch_matches_the_models_and_creates_and_drops_its_tables_alone(database_url: str, registry: PluginRegistry) -> None:
    def ours(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001 - Alembic's hook
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return (table.name if table is not None else name) in TABLES

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": ours})
            assert compare_metadata(context, Base.metadata) == []
        config = alembic_config(database_url, registry)
        script = ScriptDirectory.from_config(config)
        assert "0001_release_support" in script.get_heads()
        assert set(script.get_revision("release_support@head").dependencies) == {"0001_core", "0002_ledger"}
        assert TABLES <= set(inspect(engine).get_table_names())
        command.downgrade(config, "release_support@base")
        tables = set(inspect(engine).get_table_names())
        assert not TABLES & tables and {"cases", "ledger_books", "family_visits"} <= tables
        upgrade(database_url, registry)
        assert TABLES <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_fresh_start_holds_stock_support_and_checklists_beyond_bars_none(demo_db: str) -> None:
    engine = make_engine(demo_db)
    with make_session_factory(engine)() as session:
        orgs = dict(session.execute(select(Organisation.slug, Organisation.id)).all())
        fresh_start, beyond = orgs["fresh-start"], orgs["beyond-bars"]
        records = list(session.scalars(select(ReleaseRecord).where(ReleaseRecord.org_id == fresh_start)))
        assert len(records) >= 4 and all(r.lines and r.txn_id for r in records)
        assert session.scalar(select(func.count()).select_from(StockReceipt).where(StockReceipt.org_id == fresh_start)) >= 5
        txns = {t.id: t for t in session.scalars(select(JournalTransaction).where(JournalTransaction.id.in_([r.txn_id for r in records])))}
        assert all(txns[r.txn_id].meta == {"plugin": "release_support", "case_id": r.case_id, "fund": "Reintegration", "release_id": r.id}
                   and f"release-{r.id}" in txns[r.txn_id].links for r in records)
        steps: dict[int, set[str]] = {}
        for step in session.scalars(select(ChecklistStep).where(ChecklistStep.org_id == fresh_start)):
            steps.setdefault(step.case_id, set()).add(step.step)
        complete = [c for c, s in steps.items() if s == set(STEPS)]
        assert len(complete) >= 2 and len(steps) - len(complete) == 1  # one partial checklist
        kinds = {k for (k,) in session.execute(select(Event.kind).where(Event.org_id == fresh_start, Event.kind.like("release_support.%")).distinct())}
        assert {services.SUPPORT_GIVEN, services.COLLECTED, services.REACHED_HOME, services.DOCUMENT_IN_HAND} <= kinds
        for model in (ReleaseRecord, StockItem, StockReceipt, ChecklistStep):
            assert session.scalar(select(func.count()).select_from(model).where(model.org_id == beyond)) == 0
    engine.dispose()


def _client(app, slug: str) -> TestClient:  # noqa: ANN001
    client = TestClient(app, raise_server_exceptions=False)
    client.get("/login")
    client.post("/login", data={"email": f"admin@{slug}.demo", "password": DEMO_PASSWORD, "_csrf_token": client.cookies.get("hc_csrf", ""), "next": "/"})
    return client


def test_the_demo_pages_and_the_ledger(demo_db: str, tmp_path: Path) -> None:
    from beancount import loader

    for command_ in ("check", "verify"):
        result = CliRunner().invoke(main, ["--database-url", demo_db, "ledger", command_, "--org", "fresh-start"])
        assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["--database-url", demo_db, "ledger", "export", "--org", "fresh-start", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    (path,) = sorted(tmp_path.glob("*general*.beancount"))
    entries, errors, _options = loader.load_file(str(path))
    assert errors == []
    assert sum(1 for e in entries if getattr(e, "meta", {}).get("plugin") == "release_support") >= 10

    app = create_app(get_settings(demo_db, secret_key="test-secret"), get_plugin_manager())
    try:
        engine = make_engine(demo_db)
        with make_session_factory(engine)() as session:
            org_id = session.scalar(select(Organisation.id).where(Organisation.slug == "fresh-start"))
            case_ids = sorted(set(session.scalars(select(ReleaseRecord.case_id).where(ReleaseRecord.org_id == org_id))))
        engine.dispose()
        client = _client(app, "fresh-start")
        pages = {"/release-support": "Release support", "/release-support/stock": 'id="low-stock"', "/release-support/settings": "Reintegration",
                 "/release-support/export.xlsx": "", "/": "release-support-low-stock"}
        pages.update({f"/release-support/cases/{i}": "record-form" for i in case_ids})
        pages.update({f"/release-support/cases/{i}/tab": "checklist-summary" for i in case_ids})
        for page, expected in pages.items():
            response = client.get(page)
            assert response.status_code == 200 and expected in response.text, page
        assert 'href="/release-support"' in client.get("/").text  # the menu item
        other = _client(app, "beyond-bars")
        for page in ("/release-support", "/release-support/stock", "/release-support/settings", f"/release-support/cases/{case_ids[0]}"):
            assert other.get(page).status_code == 404, page
        assert 'href="/release-support"' not in other.get("/").text
    finally:
        app.state.engine.dispose()
