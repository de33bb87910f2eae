"""Release preparation: the plan's goals by area and their progress, the readiness page, and the
dashboard's releases in the next 30/60/90 days with their open goals."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import event as sa_event
from sqlalchemy import select

from core.models import CaseGoal, Event, GoalArea, GoalState, Role
from core.schemas import GoalIn, GoalUpdateIn
from core.services import cases, readiness
from core.services.readiness import Area
from tests.conftest import post_form
from tests.core.conftest import field_errors, fresh

TODAY = date.today()


def _goal(ctx, case, area: str, state: str = "not_started", text: str = "a goal") -> CaseGoal:
    return cases.add_goal(ctx, case, GoalIn(area=area, description=text, state=state))


# --- the rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("states", "done", "shown"),
    [
        ((), False, "none"),
        ((GoalState.met,), True, "met"),
        ((GoalState.met, GoalState.declined), True, "declined"),
        ((GoalState.met, GoalState.in_progress), False, "in_progress"),
        ((GoalState.in_progress, GoalState.not_started), False, "not_started"),
    ],
)
def test_an_area_is_done_only_when_it_has_goals_and_all_are_met_or_declined(states, done, shown):
    area = Area(GoalArea.housing, states)
    assert (area.done, area.state) == (done, shown)


def test_a_plan_always_has_the_six_areas_in_order():
    goal = CaseGoal(area="health", state="met", description="x")
    plan = readiness.plan_areas([goal])
    assert [a.area.value for a in plan] == ["housing", "work", "family", "health", "documents", "education"]
    assert [a.done for a in plan] == [False, False, False, True, False, False]


# --- the readiness list ---------------------------------------------------------------------------


@pytest.fixture
def releases(make_case, make_person, ctx_for, db, world):
    """Cases of organisation "a" expected out in 10, 45 and 80 days, one whose date passed, one
    too far off, one already released, one of another case manager; and one of organisation "b"."""
    ctx = ctx_for(Role.case_manager, "a")
    admin_id = world.users[("a", Role.admin)]

    def inside(name: str, days: int, org: str = "a", **fields: object):
        return make_case(org, make_person(org, name=name), expected_release=TODAY + timedelta(days=days), **fields)

    ids = {
        "soon": inside("Soon Sokha", 10),
        "middle": inside("Middle Dara", 45),
        "late": inside("Late Vanna", 80),
        "passed": inside("Passed Chan", -5),
        "far": inside("Far Bopha", 120),
        "admins": inside("Admin Case", 20, case_manager_id=admin_id),
        "other_org": inside("Other Org", 10, org="b"),
    }
    released = make_case("a", make_person("a", name="Out Already"), released_days_ago=3)
    ids["released"] = released
    _goal(ctx, ids["soon"], "housing", "met")
    _goal(ctx, ids["soon"], "work", "in_progress", "Job at the garage")
    _goal(ctx, ids["soon"], "documents", "declined")
    for area in GoalArea:
        _goal(ctx, ids["middle"], area.value, "met")
    db.commit()
    return {k: v.id for k, v in ids.items()}


def test_releases_are_grouped_by_window_with_their_open_goals(releases, ctx_for):
    ctx = ctx_for(Role.admin, "a")
    groups = readiness.by_window(readiness.releases(ctx, 90))
    names = {w: [r.person_name for r in items] for w, items in groups.items()}
    assert names == {0: ["Passed Chan"], 30: ["Soon Sokha", "Admin Case"], 60: ["Middle Dara"], 90: ["Late Vanna"]}

    soon = groups[30][0]
    assert soon.days_left == 10
    assert [a.value for a in soon.open_areas] == ["work", "family", "health", "education"]
    assert soon.open_goals == ((GoalArea.work, "Job at the garage"),)
    assert groups[60][0].open_areas == ()  # every area met
    assert [a.state for a in groups[90][0].areas] == ["none"] * 6


def test_a_case_manager_sees_only_their_releases_and_a_shorter_window_leaves_later_ones_out(releases, ctx_for):
    ctx = ctx_for(Role.case_manager, "a")
    mine = readiness.releases(ctx, 30, case_manager_id=ctx.user.id)
    assert [r.person_name for r in mine] == ["Passed Chan", "Soon Sokha"]
    assert [r.person_name for r in readiness.releases(ctx, 30, ctx.user.id, include_passed=False)] == ["Soon Sokha"]


def test_the_readiness_list_costs_two_queries_however_many_cases(releases, make_case, make_person, ctx_for, db):
    ctx = ctx_for(Role.admin, "a")
    statements: list[str] = []

    def counted() -> int:
        statements.clear()
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        sa_event.listen(db.get_bind(), "before_cursor_execute", listener)
        try:
            readiness.releases(ctx, 90)
        finally:
            sa_event.remove(db.get_bind(), "before_cursor_execute", listener)
        return len(statements)

    ctx.organisation  # loaded once per request anyway
    small = counted()
    for n in range(15):
        case = make_case("a", make_person("a", name=f"More {n}"), expected_release=TODAY + timedelta(days=n + 1))
        _goal(ctx, case, "family")
    db.commit()
    assert counted() == small == 2


# --- pages ----------------------------------------------------------------------------------------


def test_the_readiness_page_shows_each_area_and_what_is_open(releases, client_for):
    page = client_for(Role.case_manager, "a").get("/releases?days=30")
    assert page.status_code == 200
    text = page.text
    assert "Soon Sokha" in text and "Passed Chan" in text
    assert "Admin Case" not in text  # a case manager starts with their own cases
    assert "Middle Dara" not in text and "Other Org" not in text
    row = text[text.index(f'data-case="{releases["soon"]}"') :]
    row = row[: row.index("</tr>")]
    assert 'data-area="housing"><span class="badge goal-met">' in row
    assert 'data-area="work"><span class="badge goal-in_progress">' in row
    assert "Job at the garage" in row

    everyone = client_for(Role.case_manager, "a").get("/releases?days=90&case_manager=all").text
    assert "Admin Case" in everyone and "Late Vanna" in everyone and "Far Bopha" not in everyone


def test_the_readiness_list_downloads_as_csv_and_excel(releases, client_for):
    client = client_for(Role.programme_officer, "a")
    response = client.get("/releases.csv?days=30&case_manager=all")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Case", "Person", "Expected release"] and rows[0][6:12] == ["Housing", "Work and income", "Family", "Health", "Identity documents", "Education"]
    soon = next(r for r in rows if r[1] == "Soon Sokha")
    assert soon[6:8] == ["Met", "In progress"] and soon[10] == "Declined" and soon[8] == "Nothing planned yet"
    assert soon[-1] == "Work and income: Job at the garage"

    sheet = load_workbook(io.BytesIO(client.get("/releases.xlsx?days=90&case_manager=all").content)).active
    names = [row[1].value for row in sheet.iter_rows(min_row=2)]
    assert names == ["Passed Chan", "Soon Sokha", "Admin Case", "Middle Dara", "Late Vanna"]


def test_the_dashboard_lists_releases_by_window_with_open_areas(releases, client_for):
    html = client_for(Role.admin, "a").get("/").text
    panel = html[html.index('id="releases"') :]
    panel = panel[: panel.index("</section>")]
    assert panel.index('id="releases-0"') < panel.index("Passed Chan") < panel.index('id="releases-30"')
    assert panel.index('id="releases-30"') < panel.index("Soon Sokha") < panel.index('id="releases-60"') < panel.index("Middle Dara")
    middle = panel[panel.index(f'data-case="{releases["middle"]}"') :]
    assert middle[: middle.index("</tr>")].count("goal-open") == 0 and "Ready" in middle[: middle.index("</tr>")]
    assert "Other Org" not in panel and "Out Already" not in panel


def test_updating_a_goal_records_the_change_on_the_timeline(make_case, client_for, ctx_for, db):
    case = make_case("a", expected_release=TODAY + timedelta(days=60))
    goal = _goal(ctx_for(Role.case_manager, "a"), case, "documents", text="National ID card")
    db.commit()
    client = client_for(Role.case_manager, "a")

    response = post_form(client, f"/cases/{case.id}/goals/{goal.id}", {"description": "National ID card", "state": "met", "next_step": ""})
    assert response.status_code == 303 and response.headers["location"] == f"/cases/{case.id}#goal-{goal.id}"
    saved = fresh(db).get(CaseGoal, goal.id)
    assert saved.state == "met"
    changes = db.scalars(select(Event).where(Event.case_id == case.id, Event.kind == "core.goal_changed").order_by(Event.id)).all()
    assert [c.payload for c in changes] == [
        {"goal_id": goal.id, "area": "documents", "to": "not_started"},
        {"goal_id": goal.id, "area": "documents", "from": "not_started", "to": "met"},
    ]
    page = client.get(f"/cases/{case.id}").text
    assert "1 of 6 areas done" in page and "Identity documents: Not started → Met" in page

    # Only the next step changes: no new timeline entry.
    post_form(client, f"/cases/{case.id}/goals/{goal.id}", {"description": "National ID card", "state": "met", "next_step": "Collect it"})
    assert len(fresh(db).scalars(select(Event.id).where(Event.case_id == case.id, Event.kind == "core.goal_changed")).all()) == 2


def test_a_bad_goal_update_is_refused_at_its_field_and_writes_nothing(make_case, client_for, ctx_for, db):
    case = make_case("a")
    goal = _goal(ctx_for(Role.case_manager, "a"), case, "work", text="Job")
    db.commit()
    client = client_for(Role.case_manager, "a")
    refused = post_form(client, f"/cases/{case.id}/goals/{goal.id}", {"description": " ", "state": "finished"})
    assert refused.status_code == 422
    assert set(field_errors(refused.text)) >= {"description"}
    assert f'id="f-g{goal.id}-description"' in refused.text
    assert fresh(db).get(CaseGoal, goal.id).description == "Job"

    with pytest.raises(Exception):
        cases.update_goal(ctx_for(Role.case_manager, "a"), case, goal, GoalUpdateIn(description="Job", state="finished"))
    db.rollback()


def test_a_goal_of_another_case_or_organisation_answers_404(make_case, client_for, ctx_for, db):
    mine = make_case("a")
    other_case = make_case("a")
    foreign = make_case("b")
    goal = _goal(ctx_for(Role.case_manager, "a"), other_case, "work")
    foreign_goal = _goal(ctx_for(Role.case_manager, "b"), foreign, "work")
    db.commit()
    client = client_for(Role.case_manager, "a")
    data = {"description": "x", "state": "met"}
    assert post_form(client, f"/cases/{mine.id}/goals/{goal.id}", data).status_code == 404
    assert post_form(client, f"/cases/{foreign.id}/goals/{foreign_goal.id}", data).status_code == 404
    assert post_form(client_for(Role.viewer, "a"), f"/cases/{other_case.id}/goals/{goal.id}", data).status_code == 403
    assert fresh(db).get(CaseGoal, goal.id).state == "not_started"


# --- the JSON API ---------------------------------------------------------------------------------


def test_goals_are_added_updated_and_listed_through_the_api(make_case, api_for, db):
    case = make_case("a", expected_release=TODAY + timedelta(days=20))
    client = api_for(Role.case_manager, "a")
    created = client.post(f"/api/cases/{case.id}/goals", json={"area": "housing", "description": "Roof repaired", "state": "in_progress"})
    assert created.status_code == 201
    goal = created.json()
    assert (goal["area"], goal["state"], goal["case_id"]) == ("housing", "in_progress", case.id)

    changed = client.put(f"/api/cases/{case.id}/goals/{goal['id']}", json={"description": "Roof repaired", "state": "met"})
    assert changed.status_code == 200 and changed.json()["state"] == "met"
    assert [g["state"] for g in client.get(f"/api/cases/{case.id}/goals").json()] == ["met"]

    refused = client.put(f"/api/cases/{case.id}/goals/{goal['id']}", json={"description": "", "state": "met"})
    assert refused.status_code == 400 and "description" in str(refused.json())
    assert fresh(db).get(CaseGoal, goal["id"]).description == "Roof repaired"

    releases = client.get("/api/releases", params={"days": 30}).json()
    assert [r["case_id"] for r in releases] == [case.id]
    housing = releases[0]["areas"][0]
    assert housing == {"area": "housing", "state": "met", "done": True}
    assert api_for(Role.case_manager, "b").get(f"/api/cases/{case.id}/goals").status_code == 404
    assert api_for(Role.case_manager, "a").get("/api/releases", params={"days": 400}).status_code == 400
