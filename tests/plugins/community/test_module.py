"""The ``community`` module as a plugin: found through its entry point, migrated on its own
branch (depending on core's ``0006_core_protection``; the migration matching the models), with a
year of demo meetings, partners and referrals in fresh-start that the ledger's check, verify and
export accept; beyond-bars does not run it."""

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

import plugins.community
from core.cli import main
from core.db import Base, make_engine, make_session_factory
from core.demo import DEMO_PASSWORD
from core.migrate import alembic_config, upgrade
from core.models import Event, Organisation, OrganisationModule
from core.plugins import ENTRY_POINT_GROUP, PluginRegistry, get_plugin_manager
from core.settings import get_settings
from core.web.app import create_app
from ledger.api import JournalTransaction
from plugins.community import hooks, services
from plugins.community.models import Attendance, Meeting, MeetingCost, Partner, Referral
from tests.conftest import DEMO_TODAY

PACKAGE = Path(plugins.community.__file__).parent
TABLES = {"community_settings", "community_partners", "community_referrals", "community_meetings", "community_attendance", "community_costs"}


def test_discovered_through_its_entry_point(registry: PluginRegistry) -> None:
    (ep,) = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == "community"]
    assert ep.value == "plugins.community.hooks"
    assert registry.modules["community"].plugin is hooks
    assert {services.REFERRED, services.ACCEPTED, services.DECLINED, services.COMPLETED, services.ATTENDED} <= set(registry.event_kinds)
    assert {services.VIEW, services.PARTNERS, services.REFER, services.MEETINGS, services.PAY, services.CORRECT, services.SETTINGS} <= set(registry.permissions)


def test_it_has_the_standard_module_layout() -> None:
    names = {p.name for p in PACKAGE.rglob("*.py")}
    assert {"hooks.py", "models.py", "schemas.py", "services.py", "routes.py", "0001_community.py"} <= names
    assert (PACKAGE / "templates" / "community").is_dir()


@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
@pytest.mark.filterwarnings("ignore:Expression #2 'lower")
def test_its_branch_matches_the_models_and_creates_and_drops_its_tables_alone(database_url: str, registry: PluginRegistry) -> None:
    def ours(obj, name, type_, reflected, compare_to) -> bool:
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return (table.name if table is not None else name) in TABLES

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": ours})
            assert compare_metadata(context, Base.metadata) == []
        config = alembic_config(database_url, registry)
        script = ScriptDirectory.from_config(config)
        assert "0001_community" in script.get_heads()
        assert set(script.get_revision("community@head").dependencies) == {"0006_core_protection", "0002_ledger"}
        assert TABLES <= set(inspect(engine).get_table_names())
        command.downgrade(config, "community@base")
        tables = set(inspect(engine).get_table_names())
        assert not TABLES & tables and {"cases", "consents", "ledger_books", "release_support_records"} <= tables
        upgrade(database_url, registry)
        assert TABLES <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_fresh_start_holds_a_year_of_meetings_partners_and_referrals_beyond_bars_none(demo_db: str) -> None:
    engine = make_engine(demo_db)
    with make_session_factory(engine)() as session:
        orgs = dict(session.execute(select(Organisation.slug, Organisation.id)).all())
        fresh_start, beyond = orgs["fresh-start"], orgs["beyond-bars"]
        enabled = {(o, m) for o, m, on in session.execute(select(OrganisationModule.org_id, OrganisationModule.module, OrganisationModule.enabled)) if on}
        assert (fresh_start, "community") in enabled and (beyond, "community") not in enabled
        days = list(session.scalars(select(Meeting.held_on).where(Meeting.org_id == fresh_start)))
        held = [d for d in days if d <= DEMO_TODAY]
        assert len({(d.year, d.month) for d in held}) >= 11 and min(held) <= services.add_months(DEMO_TODAY, -10)
        assert any(d > DEMO_TODAY for d in days)  # the next one, planned
        assert session.scalar(select(func.count()).select_from(Attendance).where(Attendance.org_id == fresh_start, Attendance.case_id.is_(None))) >= 5
        partners = list(session.scalars(select(Partner).where(Partner.org_id == fresh_start)))
        assert len({p.kind for p in partners}) >= 5 and any(not p.agreement_signed for p in partners)
        statuses = set(session.scalars(select(Referral.status).where(Referral.org_id == fresh_start)))
        assert statuses == {"sent", "accepted", "declined", "completed"}
        costs = list(session.scalars(select(MeetingCost).where(MeetingCost.org_id == fresh_start)))
        txns = {t.id: t for t in session.scalars(select(JournalTransaction).where(JournalTransaction.id.in_([c.txn_id for c in costs])))}
        assert len(costs) >= 10 and all(txns[c.txn_id].meta["plugin"] == "community" and txns[c.txn_id].meta["cost_id"] == c.id for c in costs)
        kinds = {k for (k,) in session.execute(select(Event.kind).where(Event.org_id == fresh_start, Event.kind.like("community.%")).distinct())}
        assert kinds == {services.REFERRED, services.ACCEPTED, services.DECLINED, services.COMPLETED, services.ATTENDED}
        for model in (Partner, Referral, Meeting, Attendance, MeetingCost):
            assert session.scalar(select(func.count()).select_from(model).where(model.org_id == beyond)) == 0
        assert session.scalar(select(func.count()).select_from(Event).where(Event.org_id == beyond, Event.kind.like("community.%"))) == 0
    engine.dispose()


def _client(app, slug: str) -> TestClient:
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
    assert sum(1 for e in entries if getattr(e, "meta", {}).get("plugin") == "community") >= 10

    app = create_app(get_settings(demo_db, secret_key="test-secret"), get_plugin_manager())
    try:
        engine = make_engine(demo_db)
        with make_session_factory(engine)() as session:
            org_id = session.scalar(select(Organisation.id).where(Organisation.slug == "fresh-start"))
            case_ids = sorted(set(session.scalars(select(Referral.case_id).where(Referral.org_id == org_id))))
            meeting_ids = list(session.scalars(select(Meeting.id).where(Meeting.org_id == org_id)))
            partner_ids = list(session.scalars(select(Partner.id).where(Partner.org_id == org_id)))
        engine.dispose()
        client = _client(app, "fresh-start")
        pages = {"/community": 'id="waiting"', "/community/partners": "data-partner", "/community/referrals": "data-referral",
                 "/community/meetings": "data-meeting", "/community/reports": 'id="share-ratio"', "/community/settings": "Unrestricted",
                 "/": "community-waiting"}
        pages.update({f"/community/cases/{i}": "refer-form" for i in case_ids[:4]})
        pages.update({f"/community/cases/{i}/tab": "case-referrals" for i in case_ids[:4]})
        pages.update({f"/community/meetings/{i}": "attend-form" for i in meeting_ids[:3]})
        pages.update({f"/community/partners/{i}": "partner-form" for i in partner_ids[:3]})
        for page, expected in pages.items():
            response = client.get(page)
            assert response.status_code == 200 and expected in response.text, page
        assert 'href="/community"' in client.get("/").text  # the menu item
        other = _client(app, "beyond-bars")
        for page in ("/community", "/community/partners", "/community/meetings", f"/community/cases/{case_ids[0]}", f"/community/meetings/{meeting_ids[0]}"):
            assert other.get(page).status_code == 404, page
        assert 'href="/community"' not in other.get("/").text
    finally:
        app.state.engine.dispose()
