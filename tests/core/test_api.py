"""The JSON API: tokens, persons, cases and their events; paging, filters, errors as JSON."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from litestar.testing import TestClient

from core.models import Case, Event, Person, Role
from core.services import events
from tests.conftest import PASSWORD
from tests.core.conftest import count, kinds_on

TODAY = date.today()


def _keys(body: dict) -> set[str]:
    """The fields an error body names (Litestar's validation ``extra`` or our ``errors``)."""
    return {e.get("key") for e in body.get("extra", [])} | set(body.get("errors", {}))


# --- tokens and authentication --------------------------------------------------------------------


def test_a_token_is_issued_for_a_member_and_scopes_the_api_to_that_organisation(app, world, make_person):
    make_person("a", name="Sok Dara")
    make_person("b", name="Sok Bopha")
    client = TestClient(app)
    response = client.post("/api/tokens", json={"email": world.email("b", Role.viewer), "password": PASSWORD})
    assert response.status_code == 201
    body = response.json()
    assert body["token_type"] == "bearer" and body["token"].startswith("hc_")

    listed = client.get("/api/persons", headers={"Authorization": f"Bearer {body['token']}"})
    assert [p["name"] for p in listed.json()["items"]] == ["Sok Bopha"]


@pytest.mark.parametrize(
    "credentials",
    [
        {"email": "viewer@a.test", "password": "wrong password"},
        {"email": "nobody@a.test", "password": PASSWORD},
        {"email": "viewer@a.test", "password": PASSWORD, "organisation": "org-b"},  # not a member there
        {"email": "viewer@a.test", "password": PASSWORD, "organisation": "no-such-org"},
    ],
)
def test_no_token_without_valid_credentials_and_membership(app, world, credentials):
    response = TestClient(app).post("/api/tokens", json=credentials)
    assert response.status_code == 401
    assert response.json()["status_code"] == 401
    assert "Wrong email or password" in response.json()["detail"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer hc_not-a-real-token"}, {"Authorization": "Basic dmlld2VyOng="}])
def test_the_api_answers_401_json_without_a_valid_token(app, world, headers):
    for path in ("/api/persons", "/api/cases", "/api/cases/1/events"):
        response = TestClient(app).get(path, headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["status_code"] == 401


def test_a_session_cookie_does_not_open_the_api(client_for):
    """The API takes bearer tokens only, so a page cannot be tricked into calling it (no CSRF there)."""
    assert client_for(Role.admin, "a").get("/api/persons").status_code == 401


# --- persons ---------------------------------------------------------------------------------------


def test_persons_are_created_listed_with_paging_and_searched(api_for, db):
    client = api_for(Role.case_manager, "a")
    created = client.post("/api/persons", json={"name": "Sok Dara", "name_km": "សុខ ដារា", "sex": "male", "date_of_birth": "1990-04-17"})
    assert created.status_code == 201
    person = created.json()
    assert (person["name"], person["name_km"], person["date_of_birth"]) == ("Sok Dara", "សុខ ដារា", "1990-04-17")
    for name in ("Sok Vuthy", "Chan Sophea", "Keo Bopha"):
        assert client.post("/api/persons", json={"name": name}).status_code == 201

    assert client.get(f"/api/persons/{person['id']}").json()["name"] == "Sok Dara"
    first = client.get("/api/persons", params={"limit": 2}).json()
    assert (len(first["items"]), first["has_more"], first["limit"], first["offset"]) == (2, True, 2, 0)
    rest = client.get("/api/persons", params={"limit": 2, "offset": 2}).json()
    assert (len(rest["items"]), rest["has_more"]) == (2, False)
    assert {p["name"] for p in first["items"] + rest["items"]} == {"Sok Dara", "Sok Vuthy", "Chan Sophea", "Keo Bopha"}
    assert [p["name"] for p in client.get("/api/persons", params={"q": " សុខ"}).json()["items"]] == ["Sok Dara"]
    assert {p["name"] for p in client.get("/api/persons", params={"q": "sok"}).json()["items"]} == {"Sok Dara", "Sok Vuthy"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "Sok Dara", "date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"name": "Sok Dara", "date_of_birth": "yesterday"}, "date_of_birth"),
        ({"name": "Sok Dara", "sex": "unknown"}, "sex"),
        ({"name": "Sok Dara", "id_number": "9" * 61}, "id_number"),
        ({"name": "Sok Dara", "province": "p" * 101}, "province"),
    ],
)
def test_invalid_person_answers_4xx_naming_the_field_and_writes_nothing(api_for, db, body, field):
    response = api_for(Role.case_manager, "a").post("/api/persons", json=body)
    assert 400 <= response.status_code < 500
    assert field in _keys(response.json())
    assert count(db, Person) == 0


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b'"Sok Dara"', b""])
def test_a_body_that_is_not_a_person_answers_400(api_for, db, content):
    response = api_for(Role.case_manager, "a").post("/api/persons", content=content, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["status_code"] == 400
    assert count(db, Person) == 0


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 201}, {"offset": -1}, {"limit": "many"}])
def test_bad_paging_answers_400_naming_the_parameter(api_for, params):
    response = api_for(Role.viewer, "a").get("/api/persons", params=params)
    assert response.status_code == 400
    assert set(params) <= _keys(response.json())


# --- cases and events ------------------------------------------------------------------------------


def test_cases_are_created_and_listed_with_filters_and_paging(api_for, make_person, make_case, db, world):
    client = api_for(Role.case_manager, "a")
    dara = make_person("a", name="Sok Dara")
    response = client.post("/api/cases", json={"person_id": dara.id, "prison": "CC1 Prey Sar", "prisoner_number": "P-1", "expected_release": "2030-06-30"})
    assert response.status_code == 201
    created = response.json()
    assert (created["person_id"], created["person_name"], created["status"], created["opened_on"]) == (dara.id, "Sok Dara", "referred", TODAY.isoformat())
    assert kinds_on(db, created["id"]) == ["core.case_opened"]
    released = make_case("a", make_person("a", name="Chan Sophea"), released_days_ago=5, prison="CC2 Prey Sar")
    make_case("a", make_person("a", name="Keo Vuthy"), prison="CC2 Prey Sar", case_manager_id=world.users[("a", Role.admin)])
    make_case("b", make_person("b", name="Sok Other"))

    def ids(**params: object) -> list[int]:
        response = client.get("/api/cases", params=params)
        assert response.status_code == 200
        return [c["id"] for c in response.json()["items"]]

    assert len(ids()) == 3
    assert ids(status="released") == [released.id]
    assert len(ids(prison="CC2 Prey Sar")) == 2
    assert ids(q="sok") == [created["id"]]
    assert ids(q="P-1") == [created["id"]]
    assert ids(case_manager=world.users[("a", Role.case_manager)]) == [released.id]
    page = client.get("/api/cases", params={"limit": 2}).json()
    assert (len(page["items"]), page["has_more"]) == (2, True)
    assert client.get(f"/api/cases/{released.id}").json()["actual_release"] == (TODAY - timedelta(days=5)).isoformat()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "person_id"),
        ({"person_id": "abc"}, "person_id"),
        ({"person_id": "$theirs"}, "person_id"),
        ({"person_id": "$mine", "case_manager_id": "$their_manager"}, "case_manager_id"),
        ({"person_id": "$mine", "sentence_start": "2024-05-01", "sentence_end": "2023-05-01"}, "sentence_end"),
        ({"person_id": "$mine", "prisoner_number": "P" * 61}, "prisoner_number"),
    ],
)
def test_invalid_case_answers_4xx_naming_the_field_and_writes_nothing(api_for, make_person, db, world, body, field):
    ids = {"$mine": make_person("a").id, "$theirs": make_person("b").id, "$their_manager": world.users[("b", Role.case_manager)]}
    response = api_for(Role.case_manager, "a").post("/api/cases", json={k: ids.get(v, v) for k, v in body.items()})
    assert 400 <= response.status_code < 500
    assert field in _keys(response.json())
    assert count(db, Case) == 0


def test_events_are_listed_newest_first_with_filter_and_paging_and_recorded(api_for, make_case, ctx_for, db, world):
    case = make_case("a")
    ctx = ctx_for(Role.case_manager, "a")
    for i in range(1, 4):
        events.record_event(ctx, case, "core.note", TODAY - timedelta(days=i), summary=f"note {i}")
    db.commit()
    client = api_for(Role.case_manager, "a")

    listed = client.get(f"/api/cases/{case.id}/events").json()
    assert [e["kind"] for e in listed["items"]] == ["core.case_opened", "core.note", "core.note", "core.note"]
    notes = client.get(f"/api/cases/{case.id}/events", params={"kind": "core.note", "limit": 2}).json()
    assert ([e["summary"] for e in notes["items"]], notes["has_more"]) == (["note 1", "note 2"], True)

    response = client.post(f"/api/cases/{case.id}/events", json={"kind": "core.follow_up_visit", "occurred_on": TODAY.isoformat(), "payload": {"place": "home", "wellbeing": "good"}, "summary": "All well."})
    assert response.status_code == 201
    event = response.json()
    assert (event["case_id"], event["kind"], event["payload"], event["recorded_by_id"]) == (case.id, "core.follow_up_visit", {"place": "home", "wellbeing": "good"}, world.users[("a", Role.case_manager)])
    assert kinds_on(db, case.id)[-1] == "core.follow_up_visit"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "core.family_contact", "payload": {"contact": "carrier pigeon"}}, "payload.contact"),
        ({"kind": "core.status_changed"}, "kind"),
        ({"kind": "nobody.invented_this"}, "kind"),
        ({"kind": "core.note", "occurred_on": "2999-01-01"}, "occurred_on"),
        ({"kind": "core.note", "occurred_on": None}, "occurred_on"),
        ({"kind": "core.note", "corrects_id": 10_000_000}, "corrects_id"),
        ({"kind": "core.note", "payload": "not an object"}, "payload"),
    ],
)
def test_invalid_event_answers_4xx_naming_the_field_and_writes_nothing(api_for, make_case, db, body, field):
    case = make_case("a")
    response = api_for(Role.case_manager, "a").post(f"/api/cases/{case.id}/events", json={"occurred_on": TODAY.isoformat(), **body})
    assert 400 <= response.status_code < 500
    assert field in _keys(response.json())
    assert count(db, Event) == 1


def test_another_organisations_records_answer_404(api_for, make_case, db):
    theirs = make_case("b")
    client = api_for(Role.admin, "a")
    for path in (f"/api/persons/{theirs.person_id}", f"/api/cases/{theirs.id}", f"/api/cases/{theirs.id}/events"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json()["status_code"] == 404
    posted = client.post(f"/api/cases/{theirs.id}/events", json={"kind": "core.note", "occurred_on": TODAY.isoformat()})
    assert posted.status_code == 404
    assert kinds_on(db, theirs.id) == ["core.case_opened"]


def test_roles_apply_to_the_api(api_for, make_case, db):
    case = make_case("a")
    viewer, auditor = api_for(Role.viewer, "a"), api_for(Role.auditor, "a")
    assert viewer.get("/api/cases").status_code == 200
    assert viewer.post("/api/persons", json={"name": "Sok Dara"}).status_code == 403
    assert viewer.post("/api/cases", json={"person_id": case.person_id}).status_code == 403
    assert auditor.post(f"/api/cases/{case.id}/events", json={"kind": "core.note", "occurred_on": TODAY.isoformat()}).status_code == 403
    assert count(db, Person) == 1 and count(db, Case) == 1 and count(db, Event) == 1


def test_the_openapi_schema_lists_the_api(app):
    response = TestClient(app).get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/tokens", "/api/persons", "/api/persons/{person_id}", "/api/cases", "/api/cases/{case_id}", "/api/cases/{case_id}/events"} <= set(paths)
    assert {"get", "post"} <= set(paths["/api/cases/{case_id}/events"])
    assert {"get", "post"} <= set(paths["/api/persons"])


def test_numbers_beyond_any_row_are_refused_as_json_never_a_server_error(api_for, make_case, db):
    """An id or offset larger than a 64-bit integer reached SQLite ("Python int too large") and
    was a 500. Found by tests/fuzz (docs/security.md, "Bad input")."""
    case = make_case("a")
    events_before = count(db, Event)
    client = api_for(Role.case_manager, "a")
    huge = 10**30
    for path in (f"/api/cases/{huge}", f"/api/persons/{huge}", f"/api/cases/{huge}/goals", f"/api/cases/{case.id}/goals/{huge}"):
        response = client.get(path) if not path.endswith(f"goals/{huge}") else client.put(path, json={"description": "x", "state": "met"})
        assert response.status_code == 404 and response.json()["detail"], path
    for path in (f"/api/cases?case_manager={huge}", f"/api/releases?case_manager={huge}", f"/api/persons?offset={huge}"):
        response = client.get(path)
        assert response.status_code == 400 and response.json()["detail"], path
    response = client.post("/api/cases", json={"person_id": huge})
    assert response.status_code == 400 and [e["key"] for e in response.json()["extra"]] == ["person_id"]
    response = client.post(f"/api/cases/{case.id}/events", json={"kind": "core.note", "occurred_on": "2024-01-01", "corrects_id": huge})
    assert response.status_code == 400 and [e["key"] for e in response.json()["extra"]] == ["corrects_id"]
    assert (count(db, Case), count(db, Event)) == (1, events_before)
