"""The ``grants`` module as a plugin: found through its entry point, migrated on its own branch,
with demo data in every state that the ledger's check, verify and export accept."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path
from types import SimpleNamespace

from alembic import command
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from litestar.testing import TestClient
from sqlalchemy import inspect, select

import plugins.grants
from core.cli import main
from core.db import make_engine, make_session_factory
from core.demo import DEMO_PASSWORD
from core.migrate import alembic_config, upgrade
from core.models import Event, Organisation
from core.plugins import ENTRY_POINT_GROUP, PluginRegistry, get_plugin_manager
from core.settings import get_settings
from core.web.app import create_app
from ledger.api import Book
from plugins.grants import hooks
from plugins.grants.models import Grant, MonthFigures
from tests.conftest import DEMO_TODAY

PACKAGE = Path(plugins.grants.__file__).parent
TABLES = {"grants", "grant_cost_items", "grant_tranches", "grant_instalments", "grant_movements", "grant_month_figures"}
TODAY = DEMO_TODAY


def test_discovered_through_its_entry_point(registry: PluginRegistry) -> None:
    (ep,) = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == "grants"]
    assert ep.value == "plugins.grants.hooks"
    assert registry.modules["grants"].plugin is hooks
    assert {"grants.plan_submitted", "grants.approved", "grants.tranche_disbursed", "grants.written_off", "grants.business_month"} <= set(registry.event_kinds)
    assert {"grants.view", "grants.plan", "grants.approve", "grants.disburse", "grants.business"} <= set(registry.permissions)


def test_it_has_the_standard_module_layout() -> None:
    names = {p.name for p in PACKAGE.rglob("*.py")}
    assert {"hooks.py", "models.py", "schemas.py", "services.py", "routes.py", "0001_grants.py"} <= names
    assert (PACKAGE / "templates" / "grants").is_dir()


def test_its_branch_creates_and_drops_its_tables_alone(database_url: str, registry: PluginRegistry) -> None:
    config = alembic_config(database_url, registry)
    script = ScriptDirectory.from_config(config)
    assert "0001_grants" in script.get_heads()
    assert set(script.get_revision("grants@head").dependencies) == {"0001_core", "0002_ledger"}
    engine = make_engine(database_url)
    try:
        assert TABLES <= set(inspect(engine).get_table_names())
        command.downgrade(config, "grants@base")
        tables = set(inspect(engine).get_table_names())
        assert not TABLES & tables and {"cases", "ledger_books"} <= tables
        upgrade(database_url, registry)
        assert TABLES <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_demo_holds_grants_in_every_state_with_months_of_figures(demo_db: str) -> None:
    from plugins.grants import services

    engine = make_engine(demo_db)
    with make_session_factory(engine)() as session:
        org = session.scalar(select(Organisation).where(Organisation.slug == "fresh-start"))
        grants = list(session.scalars(select(Grant).where(Grant.org_id == org.id)))
        reader = SimpleNamespace(session=session, org_id=org.id)  # positions() reads these two only
        stages = {p.stage for p in services.positions(reader, grants).values()}  # type: ignore[arg-type]
        assert stages == {"submitted", "rejected", "approved", "partly_disbursed", "disbursed", "repaying", "written_off", "repaid"}
        months = {g: n for g, n in session.execute(select(MonthFigures.grant_id, MonthFigures.id)).all()}
        assert len(months) == 5
        assert session.scalar(select(Event.id).where(Event.kind == "grants.tranche_disbursed")) is not None
        beyond = session.scalar(select(Organisation.id).where(Organisation.slug == "beyond-bars"))
        assert session.scalar(select(Grant.id).where(Grant.org_id == beyond)) is None  # it does not run grants
        assert len(list(session.scalars(select(Book).where(Book.org_id == org.id, Book.kind == "microbusiness")))) == 6
    engine.dispose()


def test_ledger_check_verify_and_export_accept_the_demo(demo_db: str, tmp_path: Path) -> None:
    from beancount import loader

    for command_ in ("check", "verify"):
        result = CliRunner().invoke(main, ["--database-url", demo_db, "ledger", command_, "--org", "fresh-start"])
        assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["--database-url", demo_db, "ledger", "export", "--org", "fresh-start", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    files = sorted(tmp_path.glob("*.beancount"))
    business = [f for f in files if "microbusiness-of-grant" in f.name]
    assert len(business) == 6  # each microbusiness has its own book
    seen = 0
    for path in files:
        entries, errors, _options = loader.load_file(str(path))
        assert errors == [], (path.name, errors[:3])
        for entry in entries:
            meta = getattr(entry, "meta", {})
            if meta.get("plugin") == "grants":
                seen += 1
                assert int(meta["grant_id"]) > 0 and int(meta["case_id"]) > 0
                assert f"grant-{meta['grant_id']}" in entry.links
    assert seen > 50


def test_the_demo_pages_render(demo_db: str) -> None:
    app = create_app(get_settings(demo_db, secret_key="test-secret"), get_plugin_manager())
    try:
        client = TestClient(app, raise_server_exceptions=False)
        client.get("/login")
        client.post("/login", data={"email": "finance@fresh-start.demo", "password": DEMO_PASSWORD, "_csrf_token": client.cookies.get("hc_csrf", ""), "next": "/"})
        engine = make_engine(demo_db)
        with make_session_factory(engine)() as session:
            ids = list(session.scalars(select(Grant.id).join(Organisation, Organisation.id == Grant.org_id).where(Organisation.slug == "fresh-start")))
        engine.dispose()
        pages = {"/grants": "Written off", "/grants/reports": "Business survival", "/grants/reports?by=quarter": "Q"}
        pages.update({f"/grants/{i}": "Business plan" for i in ids})
        for page, expected in pages.items():
            response = client.get(page)
            assert response.status_code == 200 and expected in response.text, page
        assert 'href="/grants"' in client.get("/").text  # the menu item
    finally:
        app.state.engine.dispose()
