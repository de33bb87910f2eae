"""Access (docs/security.md "Access"): every route of the app, web and API, tried by every role of
organisation A, by an administrator of organisation B with A's ids, and by nobody signed in.

Nothing here lists routes or permissions by hand: the routes come from the app's route table (with
every installed module enabled), what a role holds from :func:`core.auth.role_permissions`, and
each route's own ``opt["permission"]``. A route added tomorrow, by core or a module, is walked
the same way; one whose path names an id this file cannot fill fails the walk until a record of
it is added to :func:`_a_records` (or, with a reason, to :data:`NOT_RECORDS`).

One app on one copy of the demo database for the whole file (the demo has records of every
module); each staff member signs in once.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from pydantic import BaseModel
from sqlalchemy import inspect, select, text, update
from sqlalchemy.orm import Session

from core.auth import PUBLIC, load_current_user, role_permissions
from core.context import Context
from core.db import make_engine, make_session_factory
from core.demo import DEMO_PASSWORD
from core.models import CaseGoal, Consent, ImportBatch, Membership, Organisation, Person, Role, User
from core.plugins import get_plugin_manager
from core.schemas import CaseIn, PersonIn
from core.services import cases, persons
from core.services.admin import set_module_for_org
from core.services.attachments import save_attachment
from core.settings import get_settings
from core.web.app import create_app
from tests.conftest import login, post_form
from tests.core.test_security import PARAM, UNSAFE, handlers, is_litestar_options, leaks

A, B = "fresh-start", "beyond-bars"
MARK = "Secret-of-A"
"""Every person of organisation A is renamed to start with this, so a leak of any of them shows."""
SENSITIVE_TEXT = ("Secret medical note", "Secret offence")

NOT_RECORDS = {
    "module": "a module's name, not a record of an organisation (filled with one A enables)",
    "feed": "a calendar feed's private token on a public route (tests/core/test_follow_up.py)",
    "file_path": "static files: public, no organisation's data",
    "path": "the OpenAPI pages: public, no organisation's data",
}
"""Path parameters that name no record of an organisation, and why."""

SIGNS_OUT = ("/logout", "/account/sign-out-everywhere", "/account/sign-out-others")
"""Routes that end the caller's sessions: walked last, so the rest of the walk stays signed in."""

MINIMAL_FORM = {"enabled": "1"}
"""What each unsafe web request posts besides the CSRF token: nothing a form needs (so a route
whose permission the caller holds answers with its field-level refusal), and ``enabled=1`` so
``/admin/modules/{module}`` switches nothing off."""


def a_leaks(body: str) -> list[str]:
    """A's secrets found in a response to someone of organisation B."""
    return leaks(body) + [s for s in (MARK, *SENSITIVE_TEXT) if s in body]


# --- one database and one app for the file ---------------------------------------------------------


def _org_id(db: Session, slug: str) -> int:
    return db.scalar(select(Organisation.id).where(Organisation.slug == slug))  # type: ignore[return-value]


def _first(db: Session, sql: str, **params: object) -> tuple | None:
    row = db.execute(text(sql), params).first()
    return tuple(row) if row is not None else None


def _a_records(db: Session, registry, a: int, admin_id: int) -> tuple[dict[str, object], dict[str, dict[str, object]]]:
    """A's ids for every path parameter: ``(ids by parameter name, ids by path prefix)`` (the
    second for a name two modules use for different records, such as ``payment_id``).

    Core's records are new ones holding the secrets of tests/core/test_security.py and the
    sensitive fields; the modules' come from the demo (the first of each in A)."""
    user = load_current_user(db, admin_id, a, role_permissions(registry))
    assert user is not None
    ctx = Context(db, user, registry)
    person = persons.create_person(ctx, PersonIn(name="Secret Sokha", name_km="សុខា សម្ងាត់", medical_notes="Secret medical note"))
    case = cases.create_case(ctx, CaseIn(person_id=person.id, prison="Secret Prison", offence="Secret offence"))
    goal = CaseGoal(org_id=a, case_id=case.id, area="work", description="Secret goal")
    spare = User(email="spare@fresh-start.demo", name="Spare Staff", password_hash="x")
    db.add_all([goal, spare])
    db.flush()
    db.add(Membership(user_id=spare.id, org_id=a, role=Role.viewer))
    batch = ImportBatch(org_id=a, kind="persons", filename="secret.csv", sha256="0" * 64, content=b"name\nSecret Sokha\n")
    db.add(batch)
    photo = save_attachment(db, a, filename="secret.pdf", content=b"%PDF-1.4\nSecret Sokha\n%%EOF\n", plugin="core")
    db.flush()
    consent = Consent(org_id=a, person_id=person.id, purpose="records", method="signed", given_on=date(2025, 1, 2),
                      note="Secret consent", recorded_by_id=admin_id)
    db.add(consent)
    db.flush()
    ids: dict[str, object] = {
        "person_id": person.id, "case_id": case.id, "goal_id": goal.id, "user_id": spare.id, "batch_id": batch.id,
        "key": photo.key, "module": "training",
        "consent_id": consent.id,
    }
    # First records of the modules where a path names two that must belong together (a grant and
    # its month) or the table is not named after the parameter; the rest by :func:`_by_convention`.
    queries = {
        ("grant_id", "month_id"): "SELECT grant_id, id FROM grant_month_figures WHERE org_id = :a ORDER BY id",
        ("cohort_id", "session_id", "enrolment_id"): (
            "SELECT s.cohort_id, s.id, e.id FROM training_sessions s JOIN training_enrolments e ON e.cohort_id = s.cohort_id"
            " WHERE s.org_id = :a ORDER BY s.id, e.id"
        ),
        ("book_id",): "SELECT id FROM ledger_books WHERE org_id = :a ORDER BY id",
        ("account_id",): "SELECT ac.id FROM ledger_accounts ac JOIN ledger_books b ON b.id = ac.book_id WHERE b.org_id = :a ORDER BY ac.id",
        ("txn_id",): "SELECT t.id FROM ledger_transactions t JOIN ledger_books b ON b.id = t.book_id WHERE b.org_id = :a ORDER BY t.id",
        ("fund_id",): "SELECT id FROM ledger_funds WHERE org_id = :a ORDER BY id",
        ("line_id",): "SELECT id FROM ledger_budget_lines WHERE org_id = :a ORDER BY id",
    }
    for names, sql in queries.items():
        try:
            row = _first(db, sql, a=a)
        except Exception:  # noqa: BLE001 - a module that is not installed has no table; its routes are absent too
            db.rollback()
            row = None
        if row is not None:
            ids.update(zip(names, row))
    by_prefix: dict[str, dict[str, object]] = {}
    if "schooling" in registry.modules:
        by_prefix["/schooling/"] = {"payment_id": _schooling_payment(db, a, case.id, person.id)}
    return ids, by_prefix


def _schooling_payment(db: Session, a: int, case_id: int, person_id: int) -> int:
    """A school-fee payment of A (the example module loads no demo data): the rows its routes read."""
    child = Person(org_id=a, name=f"{MARK} Child")
    db.add(child)
    db.flush()
    db.execute(
        text("INSERT INTO schooling_enrolments (org_id, case_id, child_id, school, grade, school_year, fee_period, fee_minor, currency, enrolled_on, created_at)"
             " VALUES (:a, :case, :child, 'Secret School', '3', '2025-2026', 'month', 500, 'USD', :day, :day)"),
        {"a": a, "case": case_id, "child": child.id, "day": date(2025, 9, 1)},
    )
    enrolment = db.scalar(text("SELECT max(id) FROM schooling_enrolments"))
    db.execute(
        text("INSERT INTO schooling_fee_payments (org_id, case_id, enrolment_id, amount_minor, currency, paid_on, covers, reference, account, reverse_reason, created_at)"
             " VALUES (:a, :case, :enrolment, 500, 'USD', :day, 'Secret month', '', 'Assets:Cash:USD', '', :day)"),
        {"a": a, "case": case_id, "enrolment": enrolment, "day": date(2025, 9, 2)},
    )
    return db.scalar(text("SELECT max(id) FROM schooling_fee_payments"))  # type: ignore[return-value]


@dataclass
class Walk:
    app: Litestar
    a: int
    ids: dict[str, object]
    by_prefix: dict[str, dict[str, object]]
    emails: dict[tuple[str, Role], str]

    def fill(self, path: str) -> tuple[str | None, list[str]]:
        """``path`` with A's ids, or ``(None, the parameters no record of A fills)``."""
        ids = dict(self.ids)
        for prefix, extra in self.by_prefix.items():
            if path.startswith(prefix):
                ids.update(extra)
        missing = [name for name, _kind in PARAM.findall(path) if name not in ids]
        if missing:
            return None, missing
        return PARAM.sub(lambda m: str(ids[m.group(1)]), path), []


@pytest.fixture(scope="module")
def walk(demo_db: str, demo_logins: list[tuple[str, str, str]]) -> Iterator[Walk]:
    registry = get_plugin_manager()
    engine = make_engine(demo_db)
    with make_session_factory(engine)() as db:
        a, b = _org_id(db, A), _org_id(db, B)
        for module in registry.modules:  # B enables everything too: its 404s must come from isolation, not a switched-off module
            set_module_for_org(db, b, module, True)
            set_module_for_org(db, a, module, True)
        emails: dict[tuple[str, Role], str] = {}
        for slug, role, email in demo_logins:
            emails.setdefault((slug, Role(role)), email)
        admin_id = db.scalar(select(User.id).where(User.email == emails[(A, Role.admin)]))
        ids, by_prefix = _a_records(db, registry, a, admin_id)  # type: ignore[arg-type]
        db.execute(update(Person).where(Person.org_id == a).values(name=MARK + " " + Person.name))
        db.commit()
    app = create_app(get_settings(demo_db, secret_key="test-secret"), registry)
    walk = Walk(app, a, ids, by_prefix, emails)
    with make_session_factory(engine)() as db:
        _by_convention(db, walk)
    engine.dispose()
    yield walk
    app.state.engine.dispose()


def _by_convention(db: Session, walk: Walk) -> None:
    """Fill what is still unknown the way modules name things: ``{quote_id}`` under ``/housing/``
    is the first row of A in ``housing_quotes``. A module that follows the convention is walked
    without this file knowing it; one that does not, or has no record in A, shows as unfilled."""
    tables = set(inspect(db.get_bind()).get_table_names())
    for path, _method, _handler in handlers(walk.app):
        segment = path.strip("/").split("/")[0]
        for name in walk.fill(path)[1]:
            table = f"{segment.replace('-', '_')}_{name.removesuffix('_id')}s"
            if name.endswith("_id") and table in tables:
                found = db.scalar(text(f"SELECT min(id) FROM {table} WHERE org_id = :a"), {"a": walk.a})
                if found is not None:
                    walk.by_prefix.setdefault(f"/{segment}/", {})[name] = found


def _web(app: Litestar, email: str) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)
    login(client, email, DEMO_PASSWORD)
    return client


def _api(app: Litestar, email: str, slug: str) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)
    response = client.post("/api/tokens", json={"email": email, "password": DEMO_PASSWORD, "organisation": slug})
    assert response.status_code == 201, response.text
    client.headers["Authorization"] = f"Bearer {response.json()['token']}"
    return client


# --- the walk ----------------------------------------------------------------------------------------


def _plain(annotation: object) -> object:
    """``X`` of ``X | None`` and of ``Annotated[X, ...]``."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and args:
        return _plain(args[0])
    return annotation


def _example(annotation: object) -> object:
    """A plausible JSON value of a type, so a body passes validation and the route's own lookup
    of the record decides the answer (not the body's shape, checked before the handler runs)."""
    kind = _plain(annotation)
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return {name: _example(field.annotation) for name, field in kind.model_fields.items() if field.is_required()}
    if typing.get_origin(kind) is typing.Literal:
        return typing.get_args(kind)[0]
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return next(iter(kind)).value
    if kind is date:
        return "2024-01-02"
    if kind in (int, Decimal, float):
        return 1
    if typing.get_origin(kind) is list or kind is list:
        return []
    if typing.get_origin(kind) is dict or kind is dict:
        return {}
    return "x"


def _json_body(handler: object) -> object:
    """An example body for an API route that takes one (``{}`` when it takes none)."""
    data = handler.parsed_fn_signature.parameters.get("data")  # type: ignore[attr-defined]
    return _example(data.annotation) if data is not None else {}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    permission: str
    url: str
    body: object = None

    @property
    def api(self) -> bool:
        return self.path.startswith("/api/")


def _routes(walk: Walk) -> tuple[list[Route], list[str]]:
    """Every route to walk, in the order to walk it (reads, then API writes, then form posts,
    sign-outs last), and the ones whose parameters nothing fills."""
    found, unfilled = [], []
    for path, method, handler in handlers(walk.app):
        if method == "HEAD" or is_litestar_options(method, handler):
            continue
        permission = handler.opt.get("permission")
        assert permission is not None, f"{method} {path} declares no permission"  # test_security's walk says which
        url, missing = walk.fill(path)
        missing = [name for name in missing if name not in NOT_RECORDS]
        if missing:
            unfilled.append(f"{method} {path}: {', '.join(missing)}")
            continue
        if url is None:
            continue  # a public route whose parameter is no record (NOT_RECORDS)
        body = _json_body(handler) if path.startswith("/api/") and method in UNSAFE else None
        found.append(Route(method, path, permission, url, body))
    found.sort(key=lambda r: (r.method in UNSAFE, r.method in UNSAFE and not r.api, r.path in SIGNS_OUT))
    return found, unfilled


def _call(client: TestClient, route: Route) -> object:
    if route.method not in UNSAFE:
        return client.get(route.url, follow_redirects=False)
    if route.api:
        return client.request(route.method, route.url, json=route.body, follow_redirects=False)
    return post_form(client, route.url, MINIMAL_FORM)


def _signed_out(response: object) -> bool:
    return response.status_code in (302, 303, 401) and response.headers.get("location", "/login").startswith("/login")  # type: ignore[attr-defined]


def test_every_route_with_an_id_can_be_filled_with_a_record_of_organisation_a(walk):
    """No route escapes the walk because no record of its kind exists: add one to _a_records."""
    _routes_found, unfilled = _routes(walk)
    assert unfilled == []


@pytest.mark.parametrize("role", list(Role))
def test_each_role_of_a_is_refused_exactly_where_it_lacks_the_routes_permission(walk, role):
    held = role_permissions(walk.app.state.registry)[role]
    web, api = _web(walk.app, walk.emails[(A, role)]), _api(walk.app, walk.emails[(A, role)], A)
    wrong = []
    routes, _unfilled = _routes(walk)
    for route in routes:
        response = _call(api if route.api else web, route)
        status = response.status_code  # type: ignore[attr-defined]
        allowed = route.permission == PUBLIC or route.permission in held
        if status >= 500:
            wrong.append(f"{route.method} {route.url}: {status}")
        elif not allowed and status not in (403, 404):
            wrong.append(f"{route.method} {route.url}: {status}, but {role.value} lacks {route.permission}")
        elif allowed and status == 403:
            wrong.append(f"{route.method} {route.url}: 403, but {role.value} holds {route.permission}")
        elif _signed_out(response) and route.permission != PUBLIC and route.path not in SIGNS_OUT:
            wrong.append(f"{route.method} {route.url}: sent to sign in; the walk lost its session")
    assert len(routes) > 100 and wrong == []


def test_a_user_of_organisation_b_never_reaches_organisation_as_records(walk):
    """B's administrator holds every permission; with A's ids every route answers 404 (a staff
    route may say "not on the staff", 422), and no answer holds anything of A's."""
    email = walk.emails[(B, Role.admin)]
    web, api = _web(walk.app, email), _api(walk.app, email, B)
    wrong = []
    routes, _unfilled = _routes(walk)
    for route in routes:
        response = _call(api if route.api else web, route)
        status, body = response.status_code, response.text  # type: ignore[attr-defined]
        names = [name for name, _kind in PARAM.findall(route.path) if name not in NOT_RECORDS]
        if status >= 500:
            wrong.append(f"{route.method} {route.url}: {status}")
        elif names and route.permission != PUBLIC and status not in ({404, 422} if names == ["user_id"] else {404}):
            wrong.append(f"{route.method} {route.url}: {status}, expected 404")
        elif _signed_out(response) and route.permission != PUBLIC and route.path not in SIGNS_OUT:
            wrong.append(f"{route.method} {route.url}: sent to sign in; the walk lost its session")
        found = a_leaks(body)
        if found:
            wrong.append(f"{route.method} {route.url}: shows {found}")
    assert len(routes) > 100 and wrong == []


def test_nobody_signed_in_is_sent_to_sign_in_on_every_route_but_the_public_ones(walk):
    client = TestClient(walk.app, raise_server_exceptions=False)
    client.get("/login")  # the CSRF cookie, as a browser has it
    wrong = []
    routes, _unfilled = _routes(walk)
    for route in routes:
        if route.permission == PUBLIC:
            continue
        response = _call(client, route)
        status = response.status_code  # type: ignore[attr-defined]
        location = response.headers.get("location", "")  # type: ignore[attr-defined]
        ok = status == 401 if route.api else (status == 401 or (status in (302, 303) and location.startswith("/login")))
        if not ok:
            wrong.append(f"{route.method} {route.url}: {status} {location}")
        found = a_leaks(response.text)  # type: ignore[attr-defined]
        if found:
            wrong.append(f"{route.method} {route.url}: shows {found}")
    assert wrong == []
