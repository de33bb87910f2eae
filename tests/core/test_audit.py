"""The audit trail (ARCHITECTURE section 7, docs/security.md): who created, changed, viewed or
downloaded persons' and cases' records, when and from where; shown to administrators and auditors;
not editable by anyone."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from core.models import AppendOnlyError, AuditEntry, Role
from core.schemas import CaseEditIn, GoalIn, GoalUpdateIn, PersonIn, StatusChangeIn
from core.services import cases, persons
from tests.conftest import post_form
from tests.core.conftest import count, fresh

AGENT = "Mozilla/5.0 (Audit test)"


def entries(db, **where: object) -> list[AuditEntry]:
    """Committed audit entries matching ``where``, oldest first."""
    query = select(AuditEntry).order_by(AuditEntry.id)
    for name, value in where.items():
        query = query.where(getattr(AuditEntry, name) == value)
    return list(fresh(db).scalars(query))


PERSON_FORM = {"name": "Sok Dara", "sex": "male", "date_of_birth": "1990-02-03", "village": "Prey Veng"}


def test_creating_and_editing_a_person_records_old_and_new_values(client_for, db, world):
    client = client_for(Role.case_manager, "a")
    response = post_form(client, "/persons", PERSON_FORM)
    assert response.status_code == 303
    person_id = int(response.headers["location"].rsplit("/", 1)[1])
    assert post_form(client, f"/persons/{person_id}", {**PERSON_FORM, "name": "Sok Dara Changed", "date_of_birth": "1991-02-03"}).status_code == 303

    created, changed = entries(db, record_type="person", record_id=person_id)
    manager = world.users[("a", Role.case_manager)]
    assert (created.action, created.user_id, created.org_id) == ("created", manager, world.org_ids["a"])
    assert created.changes["name"] == [None, "Sok Dara"] and created.changes["date_of_birth"] == [None, "1990-02-03"]
    assert changed.action == "changed"
    assert changed.changes == {"name": ["Sok Dara", "Sok Dara Changed"], "date_of_birth": ["1990-02-03", "1991-02-03"]}
    assert changed.ip == "testclient" and changed.at is not None


def test_saving_a_person_unchanged_records_no_change(make_person, ctx_for, db):
    person = make_person("a", name="Keo Sophea")
    persons.update_person(ctx_for(Role.case_manager, "a"), person, PersonIn(name="Keo Sophea"))
    db.commit()
    assert [e.action for e in entries(db, record_type="person", record_id=person.id)] == ["created"]


def test_creating_editing_and_moving_a_case_records_old_and_new_values(make_person, ctx_for, db, world):
    ctx = ctx_for(Role.case_manager, "a")
    person = make_person("a")
    case = cases.create_case(ctx, cases.CaseIn(person_id=person.id, prison="CC1", case_manager_id=ctx.user.id))
    db.commit()
    cases.update_case(ctx, case, CaseEditIn(prison="CC2", case_manager_id=ctx.user.id, expected_release="2026-01-31"))
    db.commit()
    cases.change_status(ctx, case, StatusChangeIn(status="released", actual_release=ctx.today))
    db.commit()
    goal = cases.add_goal(ctx, case, GoalIn(area="work", description="Find a job"))
    cases.update_goal(ctx, case, goal, GoalUpdateIn(description="Find a job", state="met"))
    db.commit()

    created, edited, moved, goal_added, goal_met = entries(db, record_type="case", record_id=case.id)
    assert created.action == "created" and created.changes["prison"] == [None, "CC1"] and created.changes["status"] == [None, "referred"]
    assert edited.changes == {"prison": ["CC1", "CC2"], "expected_release": [None, "2026-01-31"]}
    assert moved.changes == {"status": ["referred", "released"], "actual_release": [None, ctx.today.isoformat()]}
    assert goal_added.changes[f"goal {goal.id}.description"] == [None, "Find a job"]
    assert goal_met.changes == {f"goal {goal.id}.state": ["not_started", "met"]}
    assert {e.user_id for e in (created, edited, moved)} == {world.users[("a", Role.case_manager)]}
    assert created.ip is None  # a service called without a request: no origin


def test_a_refused_action_writes_no_audit_entry(make_person, client_for, db):
    person = make_person("a")
    before = count(db, AuditEntry)
    client = client_for(Role.case_manager, "a")
    assert post_form(client, f"/persons/{person.id}", {"name": ""}).status_code == 422
    assert post_form(client, "/persons", {"name": "", "village": "Somewhere"}).status_code == 422
    assert post_form(client, "/cases", {"person_id": person.id, "sentence_start": "2025-01-02", "sentence_end": "2024-01-01"}).status_code == 422
    assert count(db, AuditEntry) == before


def test_viewing_pages_and_api_records_are_recorded_with_where_from(make_case, client_for, api_for, db, world):
    case = make_case("a")
    client = client_for(Role.viewer, "a")
    client.headers["User-Agent"] = AGENT
    assert client.get(f"/persons/{case.person_id}").status_code == 200
    assert client.get(f"/cases/{case.id}").status_code == 200
    api = api_for(Role.viewer, "a")
    api.headers["User-Agent"] = AGENT
    assert api.get(f"/api/persons/{case.person_id}").status_code == 200
    assert api.get(f"/api/cases/{case.id}").status_code == 200

    viewed = entries(db, action="viewed")
    assert [(e.record_type, e.record_id) for e in viewed] == [
        ("person", case.person_id), ("case", case.id), ("person", case.person_id), ("case", case.id),
    ]
    assert {(e.user_id, e.ip, e.user_agent) for e in viewed} == {(world.users[("a", Role.viewer)], "testclient", AGENT)}
    # A fragment of the case page (the timeline, a tab) is not a new view.
    assert client.get(f"/cases/{case.id}/timeline").status_code == 200
    assert len(entries(db, action="viewed")) == 4


def test_x_forwarded_for_is_believed_only_behind_a_proxy(database_url, registry, world, make_person, db):
    from litestar.testing import TestClient

    from core.settings import get_settings
    from core.web.app import create_app
    from tests.conftest import login

    person = make_person("a")
    for behind_proxy, expected in ((False, "testclient"), (True, "203.0.113.9")):
        app = create_app(get_settings(database_url, secret_key="test-secret", behind_proxy=behind_proxy), registry)
        client = TestClient(app)
        login(client, world.email("a", Role.viewer))
        client.get(f"/persons/{person.id}", headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9"})
        app.state.engine.dispose()
        assert entries(db, action="viewed")[-1].ip == expected


def test_downloading_a_list_is_recorded_with_its_filter(make_case, client_for, db):
    make_case("a", prison="CC1")
    client = client_for(Role.admin, "a")
    assert client.get("/persons.csv?q=Sok").status_code == 200
    assert client.get("/cases.xlsx?prison=CC1").status_code == 200
    person_list, case_list = entries(db, action="exported")
    assert (person_list.record_type, person_list.record_id, person_list.changes) == ("person", None, {"filter": {"q": "Sok"}, "format": "csv"})
    assert (case_list.record_type, case_list.changes) == ("case", {"filter": {"prison": "CC1"}, "format": "xlsx"})


def test_an_administrator_sees_the_trail_per_record_and_per_user(make_case, client_for, db, world):
    case = make_case("a", prison="Old Prison")
    editor = client_for(Role.case_manager, "a")
    post_form(editor, f"/cases/{case.id}", {"case_manager_id": world.users[("a", Role.case_manager)], "prison": "New Prison"})
    other = make_case("a", prison="Elsewhere")
    client_for(Role.viewer, "a").get(f"/persons/{other.person_id}")

    admin = client_for(Role.admin, "a")
    assert f'/admin/audit?record_type=case&amp;record_id={case.id}' in admin.get(f"/cases/{case.id}").text  # the History link
    page = admin.get(f"/admin/audit?record_type=case&record_id={case.id}")
    assert page.status_code == 200
    assert "Old Prison" in page.text and "New Prison" in page.text and "Case Manager A" in page.text
    assert "Elsewhere" not in page.text

    mine = admin.get(f"/admin/audit?user_id={world.users[('a', Role.viewer)]}")
    assert mine.status_code == 200 and mine.text.count('data-action="viewed"') == 1
    assert "New Prison" not in mine.text
    assert f"/admin/audit?user_id={world.users[('a', Role.viewer)]}" in admin.get("/admin").text  # from the staff table

    # An auditor reads it too; nobody may write it.
    assert client_for(Role.auditor, "a").get(f"/admin/audit?record_type=case&record_id={case.id}").status_code == 200
    assert "/admin/audit" not in client_for(Role.case_manager, "a").get(f"/cases/{case.id}").text


def test_the_trail_is_paged_newest_first(make_person, client_for, db):
    person = make_person("a")
    viewer = client_for(Role.viewer, "a")
    for _ in range(51):
        viewer.get(f"/persons/{person.id}")
    admin = client_for(Role.admin, "a")
    first = admin.get(f"/admin/audit?record_type=person&record_id={person.id}").text
    assert first.count('data-action="viewed"') == 50 and 'data-action="created"' not in first and "page=2" in first
    second = admin.get(f"/admin/audit?record_type=person&record_id={person.id}&page=2").text
    assert second.count('data-action="viewed"') == 1 and 'data-action="created"' in second


@pytest.mark.parametrize("role", [Role.case_manager, Role.programme_officer, Role.finance, Role.viewer])
def test_other_roles_get_403(client_for, role):
    assert client_for(role, "a").get("/admin/audit").status_code == 403


def test_another_organisation_never_sees_the_trail(make_case, client_for, db, world):
    case = make_case("a", prison="Secret Prison")
    client_for(Role.viewer, "a").get(f"/cases/{case.id}")
    admin_b = client_for(Role.admin, "b")
    assert admin_b.get(f"/admin/audit?record_type=case&record_id={case.id}").status_code == 404
    assert admin_b.get(f"/admin/audit?record_type=person&record_id={case.person_id}").status_code == 404
    assert admin_b.get(f"/admin/audit?user_id={world.users[('a', Role.viewer)]}").status_code == 404
    everything = admin_b.get("/admin/audit")
    assert everything.status_code == 200 and "data-action" not in everything.text and "Secret Prison" not in everything.text


def test_the_orm_refuses_to_change_or_delete_an_entry(make_person, db):
    make_person("a")
    entry = entries(db)[0]
    entry.ip = "192.0.2.1"
    with pytest.raises(AppendOnlyError):
        db.flush()
    db.rollback()
    db.delete(entries(db)[0])
    with pytest.raises(AppendOnlyError):
        db.flush()
    db.rollback()


@pytest.mark.parametrize("statement", ["UPDATE audit_entries SET ip = '192.0.2.1'", "DELETE FROM audit_entries"])
def test_the_database_refuses_to_change_or_delete_an_entry(make_person, db, statement):
    make_person("a")
    with pytest.raises(DBAPIError, match="append-only"):
        db.execute(text(statement))
    db.rollback()
    assert entries(db)[0].ip is None and count(db, AuditEntry) == 1


def test_no_route_writes_or_deletes_the_trail(app):
    paths = {route.path for route in app.routes if "audit" in route.path}
    methods = {m for route in app.routes if "audit" in route.path for h in route.route_handlers for m in h.http_methods}
    assert paths == {"/admin/audit"} and methods <= {"GET", "HEAD", "OPTIONS"}
