"""The ``family_visits`` module as a plugin: found through its entry point, migrated on its own
branch, with a year of demo plans, visits and payments in both demo organisations that the
ledger's check, verify and export accept."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from litestar.testing import TestClient
from sqlalchemy import func, inspect, select

import plugins.family_visits
from core.cli import main
from core.db import make_engine, make_session_factory
from core.demo import DEMO_PASSWORD
from core.migrate import alembic_config, upgrade
from core.models import Event, Organisation
from core.plugins import ENTRY_POINT_GROUP, PluginRegistry, get_plugin_manager
from core.settings import get_settings
from core.web.app import create_app
from ledger.api import JournalTransaction
from plugins.family_visits import hooks, services
from plugins.family_visits.models import Visit, VisitPlan
from tests.conftest import DEMO_TODAY

PACKAGE = Path(plugins.family_visits.__file__).parent
TABLES = {"family_visit_settings", "family_visit_plans", "family_visit_plan_members", "family_visits", "family_visit_visitors"}
TODAY = DEMO_TODAY
ORGS = ("fresh-start", "beyond-bars")


def test_discovered_through_its_entry_point(registry: PluginRegistry) -> None:
    (ep,) = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == "family_visits"]
    assert ep.value == "plugins.family_visits.hooks"
    assert registry.modules["family_visits"].plugin is hooks
    assert {services.PLAN_SET, services.VISIT_RECORDED} <= set(registry.event_kinds)
    assert {services.VIEW, services.PLAN, services.RECORD, services.FINANCE, services.SETTINGS} <= set(registry.permissions)


def test_it_has_the_standard_module_layout() -> None:
    names = {p.name for p in PACKAGE.rglob("*.py")}
    assert {"hooks.py", "models.py", "schemas.py", "services.py", "routes.py", "0001_family_visits.py"} <= names
    assert (PACKAGE / "templates" / "family_visits").is_dir()


def test_its_branch_creates_and_drops_its_tables_alone(database_url: str, registry: PluginRegistry) -> None:
    config = alembic_config(database_url, registry)
    script = ScriptDirectory.from_config(config)
    assert "0001_family_visits" in script.get_heads()
    assert set(script.get_revision("family_visits@head").dependencies) == {"0001_core", "0002_ledger"}
    engine = make_engine(database_url)
    try:
        assert TABLES <= set(inspect(engine).get_table_names())
        command.downgrade(config, "family_visits@base")
        tables = set(inspect(engine).get_table_names())
        assert not TABLES & tables and {"cases", "ledger_books", "grants"} <= tables
        upgrade(database_url, registry)
        assert TABLES <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_both_demo_organisations_hold_a_year_of_plans_visits_and_payments(demo_db: str) -> None:
    engine = make_engine(demo_db)
    with make_session_factory(engine)() as session:
        for slug in ORGS:
            org_id = session.scalar(select(Organisation.id).where(Organisation.slug == slug))
            assert session.scalar(select(func.count()).select_from(VisitPlan).where(VisitPlan.org_id == org_id)) >= 8, slug
            visits = list(session.scalars(select(Visit).where(Visit.org_id == org_id)))
            months = {v.visited_on.replace(day=1) for v in visits}
            assert len(months) >= 11, slug  # a year, after the ledger's closed first month
            paid = [v for v in visits if v.payment != "none"]
            assert {v.payment for v in paid} == {"cash", "mobile_money"} and {v.currency for v in paid} == {"USD", "KHR"}
            assert any(v.payment == "none" for v in visits) and any(v.approved_by_id for v in paid)
            txns = {t.id: t for t in session.scalars(select(JournalTransaction).where(JournalTransaction.id.in_([v.txn_id for v in paid])))}
            assert len(txns) == len(paid)
            assert all(t.meta["plugin"] == "family_visits" and t.meta["case_id"] == v.case_id and t.meta["visit_id"] == v.id
                       and f"visit-{v.id}" in t.links for v in paid for t in [txns[v.txn_id]])
            assert session.scalar(select(func.count()).select_from(Event).where(Event.org_id == org_id, Event.kind == services.VISIT_RECORDED)) == len(visits)
    engine.dispose()


def test_ledger_check_verify_and_export_accept_the_demo(demo_db: str, tmp_path: Path) -> None:
    from beancount import loader

    seen = 0
    for slug in ORGS:
        for command_ in ("check", "verify"):
            result = CliRunner().invoke(main, ["--database-url", demo_db, "ledger", command_, "--org", slug])
            assert result.exit_code == 0, result.output
        out = tmp_path / slug
        result = CliRunner().invoke(main, ["--database-url", demo_db, "ledger", "export", "--org", slug, "--out", str(out)])
        assert result.exit_code == 0, result.output
        for path in sorted(out.glob("*general*.beancount")):
            entries, errors, _options = loader.load_file(str(path))
            assert errors == [], (path.name, errors[:3])
            for entry in entries:
                meta = getattr(entry, "meta", {})
                if meta.get("plugin") == "family_visits":
                    seen += 1
                    assert int(meta["case_id"]) > 0 and f"visit-{meta['visit_id']}" in entry.links
    assert seen > 150


def test_the_demo_pages_render(demo_db: str) -> None:
    app = create_app(get_settings(demo_db, secret_key="test-secret"), get_plugin_manager())
    try:
        for slug in ORGS:
            client = TestClient(app, raise_server_exceptions=False)
            client.get("/login")
            client.post("/login", data={"email": f"admin@{slug}.demo", "password": DEMO_PASSWORD, "_csrf_token": client.cookies.get("hc_csrf", ""), "next": "/"})
            engine = make_engine(demo_db)
            with make_session_factory(engine)() as session:
                org_id = session.scalar(select(Organisation.id).where(Organisation.slug == slug))
                case_ids = list(session.scalars(select(VisitPlan.case_id).where(VisitPlan.org_id == org_id)))
            engine.dispose()
            pages = {"/family-visits": "Family visits", "/family-visits/reports": "Share visited", "/family-visits/settings": "Reintegration",
                     "/family-visits/sheets?month=2026-04": "Totals", "/family-visits/sheets/sheet.xlsx?month=2026-04": "",
                     "/family-visits?due=1": "Family visits", "/": "family-visits-due"}
            pages.update({f"/family-visits/cases/{i}": "Record a visit" for i in case_ids})
            pages.update({f"/family-visits/cases/{i}/tab": "visit-periods" for i in case_ids})
            for page, expected in pages.items():
                response = client.get(page)
                assert response.status_code == 200 and expected in response.text, (slug, page)
            sheet = client.get("/family-visits/sheets?month=2026-04")
            assert 'id="sheet-mismatch"' not in sheet.text
            assert 'href="/family-visits"' in client.get("/").text  # the menu item
    finally:
        app.state.engine.dispose()
