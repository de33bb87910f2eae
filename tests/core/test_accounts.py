"""Accounts (ARCHITECTURE section 7, docs/security.md "Accounts"): idle and absolute session
expiry, signed-in devices and signing out elsewhere, password changes and rules, cookie flags,
security headers on every kind of answer, and sign-in throttling per account and per address.

tests/core/test_security.py holds the earlier basics (argon2 hashes, server-side sessions, the
per-account lock, the CSP of pages); these extend them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from core.auth import (
    MAX_FAILED_LOGINS_PER_ADDRESS,
    SESSION_COOKIE,
    password_problem,
    session_id,
    verify_password,
)
from core.models import ApiToken, Membership, Role, User, WebSession
from core.plugins import PluginRegistry
from core.services.attachments import save_attachment
from core.settings import get_settings
from core.web.app import create_app
from tests.conftest import PASSWORD, World, login, post_form
from tests.core.conftest import count, field_errors, fresh

NEW_PASSWORD = "seven green lanterns"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def client(app: Litestar, **headers: str) -> TestClient:
    made = TestClient(app)
    made.headers.update({k.replace("_", "-"): v for k, v in headers.items()})
    return made


def _app(database_url: str, registry: PluginRegistry, **settings: object) -> Litestar:
    return create_app(get_settings(database_url, secret_key="test-secret", **settings), registry)


@pytest.fixture
def proxied_app(database_url: str, registry: PluginRegistry) -> Iterator[Litestar]:
    """The app behind a proxy: ``X-Forwarded-For`` gives each test client its own address."""
    app = _app(database_url, registry, behind_proxy=True)
    yield app
    app.state.engine.dispose()


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> int:
    client.get("/login")
    data = {"email": email, "password": password, "_csrf_token": client.cookies.get("hc_csrf", ""), "next": "/"}
    return client.post("/login", data=data, follow_redirects=False).status_code


def token_of(client: TestClient) -> str:
    return client.cookies[SESSION_COOKIE]


def row_of(db, client: TestClient) -> WebSession:
    row = fresh(db).get(WebSession, session_id(token_of(client)))
    assert row is not None
    return row


def signed_out(client: TestClient) -> bool:
    response = client.get("/", follow_redirects=False)
    return response.status_code in (302, 303) and response.headers["location"].startswith("/login")


def api_token(client: TestClient, email: str, password: str = PASSWORD) -> str:
    response = client.post("/api/tokens", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    return response.json()["token"]


def api_works(app: Litestar, token: str) -> bool:
    return TestClient(app).get("/api/persons", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def set_cookies(response) -> dict[str, str]:
    """``{cookie name: its Set-Cookie header, lower-cased}``."""
    return {v.split("=", 1)[0]: v.lower() for k, v in response.headers.multi_items() if k == "set-cookie"}


# --- session expiry ------------------------------------------------------------------------------


def test_a_session_idle_longer_than_the_timeout_ends_and_is_deleted(app, world, db):
    client = TestClient(app)
    login(client, world.email("a", Role.viewer))
    row = row_of(db, client)
    row.last_seen_at = datetime.now(timezone.utc) - timedelta(minutes=61)
    db.commit()
    assert signed_out(client)
    assert count(db, WebSession) == 0


def test_a_session_in_use_stays_open_past_the_idle_timeout(app, world, db):
    client = TestClient(app)
    login(client, world.email("a", Role.viewer))
    row = row_of(db, client)
    row.created_at = row.last_seen_at = datetime.now(timezone.utc) - timedelta(minutes=59)
    db.commit()
    assert client.get("/").status_code == 200
    # That request counted as use: an hour after sign-in the session is still open.
    seen = row_of(db, client).last_seen_at.replace(tzinfo=timezone.utc)
    assert datetime.now(timezone.utc) - seen < timedelta(minutes=1)


def test_last_seen_is_written_at_most_once_a_minute(app, world, db):
    client = TestClient(app)
    login(client, world.email("a", Role.viewer))
    recent = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=30)
    row = row_of(db, client)
    row.last_seen_at = recent
    db.commit()
    for _ in range(3):
        assert client.get("/persons").status_code == 200
    assert row_of(db, client).last_seen_at.replace(tzinfo=timezone.utc) == recent  # no write per request

    row = row_of(db, client)
    row.last_seen_at = recent - timedelta(minutes=1)
    db.commit()
    assert client.get("/persons").status_code == 200
    assert row_of(db, client).last_seen_at.replace(tzinfo=timezone.utc) > recent


def test_a_session_past_its_lifetime_ends_even_when_in_use(app, world, db):
    client = TestClient(app)
    login(client, world.email("a", Role.viewer))
    row = row_of(db, client)
    row.expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
    db.commit()
    assert signed_out(client)


def test_the_idle_timeout_is_a_setting(database_url, registry, world, db, monkeypatch):
    monkeypatch.setenv("HOMECOMING_SESSION_IDLE_MINUTES", "5")
    assert get_settings(database_url).session_idle_minutes == 5
    monkeypatch.delenv("HOMECOMING_SESSION_IDLE_MINUTES")
    assert get_settings(database_url).session_idle_minutes == 60
    app = _app(database_url, registry, session_idle_minutes=5)
    client = TestClient(app)
    login(client, world.email("a", Role.viewer))
    row = row_of(db, client)
    row.last_seen_at = datetime.now(timezone.utc) - timedelta(minutes=6)
    db.commit()
    assert signed_out(client)
    app.state.engine.dispose()


def test_sessions_that_ran_out_are_purged_at_the_next_sign_in(app, world, db):
    idle, expired, live = TestClient(app), TestClient(app), TestClient(app)
    for client, role in ((idle, Role.viewer), (expired, Role.auditor), (live, Role.finance)):
        login(client, world.email("a", role))
    now = datetime.now(timezone.utc)
    idle_row, expired_row = row_of(db, idle), row_of(db, expired)
    idle_row.last_seen_at = now - timedelta(hours=2)
    expired_row.expires_at = now - timedelta(minutes=1)
    db.commit()
    login(TestClient(app), world.email("a", Role.case_manager))
    left = set(fresh(db).scalars(select(WebSession.user_id)))
    assert left == {world.users[("a", Role.finance)], world.users[("a", Role.case_manager)]}


def test_a_session_records_the_address_and_browser_it_was_opened_from(proxied_app, world, db):
    browser = client(proxied_app, X_Forwarded_For="203.0.113.9, 198.51.100.7", User_Agent=BROWSER + " " + "x" * 300)
    login(browser, world.email("a", Role.viewer))
    row = row_of(db, browser)
    # Behind the proxy, the address the proxy added (the last one); the browser's first 200 characters.
    assert row.ip == "198.51.100.7"
    assert row.user_agent == (BROWSER + " " + "x" * 300)[:200]


def test_without_a_proxy_the_forwarded_header_is_not_believed(app, world, db):
    browser = client(app, X_Forwarded_For="203.0.113.9")
    login(browser, world.email("a", Role.viewer))
    assert row_of(db, browser).ip == "testclient"


# --- the account page and signing out elsewhere ----------------------------------------------------


def test_the_account_page_shows_who_one_is_and_ones_signed_in_devices(app, world, db):
    user = fresh(db).get(User, world.users[("a", Role.case_manager)])
    user.locale = "km"
    db.commit()
    phone = client(app, User_Agent="Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36")
    desk = client(app, User_Agent=BROWSER)
    for browser in (phone, desk):
        login(browser, world.email("a", Role.case_manager))
    other = TestClient(app)
    login(other, world.email("a", Role.viewer))  # somebody else's session is not listed

    page = desk.get("/account")
    assert page.status_code == 200
    html = page.text
    assert user.name in html and user.email in html and "ខ្មែរ" in html
    devices = re.findall(r"<tr( class=\"current\")?><td>([^<]+)", html.split('id="devices"')[1])
    # "<browser> on <system>", in Khmer here ("... លើ ...")
    assert len(devices) == 2 and any(name.strip().endswith("Android") for _, name in devices)
    (asking,) = [name.strip() for current, name in devices if current]  # the one asking
    assert asking.startswith("Firefox") and asking.endswith("Linux") and " on " not in asking
    assert 'href="/account"' in desk.get("/").text  # the navigation leads there


def test_sign_out_everywhere_else_keeps_this_device_only(app, world, db):
    email = world.email("a", Role.case_manager)
    here, there = TestClient(app), TestClient(app)
    login(here, email)
    login(there, email)
    token = api_token(TestClient(app), email)
    bystander = TestClient(app)
    login(bystander, world.email("a", Role.viewer))

    assert post_form(here, "/account/sign-out-others").headers["location"] == "/account#devices"
    assert here.get("/account").status_code == 200
    assert signed_out(there)
    assert not api_works(app, token)
    assert not signed_out(bystander)
    assert fresh(db).scalars(select(WebSession.id).where(WebSession.user_id == world.users[("a", Role.case_manager)])).all() == [session_id(token_of(here))]


def test_sign_out_everywhere_ends_this_session_too(app, world, db):
    email = world.email("a", Role.case_manager)
    here, there = TestClient(app), TestClient(app)
    login(here, email)
    login(there, email)
    token = api_token(TestClient(app), email)
    old = token_of(here)

    response = post_form(here, "/account/sign-out-everywhere")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert set_cookies(response)[SESSION_COOKIE].startswith(f"{SESSION_COOKIE}=;") or 'max-age=0' in set_cookies(response)[SESSION_COOKIE]
    assert signed_out(TestClient(app, cookies={SESSION_COOKIE: old}))
    assert signed_out(there)
    assert not api_works(app, token)
    assert count(db, ApiToken) == 0


# --- changing one's password ---------------------------------------------------------------------


def change(client: TestClient, current: str, new: str, again: str | None = None):
    return post_form(client, "/account/password", {"current_password": current, "new_password": new, "new_password_again": new if again is None else again})


def test_changing_ones_password_signs_out_the_other_devices(app, world, db):
    email = world.email("a", Role.case_manager)
    here, there = TestClient(app), TestClient(app)
    login(here, email)
    login(there, email)
    token = api_token(TestClient(app), email)

    response = change(here, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == "/account?changed=1"
    user = fresh(db).get(User, world.users[("a", Role.case_manager)])
    assert verify_password(user.password_hash, NEW_PASSWORD) and not verify_password(user.password_hash, PASSWORD)
    assert user.password_changed_at is not None
    assert "Your password was changed" in here.get("/account?changed=1").text  # this device stays signed in
    assert signed_out(there)
    assert not api_works(app, token)
    assert sign_in(TestClient(app), email, PASSWORD) == 400
    assert sign_in(TestClient(app), email, NEW_PASSWORD) == 303


@pytest.mark.parametrize(
    ("current", "new", "again", "field", "message"),
    [
        ("guessing", NEW_PASSWORD, None, "current_password", "This is not your current password."),
        (PASSWORD, "short one", None, "new_password", "Use at least 10 characters."),
        (PASSWORD, "2024 0615 1234", None, "new_password", "Use more than digits."),
        (PASSWORD, "case_manager rocks", None, "new_password", "Do not use your name or email address in the password."),
        (PASSWORD, "i am Manager A!", None, "new_password", "Do not use your name or email address in the password."),
        (PASSWORD, "Password123", None, "new_password", "This password is too common: choose another."),
        (PASSWORD, "qwerty uiop", None, "new_password", "This password is too common: choose another."),
        (PASSWORD, PASSWORD, None, "new_password", "Choose a password other than the current one."),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!", "new_password_again", "The two new passwords differ."),
    ],
)
def test_a_refused_password_change_says_why_at_the_field_and_changes_nothing(client_for, db, world, current, new, again, field, message):
    client = client_for(Role.case_manager, "a")
    before = fresh(db).get(User, world.users[("a", Role.case_manager)]).password_hash
    response = change(client, current, new, again)
    assert response.status_code == 422
    assert field_errors(response.text)[field] == message
    user = fresh(db).get(User, world.users[("a", Role.case_manager)])
    assert (user.password_hash, user.password_changed_at) == (before, None)
    assert client.get("/account").status_code == 200


def test_password_messages_are_translated(client_for, db, world):
    user = fresh(db).get(User, world.users[("a", Role.case_manager)])
    user.locale = "km"
    db.commit()
    response = change(client_for(Role.case_manager, "a"), PASSWORD, "short")
    message = field_errors(response.text)["new_password"]
    assert message != "Use at least 10 characters." and re.search(r"[\u1780-\u17ff]", message) and "10" in message


def test_an_administrator_adding_staff_is_held_to_the_same_rules(client_for, db):
    admin = client_for(Role.admin, "a")
    for password in ("password1234", "Kosal Trainer 2024", "kosal.t is here", "12345678901"):
        response = post_form(admin, "/admin/staff", {"name": "Kosal Trainer", "email": "kosal.t@example.org", "password": password, "role": "viewer"})
        assert response.status_code == 422, password
        assert "password" in field_errors(response.text), password
    assert count(db, User) == len(list(fresh(db).scalars(select(User.id))))
    assert fresh(db).scalar(select(User).where(User.email == "kosal.t@example.org")) is None


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("correct horse battery", True),  # the fixtures' password stays valid
        ("homecoming-demo", True),  # and the demo's
        ("123456789012", False),
        ("iloveyou12", False),
        ("1q2w3e4r5t", False),
        ("QWERTYUIOP", False),  # common lists are matched without case
        ("dara.sok.2024", False),  # the email's local part
        ("sokdara-forever", False),  # the name without its space
        ("my cat is called Sok", True),  # a name's part shorter than four letters is too common a syllable
    ],
)
def test_the_password_rules(password, ok):
    assert (password_problem(password, "dara.sok@example.org", "Sok Dara") is None) is ok


# --- administrators ending others' sessions --------------------------------------------------------


def test_removing_a_staff_member_ends_their_sessions_and_tokens_in_this_organisation_only(app, client_for, world, db):
    viewer = world.users[("a", Role.viewer)]
    db.add(Membership(user_id=viewer, org_id=world.org_ids["b"], role=Role.viewer))
    db.commit()
    email = world.email("a", Role.viewer)
    in_a = TestClient(app)
    login(in_a, email)  # the first organisation, "a"
    token_b = TestClient(app).post("/api/tokens", json={"email": email, "password": PASSWORD, "organisation": "org-b"}).json()["token"]
    token_a = api_token(TestClient(app), email)

    assert post_form(client_for(Role.admin, "a"), f"/admin/staff/{viewer}/remove").status_code == 303
    assert signed_out(in_a)
    assert not api_works(app, token_a)
    assert api_works(app, token_b)  # organisation "b" decides about its own staff


def test_changing_a_role_ends_the_members_sessions(app, client_for, world, db):
    manager = TestClient(app)
    login(manager, world.email("a", Role.case_manager))
    admin = client_for(Role.admin, "a")
    assert post_form(admin, f"/admin/staff/{world.users[('a', Role.case_manager)]}/role", {"role": "case_manager"}).status_code == 303
    assert not signed_out(manager)  # the same role: nothing changed, nothing ended
    assert post_form(admin, f"/admin/staff/{world.users[('a', Role.case_manager)]}/role", {"role": "viewer"}).status_code == 303
    assert signed_out(manager)


# --- cookies ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("secure", [False, True], ids=["http", "https"])
def test_cookie_flags(database_url, registry, world, secure):
    app = _app(database_url, registry, secure_cookies=secure)
    client = TestClient(app, base_url="https://testserver.local" if secure else "http://testserver.local")
    csrf = set_cookies(client.get("/login"))["hc_csrf"]
    response = client.post("/login", data={"email": world.email("a", Role.viewer), "password": PASSWORD, "_csrf_token": client.cookies.get("hc_csrf"), "next": "/"}, follow_redirects=False)
    session = set_cookies(response)[SESSION_COOKIE]
    language = set_cookies(post_form(client, "/language", {"locale": "km", "next": "/"}))["hc_lang"]
    for cookie in (session, language, csrf):
        assert "; httponly" in cookie and "; samesite=lax" in cookie and "; path=/" in cookie
    for cookie in (session, csrf, language):
        assert ("; secure" in cookie) is secure, cookie
    app.state.engine.dispose()


# --- security headers on every kind of answer ------------------------------------------------------


@pytest.mark.parametrize("secure", [False, True], ids=["http", "https"])
def test_every_kind_of_answer_carries_the_security_headers(database_url, registry, world, db, secure):
    app = _app(database_url, registry, secure_cookies=secure)
    base = "https://testserver.local" if secure else "http://testserver.local"
    client = TestClient(app, base_url=base)
    login(client, world.email("a", Role.admin))
    api = TestClient(app, base_url=base)
    api.headers["Authorization"] = "Bearer " + api_token(TestClient(app, base_url=base), world.email("a", Role.admin))
    photo = save_attachment(db, world.org_ids["a"], filename="scan.pdf", content=b"%PDF-1.4\nhello\n%%EOF\n", plugin="core")
    db.commit()
    answers = {
        "page": client.get("/persons"),
        "fragment": client.get("/persons?q=x", headers={"HX-Request": "true"}),
        "json": api.get("/api/persons"),
        "json error": api.get("/api/persons/999999"),
        "404": client.get("/no-such-page"),
        "static": client.get("/static/app.css"),
        "download": client.get(f"/files/{photo.key}"),
        "signed out": TestClient(app, base_url=base).get("/login"),
    }
    assert {k: r.status_code for k, r in answers.items()} == {
        "page": 200, "fragment": 200, "json": 200, "json error": 404, "404": 404, "static": 200, "download": 200, "signed out": 200,
    }
    assert "<html" not in answers["fragment"].text and answers["json"].headers["content-type"].startswith("application/json")
    for kind, response in answers.items():
        headers = response.headers
        policy = dict((part.strip() + " ").split(" ", 1) for part in headers["content-security-policy"].split(";") if part.strip())
        script = policy.get("script-src", policy.get("default-src", ""))
        assert "unsafe-inline" not in script and "unsafe-eval" not in script, kind
        # A download's own policy runs nothing at all (sandbox, default-src 'none').
        assert policy.get("frame-ancestors", "").strip() == "'none'" or ("sandbox" in policy and policy["default-src"].strip() == "'none'"), kind
        assert headers["x-content-type-options"] == "nosniff", kind
        assert headers["x-frame-options"] == "DENY", kind
        assert headers["referrer-policy"] == "same-origin", kind
        assert "camera=()" in headers["permissions-policy"], kind
        assert ("max-age=" in headers.get("strict-transport-security", "")) is secure, kind
    app.state.engine.dispose()


def test_the_pages_configure_htmx_for_the_csp(client_for):
    html = client_for(Role.case_manager, "a").get("/").text
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'>', html)
    assert config is not None
    # No <style> injected by htmx (style-src 'self'), no eval of hx-on or js: values, no inline scripts in swapped HTML.
    assert '"includeIndicatorStyles": false' in config.group(1) and '"allowEval": false' in config.group(1)
    assert '"allowScriptTags": false' in config.group(1)


# --- throttling ------------------------------------------------------------------------------------


def from_address(app: Litestar, ip: str) -> TestClient:
    return client(app, X_Forwarded_For=ip)


def test_one_address_cannot_try_a_password_on_every_account(proxied_app, world: World, db):
    attacker = from_address(proxied_app, "203.0.113.50")
    emails = [world.email(org, role) for org in ("a", "b") for role in Role]
    for i in range(MAX_FAILED_LOGINS_PER_ADDRESS):
        assert sign_in(attacker, emails[i % len(emails)], "Summer2024!") == 400
    # No account was tried five times: none is locked, yet the address is refused, the right
    # password included, with the same message as any failure.
    assert all(u.locked_until is None for u in fresh(db).scalars(select(User)))
    refused = attacker.post("/login", data={"email": emails[0], "password": PASSWORD, "_csrf_token": attacker.cookies.get("hc_csrf"), "next": "/"})
    assert refused.status_code == 400 and "Wrong email or password, or the account is locked for a while." in refused.text
    assert attacker.post("/api/tokens", json={"email": emails[0], "password": PASSWORD}).status_code == 401
    # Another address signs in to the same account as usual.
    assert sign_in(from_address(proxied_app, "198.51.100.20"), emails[0], PASSWORD) == 303


def test_failed_token_requests_count_towards_the_address_limit(proxied_app, world):
    client = from_address(proxied_app, "203.0.113.51")
    for role in list(Role) * 4:
        if client.post("/api/tokens", json={"email": world.email("a", role), "password": "wrong one"}).status_code != 401:
            break
    assert sign_in(client, world.email("b", Role.viewer), PASSWORD) == 400
    assert sign_in(from_address(proxied_app, "203.0.113.52"), world.email("b", Role.viewer), PASSWORD) == 303


def test_signing_in_rightly_does_not_lift_the_address_limit(proxied_app, world):
    """A valid account of one's own must not wipe the count of guesses at others'."""
    client = from_address(proxied_app, "203.0.113.53")
    for _ in range(MAX_FAILED_LOGINS_PER_ADDRESS - 1):
        assert sign_in(client, "nobody@example.org", "guessing") == 400
    assert sign_in(client, world.email("a", Role.viewer), PASSWORD) == 303
    assert sign_in(client, "nobody@example.org", "guessing") == 400
    assert sign_in(client, world.email("a", Role.viewer), PASSWORD) == 400


def test_a_successful_sign_in_resets_the_accounts_count(app, world, db):
    client = TestClient(app)
    email = world.email("a", Role.viewer)
    for _ in range(2):  # twice four failures, a success between: never five in a row
        for _ in range(4):
            assert sign_in(client, email, "guessing") == 400
        assert sign_in(client, email, PASSWORD) == 303
    assert fresh(db).get(User, world.users[("a", Role.viewer)]).locked_until is None


def test_wrong_current_passwords_count_towards_the_address_limit(proxied_app, world):
    client = from_address(proxied_app, "203.0.113.54")
    assert sign_in(client, world.email("a", Role.case_manager)) == 303
    for _ in range(MAX_FAILED_LOGINS_PER_ADDRESS):
        assert change(client, "guessing", NEW_PASSWORD).status_code == 422
    refused = change(client, PASSWORD, NEW_PASSWORD)
    assert refused.status_code == 422 and "Try again later" in field_errors(refused.text)["current_password"]
    assert sign_in(from_address(proxied_app, "203.0.113.54"), world.email("a", Role.viewer)) == 400
