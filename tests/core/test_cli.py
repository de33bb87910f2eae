"""The ``homecoming`` command line, run with click's CliRunner on temporary SQLite files."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import inspect, select

from core.auth import authenticate
from core.cli import main
from core.db import make_engine, make_session_factory
from core.models import Membership, Organisation, Person, Role, User

BUILT_IN = ("family_visits", "grants", "housing", "release_support", "training")


def run(url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--database-url", url, *args])


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database the demo was loaded into once (the tests using it only read it)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    result = run(url, "demo")
    assert result.exit_code == 0, result.output
    return url


@pytest.fixture
def empty_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'homecoming.db'}"


def test_init_creates_the_schema_and_can_run_again(empty_url):
    result = run(empty_url, "init")
    assert result.exit_code == 0, result.output
    assert "database ready" in result.output
    assert {"organisations", "users", "memberships", "persons", "person_links", "cases", "case_goals", "events", "web_sessions", "api_tokens", "alembic_version"} <= _tables(empty_url)
    assert run(empty_url, "init").exit_code == 0  # upgrading an up-to-date database changes nothing


def test_demo_loads_two_organisations_with_staff_and_participants(demo_url):
    engine = make_engine(demo_url)
    with make_session_factory(engine)() as session:
        slugs = set(session.scalars(select(Organisation.slug)))
        assert len(slugs) == 2
        assert session.query(Person).count() > 100
        admin = session.scalar(select(User).join(Membership, Membership.user_id == User.id).where(Membership.role == Role.admin).limit(1))
        assert authenticate(session, admin.email, "homecoming-demo") is not None
    engine.dispose()


def test_demo_output_names_a_login_for_every_role(empty_url):
    result = run(empty_url, "demo")
    assert result.exit_code == 0, result.output
    assert "Demo logins (password for all: homecoming-demo)" in result.output
    for role in Role:
        assert f" {role.value} " in result.output
    assert "admin@" in result.output


def test_demo_refuses_a_database_that_holds_data(demo_url):
    result = run(demo_url, "demo")
    assert result.exit_code == 1
    assert "already holds data" in result.stderr
    quiet = run(demo_url, "demo", "--if-empty")
    assert quiet.exit_code == 0 and "already holds data" in quiet.output


def test_plugins_lists_the_built_in_modules_and_who_enables_them(demo_url, empty_url):
    result = run(demo_url, "plugins")
    assert result.exit_code == 0, result.output
    enabled: dict[str, str] = {}
    current = ""
    for line in result.output.splitlines():
        if line and not line.startswith(" "):
            current = line.split()[0]
        elif "enabled for:" in line:
            enabled[current] = line.split("enabled for:", 1)[1].strip()
    assert set(BUILT_IN) <= set(enabled)
    assert enabled["training"] == "beyond-bars, fresh-start"
    assert enabled["family_visits"] == "beyond-bars, fresh-start"
    assert enabled["grants"] == "fresh-start"
    assert enabled["housing"] == "fresh-start"
    assert enabled["release_support"] == "fresh-start"  # beyond-bars lists its modules without it

    bare = run(empty_url, "plugins")  # before `init`: the modules, enabled nowhere
    assert bare.exit_code == 0
    assert all(f"{name} " in bare.output for name in BUILT_IN)
    assert "no organisation" in bare.output


def test_plugins_shows_each_modules_version_and_hooks(empty_url):
    lines = run(empty_url, "plugins").output.splitlines()
    assert lines[0].startswith("hooks ")  # the version of the hook API
    versions: dict[str, str] = {}
    hooks: dict[str, list[str]] = {}
    for line in lines[1:]:
        if line and not line.startswith(" "):
            current, versions[current] = line.split(":", 1)[0].split(" ", 1)[0], line.split(":", 1)[0].split(" ", 1)[1]
        elif line.startswith("  hooks: "):
            hooks[current] = line.removeprefix("  hooks: ").split(", ")
    for name in BUILT_IN:
        assert versions[name] and versions[name] != "?", versions
        assert "register_module" in hooks[name], hooks[name]
    assert {"register_case_tabs", "register_report_indicators"} <= set(hooks["training"])


def test_user_create_adds_a_login_with_a_role(empty_url):
    assert run(empty_url, "init").exit_code == 0
    assert run(empty_url, "org", "create", "--slug", "fresh-start", "--name", "Fresh Start", "--module", "training").exit_code == 0
    result = run(empty_url, "user", "create", "--email", "Dara@Example.org", "--name", "Dara", "--org", "fresh-start", "--role", "case_manager", "--password", "a long password")
    assert result.exit_code == 0, result.output
    assert "created dara@example.org as case_manager in fresh-start" in result.output

    engine = make_engine(empty_url)
    with make_session_factory(engine)() as session:
        user = authenticate(session, "dara@example.org", "a long password")
        assert user is not None and user.password_hash.startswith("$argon2id$")
        assert [(m.organisation.slug, m.role) for m in user.memberships] == [("fresh-start", Role.case_manager)]
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "dara@example.org", "--org", "fresh-start", "--role", "viewer", "--password", "short"], "password"),
        (["--email", "not-an-email", "--org", "fresh-start", "--role", "viewer", "--password", "a long password"], "email"),
        (["--email", "dara@example.org", "--org", "nowhere", "--role", "viewer", "--password", "a long password"], "no organisation 'nowhere'"),
        (["--email", "dara@example.org", "--org", "fresh-start", "--role", "king", "--password", "a long password"], "king"),
    ],
)
def test_user_create_refuses_bad_input_with_a_clear_message(empty_url, args, message):
    assert run(empty_url, "init").exit_code == 0
    assert run(empty_url, "org", "create", "--slug", "fresh-start", "--name", "Fresh Start").exit_code == 0
    result = run(empty_url, "user", "create", "--name", "Dara", *args)
    assert result.exit_code != 0
    assert message in result.output
    engine = make_engine(empty_url)
    with make_session_factory(engine)() as session:
        assert session.scalar(select(User.id)) is None
    engine.dispose()
