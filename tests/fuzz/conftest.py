"""Fixtures for the bounded fuzz runs: the demo database (an organisation with every module and
real persons, cases and module records, so generated ids hit rows), the app on it, an admin's
bearer token and signed-in browser client, and the checks that nothing was left half-written.

Each fuzz module gets its own copy of the demo database (``demo_db`` is module-scoped), so what one
module's generated requests write, another never sees.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.backup import verify_records
from core.db import make_engine, make_session_factory
from core.demo import DEMO_PASSWORD
from core.models import Case, Event, Organisation, Person
from core.plugins import PluginRegistry, get_plugin_manager
from core.settings import get_settings
from core.web.app import create_app
from ledger.models import JournalTransaction, Posting
from tests.conftest import login

#: the demo organisation that enables every installed module
ORG_SLUG = "fresh-start"
ADMIN_EMAIL = f"admin@{ORG_SLUG}.demo"


@dataclass(frozen=True)
class FuzzTarget:
    """The app under fuzz and the organisation it is signed in to."""

    app: Litestar
    database_url: str
    registry: PluginRegistry
    org_id: int


@pytest.fixture(scope="module")
def fuzz_registry() -> PluginRegistry:
    return get_plugin_manager()


@pytest.fixture(scope="module")
def fuzz_target(demo_db: str, fuzz_registry: PluginRegistry) -> Iterator[FuzzTarget]:
    """The app on this module's copy of the demo database (no lifespan: see tests/conftest.py)."""
    app = create_app(get_settings(demo_db, secret_key="fuzz-secret"), fuzz_registry)
    with app.state.session_factory() as session:
        org_id = session.scalar(select(Organisation.id).where(Organisation.slug == ORG_SLUG))
    assert org_id is not None
    yield FuzzTarget(app, demo_db, fuzz_registry, org_id)
    app.state.engine.dispose()


@pytest.fixture(scope="module")
def admin_token(fuzz_target: FuzzTarget) -> str:
    """A bearer token of the demo organisation's admin."""
    response = TestClient(fuzz_target.app).post(
        "/api/tokens", json={"email": ADMIN_EMAIL, "password": DEMO_PASSWORD, "organisation": ORG_SLUG}
    )
    assert response.status_code == 201, response.text
    return response.json()["token"]


@pytest.fixture(scope="module")
def admin_browser(fuzz_target: FuzzTarget) -> TestClient:
    """A browser-like client signed in as the demo organisation's admin (session cookie, CSRF)."""
    client = TestClient(fuzz_target.app, raise_server_exceptions=False)
    login(client, ADMIN_EMAIL, DEMO_PASSWORD)
    return client


@pytest.fixture(scope="module")
def fuzz_session(fuzz_target: FuzzTarget) -> Iterator[Session]:
    """A session on the fuzzed database for reading what requests committed."""
    engine = make_engine(fuzz_target.database_url)
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


#: the table each id in the app's addresses names (a path parameter's name -> table)
ID_TABLES = {
    "person_id": "persons", "case_id": "cases", "goal_id": "case_goals", "user_id": "users", "batch_id": "import_batches",
    "grant_id": "grants", "month_id": "grant_month_figures", "repair_id": "housing_repairs", "quote_id": "housing_quotes",
    "payment_id": "housing_payments", "record_id": "release_support_records", "course_id": "training_courses",
    "cohort_id": "training_cohorts", "session_id": "training_sessions", "enrolment_id": "training_enrolments",
    "certificate_id": "training_certificates", "book_id": "ledger_books", "account_id": "ledger_accounts",
    "txn_id": "ledger_transactions", "fund_id": "ledger_funds", "line_id": "ledger_budget_lines",
}


@pytest.fixture(scope="module")
def real_ids(fuzz_session: Session) -> dict[str, list[int]]:
    """``{path parameter: ids of existing rows}``: the first rows of each table (most of the
    fuzzed organisation's, some of the other one's, which must answer 404)."""
    found = {name: list(fuzz_session.scalars(text(f"SELECT id FROM {table} ORDER BY id LIMIT 25"))) for name, table in ID_TABLES.items()}
    return {name: ids for name, ids in found.items() if ids}


def half_written(session: Session, target: FuzzTarget) -> list[str]:
    """What a request left half-written, one line per problem (empty: every record is whole):
    a ledger transaction without postings or not balanced per currency, a book whose hash chain
    does not verify, a case without its person, an event without its case."""
    session.rollback()
    session.expire_all()
    problems: list[str] = []
    empty = session.scalars(
        select(JournalTransaction.id).where(~select(Posting.id).where(Posting.transaction_id == JournalTransaction.id).exists())
    ).all()
    problems += [f"ledger transaction {t} has no postings" for t in empty]
    unbalanced = session.execute(
        select(Posting.transaction_id, Posting.weight_currency, func.sum(Posting.weight_minor))
        .group_by(Posting.transaction_id, Posting.weight_currency)
        .having(func.sum(Posting.weight_minor) != 0)
    ).all()
    problems += [f"ledger transaction {t} does not balance in {c} (off by {s})" for t, c, s in unbalanced]
    report, ok = verify_records(target.database_url, target.registry)
    if not ok:
        problems += [line for line in report if "BROKEN" in line]
    orphans = session.scalars(select(Case.id).where(~select(Person.id).where(Person.id == Case.person_id).exists())).all()
    problems += [f"case {c} has no person" for c in orphans]
    lost = session.scalars(select(Event.id).where(~select(Case.id).where(Case.id == Event.case_id).exists())).all()
    problems += [f"event {e} has no case" for e in lost]
    return problems
