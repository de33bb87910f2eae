"""The dashboard: a case manager's caseload, releases coming, follow-up visits due or overdue."""

from __future__ import annotations

from datetime import date, timedelta

from core.models import CaseStatus, Organisation, Role
from core.schemas import StatusChangeIn
from core.services import cases, dashboard, events, readiness
from tests.conftest import post_form

TODAY = date.today()


def _section(html: str, section_id: str) -> str:
    start = html.index(f'id="{section_id}"')
    return html[start : html.index("</section>", start)]


def test_follow_ups_due_are_derived_from_release_last_visit_and_the_interval(make_case, make_person, ctx_for, db, world):
    ctx = ctx_for(Role.case_manager, "a")
    admin_id = world.users[("a", Role.admin)]

    def released(name: str, days_ago: int, org: str = "a", **fields: object) -> int:
        return make_case(org, make_person(org, name=name), released_days_ago=days_ago, **fields).id

    overdue = released("Overdue Ten", 100)
    due_soon = released("Due In Five", 85)
    released("Recent", 30)
    visited = released("Visited Lately", 200)
    late_visit = released("Visited Long Ago", 200)
    released("Policy Ended", 4 * 365)
    others = released("Admin's Case", 120, case_manager_id=admin_id)
    released("Other Organisation", 100, org="b")
    closed = released("Closed", 100)
    make_case("a", make_person("a", name="Still Inside"), expected_release=TODAY - timedelta(days=100))
    for case_id, days_ago in ((visited, 20), (late_visit, 95)):
        events.record_event(ctx, cases.get_case(ctx, case_id), "core.follow_up_visit", TODAY - timedelta(days=days_ago))
    cases.change_status(ctx, cases.get_case(ctx, closed), StatusChangeIn(status=CaseStatus.closed, close_reason="withdrew"))
    db.commit()

    everyone = dashboard.follow_ups_due(ctx)
    assert [(f.person_name, f.overdue_days) for f in everyone] == [
        ("Admin's Case", 30),
        ("Overdue Ten", 10),
        ("Visited Long Ago", 5),
        ("Due In Five", 0),
    ]
    assert {f.case_id: f.due_on for f in everyone}[due_soon] == TODAY + timedelta(days=5)
    assert {f.case_id: f.basis for f in everyone}[late_visit] == TODAY - timedelta(days=95)
    mine = dashboard.follow_ups_due(ctx, case_manager_id=ctx.user.id)
    assert [f.case_id for f in mine] == [overdue, late_visit, due_soon]
    assert others not in [f.case_id for f in mine]


def test_the_organisations_interval_decides_when_a_visit_is_due(make_case, ctx_for, db):
    case = make_case("a", released_days_ago=40)
    ctx = ctx_for(Role.case_manager, "a")
    assert dashboard.follow_ups_due(ctx) == []

    db.get(Organisation, ctx.org_id).follow_up_interval = 30  # monthly, as TLBB visits
    db.commit()
    assert [(f.case_id, f.overdue_days) for f in dashboard.follow_ups_due(ctx)] == [(case.id, 10)]


def test_recording_a_follow_up_visit_takes_the_case_off_the_overdue_list(make_case, make_person, client_for):
    case = make_case("a", make_person("a", name="Meas Vannak"), released_days_ago=120)
    client = client_for(Role.case_manager, "a")
    assert "Meas Vannak" in _section(client.get("/").text, "follow-ups")

    response = post_form(client, f"/cases/{case.id}/events", {"kind": "core.follow_up_visit", "occurred_on": TODAY.isoformat(), "payload.place": "home", "payload.wellbeing": "good"})
    assert response.status_code == 303
    assert "Meas Vannak" not in _section(client.get("/").text, "follow-ups")


def test_releases_due_in_the_next_90_days(make_case, make_person, ctx_for, db):
    soon = make_case("a", make_person("a", name="Soon"), expected_release=TODAY + timedelta(days=30))
    today = make_case("a", make_person("a", name="Today"), expected_release=TODAY)
    make_case("a", make_person("a", name="Later"), expected_release=TODAY + timedelta(days=120))
    make_case("a", make_person("a", name="Already Out"), expected_release=TODAY + timedelta(days=10), released_days_ago=1)
    make_case("b", make_person("b", name="Elsewhere"), expected_release=TODAY + timedelta(days=30))
    ctx = ctx_for(Role.case_manager, "a")

    assert [r.case_id for r in readiness.releases(ctx, 90, include_passed=False)] == [today.id, soon.id]
    assert readiness.releases(ctx, 90, case_manager_id=ctx_for(Role.admin, "a").user.id, include_passed=False) == []


def test_a_case_manager_sees_their_own_caseload(make_case, make_person, client_for, ctx_for, db, world):
    admin_id = world.users[("a", Role.admin)]
    make_case("a", make_person("a", name="Mine Waiting"), expected_release=TODAY + timedelta(days=45))
    make_case("a", make_person("a", name="Mine Overdue"), released_days_ago=100)
    theirs = make_case("a", make_person("a", name="Admin Managed"), expected_release=TODAY + timedelta(days=45), case_manager_id=admin_id)
    finished = make_case("a", make_person("a", name="Mine Finished"))
    cases.change_status(ctx_for(Role.case_manager, "a"), finished, StatusChangeIn(status=CaseStatus.closed, close_reason="completed"))
    db.commit()

    page = client_for(Role.case_manager, "a").get("/")
    assert page.status_code == 200 and "My caseload" in page.text
    caseload = _section(page.text, "caseload")
    assert "Mine Waiting" in caseload and "Mine Overdue" in caseload
    assert "Admin Managed" not in caseload
    assert "Mine Finished" not in caseload  # "My open cases": closed ones are done
    assert "Mine Waiting" in _section(page.text, "releases") and "Admin Managed" not in page.text
    assert "Mine Overdue" in _section(page.text, "follow-ups")

    overview = client_for(Role.admin, "a").get("/").text
    assert 'id="caseload"' not in overview
    assert "Admin Managed" in _section(overview, "releases") and "Mine Waiting" in _section(overview, "releases")
    assert f"/cases/{theirs.id}" in overview
