"""The security model (ARCHITECTURE section 7): a permission on every route, isolation between
organisations, CSRF, passwords, sessions, login throttling, security headers and roles."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import urlsplit

import litestar
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from core.auth import PUBLIC, SESSION_COOKIE, hash_password, role_permissions, verify_password
from core.models import Case, CaseGoal, Consent, Event, ImportBatch, Membership, OrganisationModule, Person, PersonLink, Role, User, WebSession
from core.schemas import PersonLinkIn
from core.services import persons
from core.services.attachments import save_attachment
from core.settings import get_settings
from core.web.app import create_app
from ledger.api import create_fund, credit, debit, general_book, open_account, post
from ledger.funds import set_budget_line
from tests.conftest import PASSWORD, login, post_form
from tests.core.conftest import count, fresh

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
PARAM = re.compile(r"\{(\w+):(\w+)\}")
SECRETS = ("Secret Sokha", "សុខា សម្ងាត់", "Secret Relative", "Secret Prison", "Secret goal", "Secret entry", "Secret-Fund")
"""What organisation "a"'s records hold, which nobody of organisation "b" may ever see."""


def leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def handlers(app: Litestar) -> Iterator[tuple[str, str, object]]:
    """``(path, method, handler)`` for every route handler of the app, Litestar's own included."""
    for route in app.routes:
        for handler in route.route_handlers:  # type: ignore[attr-defined]
            for method in handler.http_methods:
                yield route.path, method, handler


def is_litestar_options(method: str, handler: object) -> bool:
    return method == "OPTIONS" and handler.fn.__module__ == "litestar.routes.http"  # type: ignore[attr-defined]


def fill(path: str, ids: dict[str, object]) -> str | None:
    """``path`` with its parameters filled from ``ids``, or None when one is not known."""
    names = PARAM.findall(path)
    if any(name not in ids for name, _ in names):
        return None
    return PARAM.sub(lambda m: str(ids[m.group(1)]), path)


def is_core(path: str, handler: object) -> bool:
    """Core's own routes (not a module's, not static files, not the OpenAPI pages)."""
    return "module" not in handler.opt and not path.startswith(("/static", "/schema"))  # type: ignore[attr-defined]


@pytest.fixture
def records(make_person, make_case, ctx_for, db, world) -> dict[str, object]:
    """Organisation "a"'s records: a person with a family link and a case with a goal."""
    person = make_person("a", name="Secret Sokha", name_km="សុខា សម្ងាត់")
    relative = make_person("a", name="Secret Relative")
    persons.link_family(ctx_for(Role.case_manager, "a"), person, PersonLinkIn(relative_id=relative.id, relation="parent"))
    case = make_case("a", person, prison="Secret Prison")
    goal = CaseGoal(org_id=world.org_ids["a"], case_id=case.id, area="work", description="Secret goal")
    db.add(goal)
    book = general_book(db, world.org_ids["a"])
    account = open_account(db, book, "Assets:Bank:USD", ["USD"], date(2025, 1, 1))
    open_account(db, book, "Income:Donations:Secret-Fund", ["USD"], date(2025, 1, 1))
    txn = post(db, book, date(2025, 2, 1), "Secret entry", [
        debit("Assets:Bank:USD", Decimal("10.00"), "USD"), credit("Income:Donations:Secret-Fund", Decimal("10.00"), "USD"),
    ], meta={"case_id": case.id, "grant_id": 7})
    fund = create_fund(db, world.org_ids["a"], "Secret-Fund", "Secret fund", date(2025, 1, 1))
    open_account(db, book, "Expenses:Secret", ["USD"], date(2025, 1, 1))
    line = set_budget_line(db, world.org_ids["a"], 2025, "Expenses:Secret", Decimal("5.00"), "USD", fund=fund)
    photo = save_attachment(db, world.org_ids["a"], filename="secret.pdf", content=b"%PDF-1.4\nSecret Sokha\n%%EOF\n", plugin="core")
    batch = ImportBatch(org_id=world.org_ids["a"], kind="persons", filename="secret.csv", sha256="0" * 64, content=b"name\nSecret Sokha\n")
    db.add(batch)
    consent = Consent(org_id=world.org_ids["a"], person_id=person.id, purpose="records", method="signed", given_on=date(2025, 1, 1))
    db.add(consent)
    db.commit()
    return {
        "person_id": person.id, "case_id": case.id, "user_id": world.users[("a", Role.viewer)], "module": "training",
        "book_id": book.id, "account_id": account.id, "txn_id": txn.id, "grant_id": 7, "fund_id": fund.id, "line_id": line.id,
        "key": photo.key, "goal_id": goal.id, "batch_id": batch.id, "consent_id": consent.id,
    }


def snapshot(db) -> tuple:
    """Everything a refused request must leave as it was."""
    fresh(db)
    return (
        count(db, Person), count(db, PersonLink), count(db, Case), count(db, Event), count(db, CaseGoal), count(db, User),
        sorted(db.execute(select(Membership.user_id, Membership.org_id, Membership.role)).all()),
        sorted(db.execute(select(OrganisationModule.org_id, OrganisationModule.module, OrganisationModule.enabled)).all()),
        sorted(db.execute(select(Person.id, Person.name)).all()),
        sorted(db.execute(select(Case.id, Case.status, Case.prison)).all()),
    )


# A form with a plausible value for every field of core's forms, so a refusal is never just a
# validation error.
ANY_FORM = {
    "name": "Changed Name", "email": "new@example.org", "password": "long enough password", "role": "admin",
    "relative_id": 1, "relation": "spouse", "person_id": 1, "prison": "Changed Prison", "status": "closed",
    "close_reason": "withdrew", "kind": "core.note", "occurred_on": "2024-01-01", "summary": "x", "area": "work",
    "description": "x", "enabled": "0", "org_id": 1, "locale": "km", "next": "/",
}


# --- every route declares a permission -----------------------------------------------------------


def test_every_route_declares_a_permission(app):
    perms = set(app.state.registry.permissions) | {PUBLIC}
    missing, unknown = [], []
    for path, method, handler in handlers(app):
        if is_litestar_options(method, handler):
            continue
        permission = handler.opt.get("permission")
        if permission is None:
            missing.append(f"{method} {path}")
        elif permission not in perms:
            unknown.append(f"{method} {path}: {permission}")
    assert missing == [] and unknown == []


def test_of_cores_routes_only_sign_in_and_the_language_choice_are_public(app):
    public = {(method, path) for path, method, handler in handlers(app) if handler.opt.get("permission") == PUBLIC and is_core(path, handler) and method != "OPTIONS"}
    # The calendar feed: a phone's calendar app has no session; the private token in the URL is
    # the key (tests/core/test_follow_up.py).
    assert public == {("GET", "/login"), ("POST", "/login"), ("POST", "/language"), ("POST", "/api/tokens"), ("GET", "/calendar/{feed:str}")}


def test_a_route_without_a_permission_is_refused(database_url, registry, world):
    """Fail closed: a handler someone forgot to give a permission answers 403, not its page."""

    @litestar.get("/forgotten", sync_to_thread=False)
    def forgotten() -> str:
        return "secret"

    app = create_app(get_settings(database_url, secret_key="test-secret"), registry)
    app.register(forgotten)
    client = TestClient(app, raise_server_exceptions=False)
    login(client, world.email("a", Role.admin))
    assert client.get("/forgotten").status_code == 403
    app.state.engine.dispose()


# --- isolation between organisations -------------------------------------------------------------


def test_every_get_route_answers_404_for_another_organisations_ids(app, records, client_for, api_for):
    page, api = client_for(Role.admin, "b"), api_for(Role.admin, "b")
    walked = []
    for path, method, handler in handlers(app):
        if method != "GET" or not PARAM.search(path) or handler.opt.get("permission") == PUBLIC:
            continue
        url = fill(path, records)
        if url is None:
            # A module's own records (a course, a grant) are its tests' business; core's are ours.
            assert not is_core(path, handler), f"no id of organisation 'a' for {path}"
            continue
        response = (api if path.startswith("/api/") else page).get(url)
        assert response.status_code == 404, f"GET {url}: {response.status_code}"
        assert leaks(response.text) == []
        walked.append(path)
    assert {"/persons/{person_id:int}", "/persons/{person_id:int}/edit", "/cases/{case_id:int}", "/cases/{case_id:int}/timeline",
            "/cases/{case_id:int}/edit", "/cases/{case_id:int}/events/new", "/api/persons/{person_id:int}",
            "/api/cases/{case_id:int}", "/api/cases/{case_id:int}/events", "/training/cases/{case_id:int}/tab",
            "/ledger/books/{book_id:int}", "/ledger/accounts/{account_id:int}", "/ledger/transactions/{txn_id:int}",
            "/ledger/books/{book_id:int}/export", "/ledger/cases/{case_id:int}", "/ledger/grants/{grant_id:int}",
            "/ledger/funds/{fund_id:int}", "/ledger/books/{book_id:int}/accounts", "/files/{key:str}"} <= set(walked)


def test_lists_and_searches_never_show_another_organisations_records(records, client_for, api_for):
    page, api = client_for(Role.admin, "b"), api_for(Role.admin, "b")
    for url in ("/", "/persons?q=Secret", "/persons/lookup?q=Secret", "/cases?q=Secret", "/cases?prison=Secret+Prison",
                f"/cases/new?person_id={records['person_id']}", "/admin", "/ledger"):
        response = page.get(url)
        assert response.status_code == 200, url
        assert leaks(response.text) == [], url
    for url in ("/api/persons?q=Secret", "/api/cases?q=Secret", "/api/persons", "/api/cases"):
        assert api.get(url).json()["items"] == [], url


def test_every_form_post_with_another_organisations_ids_answers_404_and_changes_nothing(app, records, client_for, db):
    client = client_for(Role.admin, "b")
    before = snapshot(db)
    walked = []
    for path, method, handler in handlers(app):
        if method not in UNSAFE or path.startswith("/api/") or not PARAM.search(path) or "module" in handler.opt:
            continue
        url = fill(path, records)
        assert url is not None, path
        if "{module:" in path:
            continue  # a module's name is not a record of an organisation
        response = post_form(client, url, ANY_FORM)
        # A login is not a record of one organisation: staff routes may say "not on the staff" (422).
        expected = {404, 422} if "{user_id:" in path else {404}
        assert response.status_code in expected, f"POST {url}: {response.status_code}"
        assert leaks(response.text) == []
        walked.append(path)
    assert len(walked) >= 8
    assert snapshot(db) == before


def test_family_links_and_cases_cannot_reach_into_another_organisation(records, make_person, client_for, db):
    mine = make_person("b", name="Keo Dara")
    client = client_for(Role.admin, "b")
    before = snapshot(db)
    linked = post_form(client, f"/persons/{mine.id}/family", {"relative_id": records["person_id"], "relation": "spouse"})
    opened = post_form(client, "/cases", {"person_id": records["person_id"]})
    assert (linked.status_code, opened.status_code) == (422, 422)
    assert leaks(linked.text + opened.text) == []
    assert snapshot(db) == before


# --- CSRF ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "forged"])
def test_every_unsafe_form_request_without_the_csrf_token_is_refused(app, records, client_for, db, token):
    client = client_for(Role.admin, "a")
    before = snapshot(db)
    walked = []
    for path, method, handler in handlers(app):
        if method not in UNSAFE or path.startswith("/api/"):
            continue
        url = fill(path, {**records, **{n: 1 for n, _ in PARAM.findall(path) if n not in records}})
        data = dict(ANY_FORM) if token is None else {**ANY_FORM, "_csrf_token": token}
        response = client.request(method, url, data=data, follow_redirects=False)
        assert response.status_code == 403, f"{method} {url}: {response.status_code}"
        walked.append(path)
    assert {"/login", "/logout", "/persons", "/cases/{case_id:int}/status", "/admin/staff"} <= set(walked)
    assert snapshot(db) == before
    assert client.get("/").status_code == 200  # not signed out by the refused POST /logout


def test_a_token_from_the_cookie_but_not_the_form_is_refused(client_for, db):
    client = client_for(Role.case_manager, "a")
    response = client.post("/persons", data={"name": "Sok Dara"}, follow_redirects=False)
    assert response.status_code == 403
    assert "The form expired" in response.text  # not "your role does not allow this"
    assert count(db, Person) == 0
    assert post_form(client, "/persons", {"name": "Sok Dara"}).status_code == 303


# --- passwords, sessions, throttling -------------------------------------------------------------


def test_passwords_are_stored_as_salted_argon2_hashes(client_for, db):
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("$argon2id$") and first != second and PASSWORD not in first
    assert verify_password(first, PASSWORD) and not verify_password(first, PASSWORD + "!")
    assert not verify_password("not a hash", PASSWORD)

    post_form(client_for(Role.admin, "a"), "/admin/staff", {"name": "New Staff", "email": "new@example.org", "password": "a new password 123", "role": "viewer"})
    stored = fresh(db).scalar(select(User.password_hash).where(User.email == "new@example.org"))
    assert stored.startswith("$argon2id$") and "a new password 123" not in stored


def test_sessions_live_on_the_server_and_the_cookie_holds_only_a_random_token(app, world, db):
    client = TestClient(app)
    client.get("/login")
    response = client.post("/login", data={"email": world.email("a", Role.viewer), "password": PASSWORD, "_csrf_token": client.cookies.get("hc_csrf"), "next": "/"}, follow_redirects=False)
    assert response.status_code == 303
    set_cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith(SESSION_COOKIE + "="))
    assert "httponly" in set_cookie.lower() and "samesite=lax" in set_cookie.lower()
    token = client.cookies[SESSION_COOKIE]
    assert len(token) >= 32 and str(world.users[("a", Role.viewer)]) != token
    rows = fresh(db).scalars(select(WebSession)).all()
    assert [r.id for r in rows] == [hashlib.sha256(token.encode()).hexdigest()]  # the token itself is not stored
    assert rows[0].user_id == world.users[("a", Role.viewer)]

    # Signing out ends the session on the server: the old cookie, replayed, opens nothing.
    assert post_form(client, "/logout").status_code == 303
    assert count(db, WebSession) == 0
    replay = TestClient(app, cookies={SESSION_COOKIE: token})
    response = replay.get("/persons", follow_redirects=False)
    assert response.status_code in (302, 303) and response.headers["location"].startswith("/login")


def test_every_sign_in_gets_a_new_session(app, world, db):
    clients = [TestClient(app) for _ in range(2)]
    for client in clients:
        login(client, world.email("a", Role.viewer))
    assert clients[0].cookies[SESSION_COOKIE] != clients[1].cookies[SESSION_COOKIE]
    assert count(db, WebSession) == 2
    post_form(clients[0], "/logout")
    assert clients[1].get("/", follow_redirects=False).status_code == 200  # the other device stays signed in


def test_session_cookies_are_secure_behind_https(database_url, registry, world):
    app = create_app(get_settings(database_url, secret_key="test-secret", secure_cookies=True), registry)
    client = TestClient(app, base_url="https://testserver.local")
    client.get("/login")
    response = client.post("/login", data={"email": world.email("a", Role.viewer), "password": PASSWORD, "_csrf_token": client.cookies.get("hc_csrf"), "next": "/"}, follow_redirects=False)
    cookies = {v.split("=", 1)[0]: v.lower() for k, v in response.headers.multi_items() if k == "set-cookie"}
    assert "; secure" in cookies[SESSION_COOKIE]
    app.state.engine.dispose()


def _sign_in(client: TestClient, email: str, password: str) -> int:
    client.get("/login")
    return client.post("/login", data={"email": email, "password": password, "_csrf_token": client.cookies.get("hc_csrf", ""), "next": "/"}, follow_redirects=False).status_code


def test_five_wrong_passwords_lock_the_account(app, world, db):
    client = TestClient(app)
    email = world.email("a", Role.case_manager)
    for _ in range(5):
        assert _sign_in(client, email, "guessing") == 400
    assert _sign_in(client, email, PASSWORD) == 400  # the right password, but locked
    user = fresh(db).get(User, world.users[("a", Role.case_manager)])
    assert user.locked_until is not None
    assert TestClient(app).post("/api/tokens", json={"email": email, "password": PASSWORD}).status_code == 401
    assert _sign_in(TestClient(app), world.email("a", Role.viewer), PASSWORD) == 303  # others are not affected

    user.locked_until = datetime.now(timezone.utc) - timedelta(seconds=1)  # the lock has run out
    db.commit()
    assert _sign_in(client, email, PASSWORD) == 303
    assert fresh(db).get(User, user.id).failed_logins == 0


def test_four_wrong_passwords_then_the_right_one_signs_in_and_resets_the_count(app, world, db):
    client = TestClient(app)
    email = world.email("a", Role.viewer)
    for _ in range(4):
        assert _sign_in(client, email, "guessing") == 400
    assert _sign_in(client, email, PASSWORD) == 303
    user = fresh(db).get(User, world.users[("a", Role.viewer)])
    assert (user.failed_logins, user.locked_until) == (0, None)


def test_the_email_is_not_case_sensitive_at_sign_in(app, world):
    assert _sign_in(TestClient(app), "  Viewer@A.TEST ", PASSWORD) == 303


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example/", "\\\\evil.example", "javascript:alert(1)"])
def test_sign_in_never_redirects_off_site(app, world, target):
    client = TestClient(app)
    client.get("/login")
    response = client.post("/login", data={"email": world.email("a", Role.viewer), "password": PASSWORD, "_csrf_token": client.cookies.get("hc_csrf"), "next": target}, follow_redirects=False)
    assert response.status_code == 303
    language = client.post("/language", data={"locale": "en", "next": target, "_csrf_token": client.cookies.get("hc_csrf")}, follow_redirects=False)
    for location in (response.headers["location"], language.headers["location"]):
        # A browser reads "/\host" as "//host"; Litestar percent-encodes the backslash, which keeps it a path.
        assert location.startswith("/") and not location.startswith(("//", "/\\")) and urlsplit(location).netloc == ""


# --- security headers ----------------------------------------------------------------------------


def test_pages_send_security_headers_and_contain_no_inline_script(app, records, client_for, api_for):
    client = client_for(Role.admin, "a")
    anonymous = TestClient(app)
    answers = [anonymous.get("/login"), api_for(Role.viewer, "a").get("/api/persons")]
    answers += [client.get(url) for url in ("/", "/persons", f"/persons/{records['person_id']}", "/cases", f"/cases/{records['case_id']}",
                                             f"/cases/{records['case_id']}/events/new?kind=core.follow_up_visit", "/admin", "/persons/99999",
                                             "/follow-ups")]
    for response in answers:
        headers = response.headers
        policy = dict(part.strip().split(" ", 1) for part in headers["content-security-policy"].split(";") if part.strip())
        script = policy.get("script-src", policy.get("default-src", ""))
        assert "'self'" in script and "unsafe-inline" not in script and "unsafe-eval" not in script
        assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
        assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
        if headers["content-type"].startswith("text/html"):
            html = response.text
            assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html), response.url
            assert not re.search(r"\son[a-z]+\s*=", html, re.I), response.url
            assert "javascript:" not in html.lower(), response.url


def test_answers_for_unknown_addresses_send_security_headers_too(app):
    response = TestClient(app).get("/no-such-page")
    assert response.status_code == 404
    assert "content-security-policy" in response.headers


# --- roles ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_403_on_every_route_its_permissions_do_not_cover(app, records, client_for, api_for, db, world, role):
    client, api = client_for(role, "a"), api_for(role, "a")
    held = role_permissions(app.state.registry)[role]
    enabled = set(db.scalars(select(OrganisationModule.module).where(OrganisationModule.org_id == world.org_ids["a"], OrganisationModule.enabled.is_(True))))
    before = snapshot(db)
    refused = []
    for path, method, handler in handlers(app):
        permission = handler.opt.get("permission")
        if is_litestar_options(method, handler) or permission in (PUBLIC, None) or permission in held or method == "HEAD":
            continue
        if "module" in handler.opt and handler.opt["module"] not in enabled:
            continue
        url = fill(path, {**records, **{n: 1 for n, _ in PARAM.findall(path) if n not in records}})
        if path.startswith("/api/"):
            response = api.request(method, url, json={}) if method in UNSAFE else api.get(url)
        else:
            response = post_form(client, url, ANY_FORM) if method in UNSAFE else client.get(url)
        assert response.status_code == 403, f"{role.value}: {method} {url} answered {response.status_code}"
        refused.append(f"{method} {path}")
    assert snapshot(db) == before
    if role is not Role.admin:
        assert "POST /admin/staff" in refused


def test_the_roles_allow_what_their_work_needs_and_no_more(records, client_for, db):
    case_id = records["case_id"]
    note = {"kind": "core.note", "occurred_on": "2024-01-01", "summary": "checked in"}
    assert post_form(client_for(Role.viewer, "a"), "/persons", {"name": "Keo Dara"}).status_code == 403
    assert post_form(client_for(Role.auditor, "a"), f"/cases/{case_id}/events", note).status_code == 403
    assert post_form(client_for(Role.finance, "a"), f"/cases/{case_id}/status", {"status": "pre_release"}).status_code == 403
    assert post_form(client_for(Role.programme_officer, "a"), f"/cases/{case_id}", {"prison": "Elsewhere"}).status_code == 403
    assert client_for(Role.case_manager, "a").get("/admin").status_code == 403
    assert count(db, Event) == 1

    assert post_form(client_for(Role.programme_officer, "a"), f"/cases/{case_id}/events", note).status_code == 303
    assert post_form(client_for(Role.case_manager, "a"), "/persons", {"name": "Keo Dara"}).status_code == 303
    for role in Role:
        assert client_for(role, "a").get(f"/cases/{case_id}").status_code == 200
