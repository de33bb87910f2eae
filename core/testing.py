"""Pytest fixtures for testing a Homecoming module: installed with Homecoming as a pytest plugin.

Every project that has Homecoming installed gets these fixtures (entry point ``pytest11``,
``homecoming = "core.testing"``); ``pytest --fixtures`` lists them. They are prefixed ``hc_`` so
that they never clash with a project's own fixtures.

A module's ``tests/conftest.py`` chooses the modules its test organisation enables::

    import pytest

    @pytest.fixture
    def hc_modules() -> list[str]:
        return ["schooling"]

and its tests ask for what they need::

    from datetime import date
    
    from core.models import Role

    def test_the_overview_shows_the_case(hc_client, hc_case) -> None:
        case = hc_case("Sok Dara", released_days_ago=30)
        assert hc_client(Role.case_manager).get("/schooling").status_code == 200

    def test_a_fee_posts_balanced(hc_ledger) -> None:
        hc_ledger.post(date(2026, 3, 1), "School fee", [
            ("Expenses:Schooling:Fees", Decimal("25.00"), "USD"),
            ("Assets:Bank:USD", Decimal("-25.00"), "USD"),
        ])
        assert hc_ledger.balance("Expenses:Schooling:Fees") == Decimal("25.00")
        assert hc_ledger.check() == []

The database is migrated with core and every installed module's branch, on SQLite (a copy of a
template migrated once per run). ``pytest --hc-postgresql`` runs each test on PostgreSQL as well,
on a throw-away server started once per run (``initdb`` must be installed; the tests skip
otherwise, or fail when ``HOMECOMING_TEST_STRICT=1``).

Staff sign in with the password :data:`PASSWORD`; their emails are ``<role>@<org slug>.test``.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from httpx import Response
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from core.auth import load_current_user, role_permissions
from core.context import Context
from core.db import make_engine, make_session_factory
from core.migrate import upgrade
from core.models import Case, CaseStatus, Consent, Membership, Organisation, Person, Role, User
from core.plugins import PluginRegistry, get_plugin_manager
from core.schemas import CaseIn, PersonIn, PersonLinkIn, StatusChangeIn
from core.services import cases, consent, persons
from core.services.admin import create_organisation
from core.settings import get_settings
from core.testing_postgres import PostgresServer, start_server
from core.web.app import create_app

#: the password of every staff member the fixtures create
PASSWORD = "correct horse battery"
#: slugs of the organisations of ``hc_org`` and ``hc_other_org``
ORG_SLUG = "test-org"
OTHER_ORG_SLUG = "other-org"

_STRICT_ENV = "HOMECOMING_TEST_STRICT"
_TEMPLATE_DB = "hc_template"


def staff_email(role: Role, org_slug: str = ORG_SLUG) -> str:
    """The email of the fixtures' staff member with ``role`` in the organisation ``org_slug``."""
    return f"{role.value}@{org_slug}.test"


# --- pytest hooks ----------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("homecoming", "Homecoming module testing")
    group.addoption(
        "--hc-postgresql",
        action="store_true",
        default=False,
        help="run every test using hc_database_url on SQLite and on a throw-away PostgreSQL server",
    )


def pytest_configure(config: pytest.Config) -> None:
    if not any(line.split(":")[0].strip() == "postgres" for line in config.getini("markers")):
        config.addinivalue_line("markers", "postgres: needs a PostgreSQL server (started by the test run)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "hc_database_url" in metafunc.fixturenames and metafunc.config.getoption("hc_postgresql"):
        metafunc.parametrize(
            "hc_database_url",
            ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
            indirect=True,
        )


def _unavailable(reason: str) -> None:
    """Skip, or fail when ``HOMECOMING_TEST_STRICT=1`` (a CI that installs everything)."""
    if os.environ.get(_STRICT_ENV) == "1":
        pytest.fail(f"{reason} ({_STRICT_ENV}=1: CI must not skip this)")
    pytest.skip(reason)


# --- modules and database --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def hc_registry() -> PluginRegistry:
    """The plugin registry with every installed module loaded (one per run: treat it as read-only)."""
    return get_plugin_manager()


@pytest.fixture
def hc_modules(hc_registry: PluginRegistry) -> list[str]:
    """The modules ``hc_org`` and ``hc_other_org`` enable. Default: every installed module that is
    not always on (always-on modules, the ledger, are enabled whatever the list says). Override it
    in your conftest to test your module alone::

        @pytest.fixture
        def hc_modules():
            return ["schooling"]
    """
    return sorted(name for name in hc_registry.modules if name not in hc_registry.always_on)


@pytest.fixture(scope="session")
def _hc_sqlite_template(hc_registry: PluginRegistry, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per run, copied for each test."""
    path = tmp_path_factory.mktemp("hc-template") / "template.db"
    upgrade(f"sqlite:///{path}", hc_registry)
    return path


@pytest.fixture(scope="session")
def _hc_postgres(hc_registry: PluginRegistry) -> Iterator[PostgresServer | None]:
    """The throw-away PostgreSQL server of the run (``None`` when not installed), with a migrated
    template database each test's database is created from."""
    server = start_server()
    if server is None:
        yield None
        return
    try:
        admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{_TEMPLATE_DB}"'))
        admin.dispose()
        upgrade(server.url(_TEMPLATE_DB), hc_registry)
        yield server
    finally:
        server.stop()


@pytest.fixture
def hc_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a migrated, empty database for this test alone: core plus every installed
    module's migration branch. SQLite in ``tmp_path``; with ``--hc-postgresql`` the test also runs
    on PostgreSQL (test id ``[postgresql]``), a database of its own on a server started once per run.
    """
    kind = getattr(request, "param", "sqlite")
    if kind == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(request.getfixturevalue("_hc_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server = request.getfixturevalue("_hc_postgres")
    if server is None:
        _unavailable("PostgreSQL is not installed (initdb not found; apt-get install postgresql)")
    name = f"hc_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{_TEMPLATE_DB}"'))
        yield server.url(name)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture
def hc_session(hc_database_url: str) -> Iterator[Session]:
    """A SQLAlchemy session on ``hc_database_url``, closed after the test. The organisation
    fixtures write through it and commit; what a request of ``hc_client`` commits is seen here
    after ``hc_session.rollback()`` (or ``expire_all()``)."""
    engine = make_engine(hc_database_url)
    try:
        with make_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


# --- organisations and staff -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def _hc_password_hash() -> str:
    """:data:`PASSWORD`, hashed once per run."""
    # Cheap argon2 parameters: verifying reads them from the hash, so a sign-in costs a millisecond.
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)


def _create_org(session: Session, slug: str, name: str, modules: Iterable[str], password_hash: str) -> tuple[Organisation, dict[Role, User]]:
    org = create_organisation(session, slug, name, list(modules))
    staff: dict[Role, User] = {}
    for role in Role:
        user = User(email=staff_email(role, slug), name=f"{role.value.replace('_', ' ').title()} ({name})", password_hash=password_hash)
        session.add(user)
        session.flush()
        session.add(Membership(user_id=user.id, org_id=org.id, role=role))
        staff[role] = user
    session.commit()
    return org, staff


@pytest.fixture
def _hc_org_and_staff(hc_session: Session, hc_modules: list[str], _hc_password_hash: str) -> tuple[Organisation, dict[Role, User]]:
    """``hc_org`` and ``hc_staff``, created together."""
    return _create_org(hc_session, ORG_SLUG, "Test organisation", hc_modules, _hc_password_hash)


@pytest.fixture
def hc_org(_hc_org_and_staff: tuple[Organisation, dict[Role, User]]) -> Organisation:
    """The organisation "Test organisation" (slug ``test-org``), committed, with the modules of
    ``hc_modules`` enabled and one active staff member per :class:`~core.models.Role`
    (``hc_staff``; password :data:`core.testing.PASSWORD`)."""
    return _hc_org_and_staff[0]


@pytest.fixture
def hc_staff(_hc_org_and_staff: tuple[Organisation, dict[Role, User]]) -> dict[Role, User]:
    """``{role: user}``: the staff of ``hc_org``, one per role, email ``<role>@test-org.test``."""
    return _hc_org_and_staff[1]


@pytest.fixture
def _hc_other_org_and_staff(
    _hc_org_and_staff: tuple[Organisation, dict[Role, User]], hc_session: Session, hc_modules: list[str], _hc_password_hash: str
) -> tuple[Organisation, dict[Role, User]]:
    """``hc_other_org`` and ``hc_other_staff``, created together (after ``hc_org``)."""
    return _create_org(hc_session, OTHER_ORG_SLUG, "Other organisation", hc_modules, _hc_password_hash)


@pytest.fixture
def hc_other_org(_hc_other_org_and_staff: tuple[Organisation, dict[Role, User]]) -> Organisation:
    """A second organisation (slug ``other-org``) with the same modules and staff of its own, for
    isolation tests: what ``hc_org`` records, its staff must not see. Created only when asked for
    (by a test, or by ``org="other-org"`` / ``org=hc_other_org`` given to the helpers)."""
    return _hc_other_org_and_staff[0]


@pytest.fixture
def hc_other_staff(_hc_other_org_and_staff: tuple[Organisation, dict[Role, User]]) -> dict[Role, User]:
    """``{role: user}``: the staff of ``hc_other_org``, email ``<role>@other-org.test``."""
    return _hc_other_org_and_staff[1]


OrgRef = Organisation | str | None


class _Staff:
    """Finds the organisation and staff member the helpers' ``role`` and ``org`` arguments name."""

    def __init__(self, request: pytest.FixtureRequest, session: Session) -> None:
        self._request = request
        self._session = session

    def org(self, org: OrgRef) -> Organisation:
        if org is None or org == ORG_SLUG:
            return self._request.getfixturevalue("hc_org")
        if org == OTHER_ORG_SLUG:
            return self._request.getfixturevalue("hc_other_org")
        if isinstance(org, str):
            found = self._session.scalar(select(Organisation).where(Organisation.slug == org))
            if found is None:
                raise LookupError(f"no organisation with the slug {org!r}")
            return found
        return org

    def member(self, role: Role, org: OrgRef) -> tuple[Organisation, User]:
        organisation = self.org(org)
        user = self._session.scalar(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.org_id == organisation.id, Membership.role == role, User.is_active.is_(True))
            .order_by(User.id)
        )
        if user is None:
            raise LookupError(f"{organisation.slug} has no active staff member with the role {role.value}")
        return organisation, user


@pytest.fixture
def _hc_staff_finder(request: pytest.FixtureRequest, hc_session: Session) -> _Staff:
    """Resolves the helpers' ``role`` and ``org`` arguments to a staff member."""
    return _Staff(request, hc_session)


@pytest.fixture
def hc_ctx(hc_session: Session, hc_registry: PluginRegistry, _hc_staff_finder: _Staff) -> Callable[..., Context]:
    """``hc_ctx(role=Role.case_manager, org=None, today=None)``: the service context
    (:class:`core.context.Context` on ``hc_session``) a request of that staff member gets, with
    their role's permissions and the organisation's enabled modules.

    ``org``: ``None`` for ``hc_org``, an :class:`~core.models.Organisation`, or a slug
    (``"other-org"`` creates ``hc_other_org``). ``today``: the context's day (default: today).
    Services flush; commit with ``hc_session.commit()``.
    """
    perms = role_permissions(hc_registry)

    def make(role: Role = Role.case_manager, org: OrgRef = None, today: date | None = None) -> Context:
        organisation, user = _hc_staff_finder.member(role, org)
        current = load_current_user(hc_session, user.id, organisation.id, perms)
        assert current is not None, f"{user.email} cannot act in {organisation.slug}"
        return Context(hc_session, current, hc_registry, today)

    return make


@pytest.fixture
def hc_case(hc_session: Session, hc_ctx: Callable[..., Context]) -> Callable[..., Case]:
    """``hc_case(person_name="Sok Dara", released_days_ago=None, org=None, **case_fields)``: a
    committed case, and its person, recorded by the organisation's case manager through core's
    services (as the case form does). Status ``referred``; ``released`` that many days ago when
    ``released_days_ago`` is given. ``case_fields`` go to :class:`core.schemas.CaseIn`
    (``prison="CC1"``, ``case_manager_id=...``)."""

    def make(person_name: str = "Sok Dara", released_days_ago: int | None = None, org: OrgRef = None, **case_fields: Any) -> Case:
        ctx = hc_ctx(Role.case_manager, org)
        person = persons.create_person(ctx, PersonIn(name=person_name))
        case_fields.setdefault("case_manager_id", ctx.user.id)
        case = cases.create_case(ctx, CaseIn(person_id=person.id, **case_fields))
        if released_days_ago is not None:
            released = ctx.today - timedelta(days=released_days_ago)
            cases.change_status(ctx, case, StatusChangeIn(status=CaseStatus.released, actual_release=released))
        hc_session.commit()
        return case

    return make


@pytest.fixture
def hc_relative(hc_session: Session, hc_ctx: Callable[..., Context]) -> Callable[..., Person]:
    """``hc_relative(case_or_person, name="Sok Srey", relation="parent", org=None)``: a committed
    person linked to the case's person (or the person) as their ``relation`` (a
    :class:`core.models.Relation` value: ``parent``, ``spouse``, ``sibling``, ``child``,
    ``guardian``...), through core's services, as the family form does."""

    def make(of: Case | Person, name: str = "Sok Srey", relation: str = "parent", org: OrgRef = None) -> Person:
        ctx = hc_ctx(Role.case_manager, org)
        person = persons.get_person(ctx, of.person_id if isinstance(of, Case) else of.id)
        relative = persons.create_person(ctx, PersonIn(name=name))
        persons.link_family(ctx, person, PersonLinkIn(relative_id=relative.id, relation=relation))
        hc_session.commit()
        return relative

    return make


@pytest.fixture
def hc_consent(hc_session: Session, hc_ctx: Callable[..., Context]) -> Callable[..., Consent]:
    """``hc_consent(case_or_person, purpose="share_with_partners", given_days_ago=0,
    withdrawn_days_ago=None, org=None)``: the person's committed consent to ``purpose`` (a
    :class:`core.models.ConsentPurpose` value), signed, recorded by the case manager through core's
    services; withdrawn that many days ago when ``withdrawn_days_ago`` is given. What a module
    asks with ``has_consent`` before it shares or uses something."""

    def make(of: Case | Person, purpose: str = "share_with_partners", given_days_ago: int = 0,
             withdrawn_days_ago: int | None = None, org: OrgRef = None) -> Consent:
        ctx = hc_ctx(Role.case_manager, org)
        person = persons.get_person(ctx, of.person_id if isinstance(of, Case) else of.id)
        given = consent.record_consent(ctx, person, consent.ConsentIn(
            purpose=purpose, method="signed", given_on=ctx.today - timedelta(days=given_days_ago)))
        if withdrawn_days_ago is not None:
            consent.withdraw_consent(ctx, person, given, consent.WithdrawalIn(withdrawn_on=ctx.today - timedelta(days=withdrawn_days_ago)))
        hc_session.commit()
        return given

    return make


# --- web -------------------------------------------------------------------------------------------


@pytest.fixture
def hc_app(hc_database_url: str, hc_registry: PluginRegistry) -> Iterator[Litestar]:
    """The web app (:func:`core.web.app.create_app`) on ``hc_database_url`` with every installed
    module; what an organisation sees depends on the modules it enables. Clients do not run its
    lifespan; its engine is disposed of after the test."""
    app = create_app(get_settings(hc_database_url, secret_key="test-secret"), hc_registry)
    yield app
    app.state.engine.dispose()


class HcClient(TestClient):
    """A Litestar test client with :meth:`post_form`."""

    def post_form(self, url: str, data: dict[str, object] | None = None, **kwargs: Any) -> Response:
        """POST a form as the browser does, with the CSRF token; redirects are not followed
        (check for ``303`` and ``response.headers["location"]``). ``None`` values are sent empty."""
        form = {k: "" if v is None else str(v) for k, v in (data or {}).items()}
        form["_csrf_token"] = self.cookies.get("hc_csrf", "")
        return self.post(url, data=form, follow_redirects=False, **kwargs)


@pytest.fixture
def hc_client(hc_app: Litestar, _hc_staff_finder: _Staff) -> Callable[..., HcClient]:
    """``hc_client(role=Role.case_manager, org=None)``: a browser-like client signed in as that
    staff member of ``hc_org`` (or of ``org``: an Organisation or a slug). Server errors come back
    as 500 responses, not exceptions. ``client.post_form(url, data)`` posts a form with the CSRF
    token::

        response = hc_client(Role.admin).post_form("/schooling/enrolments", {"school": "Hope"})
        assert response.status_code == 303
    """
    def make(role: Role = Role.case_manager, org: OrgRef = None) -> HcClient:
        _, user = _hc_staff_finder.member(role, org)
        client = HcClient(hc_app, raise_server_exceptions=False)
        client.get("/login")
        response = client.post(
            "/login",
            data={"email": user.email, "password": PASSWORD, "_csrf_token": client.cookies.get("hc_csrf", ""), "next": "/"},
            follow_redirects=False,
        )
        assert response.status_code == 303, f"signing in as {user.email} failed: {response.status_code} {response.text[:500]}"
        return client

    return make


@pytest.fixture
def hc_api(hc_app: Litestar, _hc_staff_finder: _Staff) -> Callable[..., TestClient]:
    """``hc_api(role=Role.case_manager, org=None)``: a client for the JSON API under ``/api/``,
    carrying that staff member's bearer token (from ``POST /api/tokens``)."""
    def make(role: Role = Role.case_manager, org: OrgRef = None) -> TestClient:
        organisation, user = _hc_staff_finder.member(role, org)
        client = TestClient(hc_app, raise_server_exceptions=False)
        response = client.post("/api/tokens", json={"email": user.email, "password": PASSWORD, "organisation": organisation.slug})
        assert response.status_code == 201, f"no API token for {user.email}: {response.status_code} {response.text[:500]}"
        client.headers["Authorization"] = f"Bearer {response.json()['token']}"
        return client

    return make
