"""Medical notes and offence details (docs/security.md "Access"): seen and set only by the roles
the organisation allows (administrators always; by default also case managers), on every page,
API answer, download and audit entry where they could appear."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from core.auth import role_permissions
from core.models import AuditEntry, Case, Organisation, Person, Role
from core.schemas import CaseEditIn, PersonIn
from core.services import cases, persons
from tests.conftest import post_form
from tests.core.conftest import field_errors, fresh

NOTES = "Hepatitis B, weekly clinic"
OFFENCE = "Theft of a motorbike"
WITHHELD = "your role does not see this field"
DEFAULT_ALLOWED = {Role.admin, Role.case_manager}
"""Who sees sensitive fields in a new organisation (``Organisation.sensitive_roles``' default)."""


@pytest.fixture
def record(make_person, make_case, ctx_for, db):
    """A person with medical notes and a case with offence details, each changed once (so the
    trail has a creation and a change of each)."""
    ctx = ctx_for(Role.admin, "a")
    person = make_person("a", name="Sok Dara", medical_notes="Asthma")
    case = make_case("a", person, prison="CC1", offence="Theft")
    persons.update_person(ctx, person, PersonIn(name="Sok Dara", medical_notes=NOTES))
    cases.update_case(ctx, case, CaseEditIn(prison="CC1", offence=OFFENCE))
    db.commit()
    return person.id, case.id


def _set_roles(client, roles: list[str], retention: str = ""):
    """Post the data protection form as a browser does (one input per ticked box)."""
    data = {"sensitive_roles": roles, "retention_months": retention, "_csrf_token": client.cookies.get("hc_csrf", "")}
    return client.post("/admin/data-protection", data=data, follow_redirects=False)


def _rows(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_the_permission_is_listed_with_the_others_and_held_by_administrators(registry):
    assert "records.sensitive" in registry.permissions
    assert "organisation chooses" in str(registry.permissions["records.sensitive"].label)
    assert "records.sensitive" in role_permissions(registry)[Role.admin]


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_medical_notes_and_offence_only_when_the_organisation_allows_it(record, client_for, api_for, registry, role):
    person_id, case_id = record
    allowed = role in DEFAULT_ALLOWED
    held = role_permissions(registry)[role]
    client, api = client_for(role, "a"), api_for(role, "a")

    assert (NOTES in client.get(f"/persons/{person_id}").text) is allowed
    assert (OFFENCE in client.get(f"/cases/{case_id}").text) is allowed

    person, case = api.get(f"/api/persons/{person_id}").json(), api.get(f"/api/cases/{case_id}").json()
    assert ("medical_notes" in person, "offence" in case) == (allowed, allowed)  # absent, not null
    if allowed:
        assert (person["medical_notes"], case["offence"]) == (NOTES, OFFENCE)
    listed = api.get("/api/persons").json()["items"] + api.get("/api/cases").json()["items"]
    assert all(("medical_notes" in item or "offence" in item) is allowed for item in listed)

    if "data.export" in held:
        people, their_cases = client.get("/persons.csv"), client.get("/cases.csv")
        assert (NOTES in people.text, OFFENCE in their_cases.text) == (allowed, allowed)
        assert ("medical_notes" in _rows(people.content)[0], "offence" in _rows(their_cases.content)[0]) == (allowed, allowed)

    if "persons.edit" in held:
        assert ('name="medical_notes"' in client.get(f"/persons/{person_id}/edit").text) is allowed
        assert ('name="offence"' in client.get(f"/cases/{case_id}/edit").text) is allowed

    if "admin.audit" in held:
        trails = {
            f"/admin/audit?record_type=person&record_id={person_id}": ("medical_notes", ["Asthma", NOTES]),
            f"/admin/audit?record_type=case&record_id={case_id}": ("offence", ["Theft", OFFENCE]),
            "/admin/audit": ("medical_notes", ["Asthma", NOTES, "Theft", OFFENCE]),
        }
        for url, (name, values) in trails.items():
            trail = client.get(url).text
            assert [value in trail for value in values] == [allowed] * len(values), url
            assert f"<code>{name}</code>" in trail and (WITHHELD in trail) is not allowed, url  # the change shows, its values do not


def test_a_case_manager_stops_seeing_them_at_the_next_request_once_the_admin_removes_the_role(record, client_for, api_for, db):
    person_id, case_id = record
    manager, api, admin = client_for(Role.case_manager, "a"), api_for(Role.case_manager, "a"), client_for(Role.admin, "a")
    assert NOTES in manager.get(f"/persons/{person_id}").text

    assert _set_roles(admin, ["viewer"]).status_code == 303
    assert fresh(db).scalar(select(Organisation.sensitive_roles).where(Organisation.slug == "org-a")) == "admin,viewer"
    assert NOTES not in manager.get(f"/persons/{person_id}").text
    assert OFFENCE not in manager.get(f"/cases/{case_id}").text
    assert "medical_notes" not in api.get(f"/api/persons/{person_id}").json()
    assert NOTES in client_for(Role.viewer, "a").get(f"/persons/{person_id}").text  # the newly allowed role
    assert NOTES in admin.get(f"/persons/{person_id}").text  # administrators always
    assert NOTES not in client_for(Role.admin, "b").get("/persons").text

    assert _set_roles(admin, ["case_manager"]).status_code == 303
    assert NOTES in manager.get(f"/persons/{person_id}").text


def test_a_form_saved_by_someone_who_may_not_see_them_keeps_them(record, client_for, api_for, db):
    person_id, case_id = record
    assert _set_roles(client_for(Role.admin, "a"), []).status_code == 303
    manager = client_for(Role.case_manager, "a")
    trail_before = len(fresh(db).scalars(select(AuditEntry)).all())

    form = manager.get(f"/persons/{person_id}/edit").text
    assert "medical_notes" not in form and NOTES not in form
    assert post_form(manager, f"/persons/{person_id}", {"name": "Sok Dara Renamed"}).status_code == 303
    assert post_form(manager, f"/cases/{case_id}", {"prison": "CC2"}).status_code == 303
    person, case = fresh(db).get(Person, person_id), db.get(Case, case_id)
    assert (person.name, person.medical_notes, case.prison, case.offence) == ("Sok Dara Renamed", NOTES, "CC2", OFFENCE)
    changes = [e.changes for e in db.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()[trail_before:] if e.action == "changed"]
    assert changes and all("medical_notes" not in c and "offence" not in c for c in changes)

    # Sending the field anyway (a forged form, an API client) is refused at the field; nothing is written.
    forged = post_form(manager, f"/persons/{person_id}", {"name": "Sok Dara", "medical_notes": ""})
    assert forged.status_code == 422 and "Your role may not see or change this field." in forged.text
    refused = api_for(Role.case_manager, "a").post("/api/persons", json={"name": "Keo Dara", "medical_notes": "x"})
    assert refused.status_code == 422
    assert fresh(db).get(Person, person_id).medical_notes == NOTES
    assert db.scalar(select(Person.id).where(Person.name == "Keo Dara")) is None


def test_those_allowed_set_and_clear_them_on_the_forms_and_the_api(make_person, client_for, api_for, db):
    person = make_person("a", name="Sok Dara")
    manager = client_for(Role.case_manager, "a")
    assert post_form(manager, f"/persons/{person.id}", {"name": "Sok Dara", "medical_notes": NOTES}).status_code == 303
    assert fresh(db).get(Person, person.id).medical_notes == NOTES
    assert post_form(manager, f"/persons/{person.id}", {"name": "Sok Dara", "medical_notes": ""}).status_code == 303
    assert fresh(db).get(Person, person.id).medical_notes is None

    opened = post_form(manager, "/cases", {"person_id": person.id, "offence": OFFENCE})
    assert opened.status_code == 303
    case_id = int(opened.headers["location"].rsplit("/", 1)[1])
    assert fresh(db).get(Case, case_id).offence == OFFENCE

    created = api_for(Role.case_manager, "a").post("/api/persons", json={"name": "Keo Dara", "medical_notes": NOTES})
    assert created.status_code == 201 and created.json()["medical_notes"] == NOTES
    too_long = post_form(manager, f"/persons/{person.id}", {"name": "Sok Dara", "medical_notes": "x" * 4001})
    assert too_long.status_code == 422 and "medical_notes" in field_errors(too_long.text)


@pytest.mark.parametrize(
    ("retention", "message"),
    [("5", "Enter a whole number from 12 to 240."), ("241", "Enter a whole number from 12 to 240."), ("a year", "Enter a whole number.")],
)
def test_the_retention_period_is_checked_at_its_field_and_nothing_is_saved(client_for, db, retention, message):
    response = _set_roles(client_for(Role.admin, "a"), ["viewer"], retention)
    assert response.status_code == 422
    assert field_errors(response.text)["retention_months"] == message
    org = fresh(db).scalar(select(Organisation).where(Organisation.slug == "org-a"))
    assert (org.sensitive_roles, org.retention_months) == ("admin,case_manager", None)


def test_the_data_protection_form_saves_roles_and_retention_and_only_administrators_may_post_it(client_for, db):
    admin = client_for(Role.admin, "a")
    page = admin.get("/admin").text
    assert 'action="/admin/data-protection"' in page and 'value="case_manager" checked' in page
    assert _set_roles(admin, ["auditor", "finance"], "24").status_code == 303
    org = fresh(db).scalar(select(Organisation).where(Organisation.slug == "org-a"))
    assert (org.sensitive_roles, org.retention_months) == ("admin,finance,auditor", 24)
    assert 'value="auditor" checked' in admin.get("/admin").text

    assert _set_roles(admin, ["auditor"], "").status_code == 303  # empty: never anonymise automatically
    assert fresh(db).scalar(select(Organisation.retention_months).where(Organisation.slug == "org-a")) is None
    unknown = _set_roles(admin, ["auditor", "owner"])
    assert unknown.status_code == 422 and "sensitive_roles" in field_errors(unknown.text)

    for role in (Role.case_manager, Role.auditor):
        assert _set_roles(client_for(role, "a"), ["viewer"]).status_code == 403
    assert fresh(db).scalar(select(Organisation.sensitive_roles).where(Organisation.slug == "org-a")) == "admin,auditor"
    # Organisation B's settings are its own.
    assert db.scalar(select(Organisation.sensitive_roles).where(Organisation.slug == "org-b")) == "admin,case_manager"
