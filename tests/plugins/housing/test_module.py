"""The ``housing`` module as a plugin: found through its entry point, migrated on its own branch
(the migration matches the models), with demo repairs in every state in ``fresh-start`` (photos,
quotes, invoices, payments in the ledger with their invoices as beancount documents) and nothing
of it in ``beyond-bars``, which does not run the module."""

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

import plugins.housing
from core.cli import main
from core.db import Base, make_engine, make_session_factory
from core.demo import DEMO_PASSWORD
from core.migrate import alembic_config, upgrade
from core.models import Attachment, Event, Organisation
from core.plugins import ENTRY_POINT_GROUP, PluginRegistry, get_plugin_manager
from core.settings import get_settings
from core.web.app import create_app
from ledger.api import JournalTransaction
from plugins.housing import hooks, services
from plugins.housing.models import HousingAttachment, Payment, Repair
from plugins.housing.schemas import STATUSES

PACKAGE = Path(plugins.housing.__file__).parent
TABLES = {"housing_settings", "housing_assessments", "housing_household_members", "housing_repairs", "housing_quotes", "housing_payments",
          "housing_progress", "housing_attachments"}


def test_discovered_through_its_entry_point(registry: PluginRegistry) -> None:
    (ep,) = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == "housing"]
    assert ep.value == "plugins.housing.hooks"
    assert registry.modules["housing"].plugin is hooks
    assert {services.ASSESSED, services.QUOTE_APPROVED, services.PAYMENT_MADE, services.COMPLETED} <= set(registry.event_kinds)
    assert {services.VIEW, services.ASSESS, services.APPROVE, services.PAY, services.SETTINGS} <= set(registry.permissions)


def test_it_has_the_standard_module_layout() -> None:
    names = {p.name for p in PACKAGE.rglob("*.py")}
    assert {"hooks.py", "models.py", "schemas.py", "services.py", "routes.py", "0001_housing.py"} <= names
    assert (PACKAGE / "templates" / "housing").is_dir()


def _housing_only(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001 - Alembic's hook
    table = obj if type_ == "table" else getattr(obj, "table", None)
    return (table.name if table is not None else name) in TABLES


def test_its_migration_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": _housing_only})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


@pytest.mark.filterwarnings("ignore:autogenerate skipping")
def test_its_branch_creates_and_drops_its_tables_alone(database_url: str, registry: PluginRegistry) -> None:
    config = alembic_config(database_url, registry)
    script = ScriptDirectory.from_config(config)
    assert "0001_housing" in script.get_heads()
    assert set(script.get_revision("housing@head").dependencies) == {"0002_core_attachments", "0002_ledger"}
    engine = make_engine(database_url)
    try:
        assert TABLES <= set(inspect(engine).get_table_names())
        command.downgrade(config, "housing@base")
        tables = set(inspect(engine).get_table_names())
        assert not TABLES & tables and {"cases", "attachments", "ledger_books", "family_visits"} <= tables
        upgrade(database_url, registry)
        assert TABLES <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _org(session, slug: str) -> int:  # noqa: ANN001
    return session.scalar(select(Organisation.id).where(Organisation.slug == slug))


def test_fresh_start_has_repairs_in_every_state_with_photos_and_invoices(demo_db: str) -> None:
    engine = make_engine(demo_db)
    with make_session_factory(engine)() as session:
        org_id = _org(session, "fresh-start")
        repairs = list(session.scalars(select(Repair).where(Repair.org_id == org_id)))
        assert {r.status for r in repairs} == set(STATUSES)
        roles = dict(session.execute(select(HousingAttachment.role, func.count()).where(HousingAttachment.org_id == org_id)
                                     .group_by(HousingAttachment.role)).all())
        assert roles.keys() == {"photo", "quote", "invoice", "signoff"}
        kinds = set(session.scalars(select(Attachment.media_type).where(Attachment.org_id == org_id, Attachment.plugin == "housing")))
        assert {"image/jpeg", "application/pdf"} <= kinds
        payments = list(session.scalars(select(Payment).where(Payment.org_id == org_id)))
        assert len(payments) >= 3 and roles["invoice"] == len(payments)
        for payment in payments:
            txn = session.get(JournalTransaction, payment.txn_id)
            assert txn.meta["plugin"] == "housing" and txn.meta["case_id"] == payment.case_id and f"housing-{payment.repair_id}" in txn.links
        assert session.scalar(select(func.count()).select_from(Event).where(Event.org_id == org_id, Event.kind == services.COMPLETED)) >= 1
        beyond = _org(session, "beyond-bars")
        for model in (Repair, Payment, HousingAttachment):
            assert session.scalar(select(func.count()).select_from(model).where(model.org_id == beyond)) == 0
        assert session.scalar(select(func.count()).select_from(Event).where(Event.org_id == beyond, Event.kind.like("housing.%"))) == 0
    engine.dispose()


def test_the_export_carries_the_invoices_and_beancount_loads_it(demo_db: str, tmp_path: Path) -> None:
    from beancount import loader

    for command_ in ("check", "verify"):
        result = CliRunner().invoke(main, ["--database-url", demo_db, "ledger", command_, "--org", "fresh-start"])
        assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["--database-url", demo_db, "ledger", "export", "--org", "fresh-start", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    (general,) = [p for p in tmp_path.glob("*general*.beancount")]
    entries, errors, _options = loader.load_file(str(general))
    assert errors == []
    paid = [e for e in entries if getattr(e, "meta", {}).get("plugin") == "housing"]
    documents = [e for e in entries if type(e).__name__ == "Document" and any(link.startswith("housing-") for link in e.links)]
    assert len(paid) >= 3 and len(documents) == len(paid)
    assert {link for e in paid for link in e.links} == {link for d in documents for link in d.links}
    assert all(Path(d.filename).is_file() for d in documents)


def test_the_demo_pages_render_and_beyond_bars_does_not_see_the_module(demo_db: str) -> None:
    app = create_app(get_settings(demo_db, secret_key="test-secret"), get_plugin_manager())
    try:
        engine = make_engine(demo_db)
        with make_session_factory(engine)() as session:
            org_id = _org(session, "fresh-start")
            repairs = list(session.execute(select(Repair.id, Repair.case_id).where(Repair.org_id == org_id)))
            photo = session.scalar(select(Attachment.key).where(Attachment.org_id == org_id, Attachment.plugin == "housing"))
        engine.dispose()
        clients = {}
        for slug in ("fresh-start", "beyond-bars"):
            client = TestClient(app, raise_server_exceptions=False)
            client.get("/login")
            client.post("/login", data={"email": f"admin@{slug}.demo", "password": DEMO_PASSWORD, "_csrf_token": client.cookies.get("hc_csrf", ""), "next": "/"})
            clients[slug] = client
        fresh = clients["fresh-start"]
        pages = {"/housing": "Housing repairs", "/housing/reports": "Cost per home", "/housing/settings": "Reintegration",
                 "/housing?overdue=1": "Overdue", "/": "housing-overdue", "/housing/reports/repairs.xlsx": ""}
        pages.update({f"/housing/repairs/{rid}": "History" for rid, _c in repairs})
        pages.update({f"/housing/cases/{cid}": "Assessment of" for _r, cid in repairs})
        pages.update({f"/housing/cases/{cid}/tab": 'id="housing"' for _r, cid in repairs})
        for page, expected in pages.items():
            response = fresh.get(page)
            assert response.status_code == 200 and expected in response.text, page
        assert 'href="/housing"' in fresh.get("/").text
        assert fresh.get(f"/files/{photo}").status_code == 200
        beyond = clients["beyond-bars"]
        for page in ("/housing", "/housing/reports", "/housing/settings", f"/housing/repairs/{repairs[0][0]}", f"/files/{photo}"):
            assert beyond.get(page).status_code == 404, page
        home = beyond.get("/").text
        assert 'href="/housing"' not in home and "housing-overdue" not in home
    finally:
        app.state.engine.dispose()
