"""Fixtures: a fresh plugin manager, a migrated database per test (SQLite and PostgreSQL), two
organisations with staff of every role, and signed-in clients.

PostgreSQL and Chromium tests skip with a reason when those are not installed, unless
``HOMECOMING_TEST_STRICT=1`` (set by ``.ci/run``), where a missing one fails the run instead.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from core.auth import load_current_user, role_permissions
from core.context import Context
from core.db import make_engine, make_session_factory
from core.migrate import upgrade
from core.models import Membership, Role, User
from core.plugins import PluginRegistry, get_plugin_manager
from core.services.admin import create_organisation
from core.settings import get_settings
from core.web.app import create_app
from tests.support import postgres

STRICT = os.environ.get("HOMECOMING_TEST_STRICT") == "1"
PASSWORD = "correct horse battery"


def unavailable(reason: str) -> None:
    """Skip, or fail when the run is strict (CI installs everything)."""
    if STRICT:
        pytest.fail(f"{reason} (HOMECOMING_TEST_STRICT=1: CI must not skip this)")
    pytest.skip(reason)


# --- plugin manager and database -----------------------------------------------------------------


@pytest.fixture
def registry() -> PluginRegistry:
    """A fresh plugin manager with every installed module."""
    return get_plugin_manager()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}", get_plugin_manager())
    return path


#: the day the shared demo database is built around (a fixed day, so its figures are stable)
DEMO_TODAY = date(2026, 5, 14)


@pytest.fixture(scope="session")
def _demo_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[str, str, str]]]:
    """``homecoming demo`` loaded once per run: the file, and every ``(organisation, role, email)``."""
    from core.demo import load_demo

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    registry = get_plugin_manager()
    upgrade(f"sqlite:///{path}", registry)
    engine = make_engine(f"sqlite:///{path}")
    try:
        with make_session_factory(engine)() as session:
            logins = load_demo(session, registry, today=DEMO_TODAY)
    finally:
        engine.dispose()
    return path, logins


@pytest.fixture(scope="module")
def demo_db(_demo_template: tuple[Path, list[tuple[str, str, str]]], tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo database (both demo organisations, every module), a copy of its own for each test
    module: what one module's tests write, another's never sees."""
    path = tmp_path_factory.mktemp("demo-copy") / "demo.db"
    shutil.copy(_demo_template[0], path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def demo_logins(_demo_template: tuple[Path, list[tuple[str, str, str]]]) -> list[tuple[str, str, str]]:
    """``(organisation slug, role, email)`` of every demo login."""
    return _demo_template[1]


@pytest.fixture(scope="session")
def _postgres() -> Iterator[postgres.PostgresServer | None]:
    server = postgres.start_server()
    if server is not None:
        upgrade(_create_template(server), get_plugin_manager())
    yield server
    if server is not None:
        server.stop()


def _create_template(server: postgres.PostgresServer) -> str:
    engine = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("CREATE DATABASE homecoming_template"))
    engine.dispose()
    return server.url("homecoming_template")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database for one test, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server = request.getfixturevalue("_postgres")
    if server is None:
        unavailable("PostgreSQL is not installed (apt-get install postgresql)")
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE homecoming_template'))
    yield server.url(name)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def session_factory(database_url: str):  # noqa: ANN201 - sessionmaker
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def db(session_factory) -> Iterator[Session]:  # noqa: ANN001
    with session_factory() as session:
        yield session


# --- organisations and staff ---------------------------------------------------------------------


@dataclass
class World:
    """Two organisations: ``a`` enables every installed module, ``b`` only ``training``."""

    org_ids: dict[str, int] = field(default_factory=dict)
    users: dict[tuple[str, Role], int] = field(default_factory=dict)

    def email(self, org: str, role: Role) -> str:
        return f"{role.value}@{org}.test"


@pytest.fixture(scope="session")
def _password_hash() -> str:
    """The staff's password, hashed once per run with cheap argon2 parameters: verifying reads the
    parameters from the hash, so a test's sign-in costs a millisecond, not a tenth of a second.
    (``hash_password`` itself, with argon2-cffi's defaults, is tested in tests/core/test_security.py.)"""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)


@pytest.fixture
def world(db: Session, registry: PluginRegistry, _password_hash: str) -> World:
    w = World()
    for key, modules in (("a", sorted(registry.modules)), ("b", ["training"])):
        org = create_organisation(db, f"org-{key}", f"Organisation {key.upper()}", modules)
        w.org_ids[key] = org.id
        for role in Role:
            user = User(email=w.email(key, role), name=f"{role.value.replace('_', ' ').title()} {key.upper()}", password_hash=_password_hash)
            db.add(user)
            db.flush()
            db.add(Membership(user_id=user.id, org_id=org.id, role=role))
            w.users[(key, role)] = user.id
    db.commit()
    return w


@pytest.fixture
def ctx_for(db: Session, registry: PluginRegistry, world: World) -> Callable[..., Context]:
    """``ctx_for(Role.case_manager, "a")``: a service context for that staff member."""
    perms = role_permissions(registry)

    def make(role: Role = Role.case_manager, org: str = "a") -> Context:
        user = load_current_user(db, world.users[(org, role)], world.org_ids[org], perms)
        assert user is not None
        return Context(db, user, registry)

    return make


# --- web -------------------------------------------------------------------------------------------


@pytest.fixture
def app(database_url: str, registry: PluginRegistry) -> Iterator[Litestar]:
    """The app on the test's database. Clients of it do not run its lifespan: Litestar keeps one
    event emitter per app, and two clients' lifespans (each on its own event loop) hang at
    shutdown. The only shutdown work, disposing of the engine, is done here."""
    app = create_app(get_settings(database_url, secret_key="test-secret"), registry)
    yield app
    app.state.engine.dispose()


def login(client: TestClient, email: str, password: str = PASSWORD) -> None:
    client.get("/login")
    response = client.post(
        "/login",
        data={"email": email, "password": password, "_csrf_token": client.cookies.get("hc_csrf", ""), "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


@pytest.fixture
def client_for(app: Litestar, world: World) -> Callable[..., TestClient]:
    """``client_for(Role.admin, "b")``: a browser-like client signed in as that staff member.

    Its ``post_form(url, data)`` adds the CSRF token the way the pages' forms do.
    """

    def make(role: Role = Role.case_manager, org: str = "a") -> TestClient:
        client = TestClient(app, raise_server_exceptions=False)
        login(client, world.email(org, role))
        return client

    return make


def post_form(client: TestClient, url: str, data: dict[str, object] | None = None, **kwargs: object):  # noqa: ANN201
    """POST a form as the browser does, with the CSRF token; redirects are not followed."""
    form = {k: "" if v is None else str(v) for k, v in (data or {}).items()}
    form["_csrf_token"] = client.cookies.get("hc_csrf", "")
    return client.post(url, data=form, follow_redirects=False, **kwargs)


@pytest.fixture
def api_for(app: Litestar, world: World) -> Callable[..., TestClient]:
    """``api_for(Role.case_manager, "a")``: a client with a bearer token for the JSON API."""

    def make(role: Role = Role.case_manager, org: str = "a") -> TestClient:
        client = TestClient(app, raise_server_exceptions=False)
        response = client.post("/api/tokens", json={"email": world.email(org, role), "password": PASSWORD, "organisation": f"org-{org}"})
        assert response.status_code == 201, response.text
        client.headers["Authorization"] = f"Bearer {response.json()['token']}"
        return client

    return make
