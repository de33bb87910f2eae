"""The follow-up policy (docs/follow_up.md): due dates derived from release and visits, the
due-and-overdue lists, escalation to supervisors, the policy form and the calendar feed."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar
from litestar.testing import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from core.models import CalendarFeed, Membership, Organisation, Role
from core.schemas import FollowUpPolicyIn
from core.services import admin, cases, events, followups
from core.services.followups import DueVisit, Policy, add_months, due_visits, next_due, overdue_days
from tests.conftest import post_form
from tests.core.conftest import field_errors, fresh

TODAY = date.today()
EVERY_90_DAYS = Policy(90, "days", 36, 30)
MONTHLY = Policy(1, "months", 6, 30)


# --- the rules, without a database ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("release", "expected"),
    [
        (date(2028, 1, 31), date(2028, 2, 29)),  # a leap year: February has 29 days
        (date(2027, 1, 31), date(2027, 2, 28)),
        (date(2027, 3, 31), date(2027, 4, 30)),
        (date(2027, 12, 31), date(2028, 1, 31)),  # across the new year
        (date(2027, 1, 15), date(2027, 2, 15)),
    ],
)
def test_a_month_after_a_day_is_the_same_day_or_the_last_day_of_a_shorter_month(release, expected):
    assert next_due(MONTHLY, release, []) == expected


def test_months_are_counted_from_the_day_not_added_up_month_by_month():
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert next_due(Policy(3, "months", 36, 30), date(2026, 11, 30), []) == date(2027, 2, 28)
    assert add_months(date(2028, 3, 31), -1) == date(2028, 2, 29)


def test_leap_day_plus_twelve_months_is_the_last_day_of_february():
    assert add_months(date(2028, 2, 29), 12) == date(2029, 2, 28)
    assert add_months(date(2028, 2, 29), 48) == date(2032, 2, 29)
    assert next_due(Policy(12, "months", 60, 30), date(2028, 2, 29), []) == date(2029, 2, 28)
    # In days, a leap year is one day longer: 365 days after 1 March 2027 is 29 February 2028.
    assert next_due(Policy(365, "days", 36, 30), date(2027, 3, 1), []) == date(2028, 2, 29)


def test_every_90_days_counts_days_across_month_ends_and_leap_years():
    assert next_due(EVERY_90_DAYS, date(2026, 1, 1), []) == date(2026, 4, 1)
    assert next_due(EVERY_90_DAYS, date(2027, 12, 15), []) == date(2028, 3, 14)  # 29 Feb 2028 on the way
    assert next_due(EVERY_90_DAYS, date(2026, 12, 15), []) == date(2027, 3, 15)


def test_a_late_visit_moves_the_next_due_date_later_and_was_not_on_time():
    release = date(2026, 1, 1)
    late = date(2026, 4, 20)  # due 1 April
    assert next_due(EVERY_90_DAYS, release, [late]) == date(2026, 7, 19)
    first, second = due_visits(EVERY_90_DAYS, release, [late])
    assert first == DueVisit(date(2026, 4, 1), late) and not first.on_time()
    assert second == DueVisit(date(2026, 7, 19), None)


def test_an_early_visit_moves_the_next_due_date_earlier_and_was_on_time():
    release = date(2026, 1, 1)
    early = date(2026, 3, 10)
    assert next_due(EVERY_90_DAYS, release, [early]) == date(2026, 6, 8)
    assert due_visits(EVERY_90_DAYS, release, [early])[0].on_time()
    # Monthly: the schedule follows the last visit's day of the month, not the release's.
    assert next_due(MONTHLY, date(2028, 1, 31), [date(2028, 2, 29)]) == date(2028, 3, 29)
    assert next_due(MONTHLY, date(2028, 1, 31), [date(2028, 2, 20), date(2028, 2, 10)]) == date(2028, 3, 20)


def test_visits_dated_before_release_do_not_count():
    release = date(2026, 1, 1)
    assert next_due(EVERY_90_DAYS, release, [date(2025, 12, 20)]) == date(2026, 4, 1)
    assert next_due(MONTHLY, release, [date(2025, 12, 31), release]) == date(2026, 2, 1)  # a visit on the day counts


def test_no_visit_falls_due_after_the_follow_up_period():
    release = date(2026, 1, 31)
    assert MONTHLY.ends_on(release) == date(2026, 7, 31)
    assert next_due(MONTHLY, release, [date(2026, 6, 30)]) == date(2026, 7, 30)
    assert next_due(MONTHLY, release, [date(2026, 7, 5)]) is None  # 5 August is after the end
    six_months_of_90_days = Policy(90, "days", 6, 30)
    assert next_due(six_months_of_90_days, date(2026, 1, 1), [date(2026, 4, 15)]) is None  # 14 July > 1 July
    assert [d.due_on for d in due_visits(six_months_of_90_days, date(2026, 1, 1), [])] == [date(2026, 4, 1)]
    visits = [date(2026, 2, 27), date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 28), date(2026, 6, 30)]
    assert [d.due_on for d in due_visits(MONTHLY, release, visits)] == [
        date(2026, 2, 28), date(2026, 3, 27), date(2026, 4, 30), date(2026, 5, 30), date(2026, 6, 28), date(2026, 7, 30)
    ]


def test_overdue_days():
    assert overdue_days(date(2026, 3, 1), date(2026, 3, 1)) == 0
    assert overdue_days(date(2026, 3, 1), date(2026, 2, 20)) == 0
    assert overdue_days(date(2028, 2, 28), date(2028, 3, 1)) == 2


@given(st.dates(date(2000, 1, 1), date(2100, 12, 31)), st.integers(1, 24), st.sampled_from(["days", "months"]))
def test_no_interval_is_shorter_than_the_bound_the_database_filters_by(day, interval, unit):
    policy = Policy(interval, unit, 120, 30)
    assert (policy.after(day) - day).days >= policy.shortest_interval_days
    assert (policy.ends_on(day) - day).days <= 31 * policy.duration_months


# --- the lists, in the database -------------------------------------------------------------------


@pytest.fixture
def released(make_case, make_person):
    """``released("Sok Dara", 100, org="a", case_manager_id=...)``: a released case's id."""

    def make(name: str, days_ago: int, org: str = "a", **fields: object) -> int:
        return make_case(org, make_person(org, name=name, name_km="សុខ"), released_days_ago=days_ago, **fields).id

    return make


def visit(ctx, case_id: int, days_ago: int, corrects_id: int | None = None, kind: str = "core.follow_up_visit") -> int:
    return events.record_event(ctx, cases.get_case(ctx, case_id), kind, TODAY - timedelta(days=days_ago), corrects_id=corrects_id).id


def test_due_this_week_and_overdue_under_a_90_day_policy(released, ctx_for, db, world):
    ctx = ctx_for(Role.case_manager, "a")
    overdue = released("Overdue Ten", 100)
    escalated = released("Overdue Forty", 130)
    due_soon = released("Due In Seven", 83)
    released("Due In Eight", 82)
    released("Recent", 30)
    visited = released("Visited Lately", 200)
    visit(ctx, visited, 20)
    corrected = released("Visit Corrected Away", 120)
    wrong = visit(ctx, corrected, 10)
    visit(ctx, corrected, 10, corrects_id=wrong, kind="core.note")  # "recorded in error"
    redated = released("Visit Redated", 150)
    mistyped = visit(ctx, redated, 5)
    visit(ctx, redated, 95, corrects_id=mistyped)  # the visit was in fact 95 days ago
    db.commit()

    rows = followups.due_and_overdue(ctx)
    assert [(r.person_name, r.overdue_days, r.escalated) for r in rows] == [
        ("Overdue Forty", 40, True),
        ("Visit Corrected Away", 30, False),  # not more than 30 days
        ("Overdue Ten", 10, False),
        ("Visit Redated", 5, False),
        ("Due In Seven", 0, False),
    ]
    by_id = {r.case_id: r for r in rows}
    assert by_id[due_soon].due_on == TODAY + timedelta(days=7) and not by_id[due_soon].overdue
    assert by_id[overdue].overdue and by_id[overdue].basis == by_id[overdue].released_on
    assert by_id[redated].basis == TODAY - timedelta(days=95)
    assert by_id[escalated].case_manager_id == ctx.user.id and by_id[escalated].case_manager_name == "Case Manager A"
    assert by_id[escalated].person_name_km == "សុខ"


def test_a_monthly_policy_for_six_months(released, ctx_for, db):
    ctx = ctx_for(Role.case_manager, "a")
    month_ago = released("A Month Ago", (TODAY - add_months(TODAY, -1)).days + 3)
    released("Three Weeks Ago", 21)
    released("Follow-up Over", (TODAY - add_months(TODAY, -7)).days)
    org = db.get(Organisation, ctx.org_id)
    org.follow_up_interval, org.follow_up_interval_unit, org.follow_up_duration_months = 1, "months", 6
    db.commit()

    rows = followups.due_and_overdue(ctx)
    assert [(r.case_id, r.overdue_days) for r in rows] == [(month_ago, 3)]
    assert rows[0].due_on == add_months(rows[0].released_on, 1)


def test_each_case_manager_sees_their_own_and_others_choose(released, client_for, world):
    admin_id = world.users[("a", Role.admin)]
    released("Mine Overdue", 100)
    released("Admin Overdue", 100, case_manager_id=admin_id)
    released("Elsewhere Overdue", 100, org="b")

    manager = client_for(Role.case_manager, "a")
    page = manager.get("/follow-ups")
    assert page.status_code == 200
    assert "Mine Overdue" in page.text and "Admin Overdue" not in page.text and "Elsewhere" not in page.text
    everyone = manager.get("/follow-ups?case_manager=all").text
    assert "Mine Overdue" in everyone and "Admin Overdue" in everyone and "Elsewhere" not in everyone

    overview = client_for(Role.viewer, "a").get("/follow-ups").text
    assert "Mine Overdue" in overview and "Admin Overdue" in overview
    only_admins = client_for(Role.admin, "a").get(f"/follow-ups?case_manager={admin_id}").text
    assert "Admin Overdue" in only_admins and "Mine Overdue" not in only_admins

    other = client_for(Role.admin, "b")
    assert "Mine Overdue" not in other.get("/follow-ups?case_manager=all").text
    assert "Mine Overdue" not in other.get(f"/follow-ups?case_manager={world.users[('a', Role.case_manager)]}").text
    assert "Mine Overdue" not in other.get("/follow-ups.csv?case_manager=all").text


def test_the_list_downloads_as_csv_and_excel(released, client_for):
    released("Sok Dara", 100)
    client = client_for(Role.case_manager, "a")
    csv = client.get("/follow-ups.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Case,") and "Sok Dara" in lines[1] and ",10," in lines[1]
    assert client_for(Role.viewer, "a").get("/follow-ups.csv").status_code == 403  # names in bulk: not the volunteer seat
    xlsx = client.get("/follow-ups.xlsx")
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.cell(2, 2).value == "Sok Dara" and sheet.cell(2, 8).value == 10


def test_escalation_goes_to_the_supervisor_or_else_to_the_admins(released, ctx_for, db, world):
    manager, officer = world.users[("a", Role.case_manager)], world.users[("a", Role.programme_officer)]
    late = released("Long Overdue", 140)
    unmanaged = released("Nobody's Case", 140, case_manager_id=None)
    released("Slightly Overdue", 100)
    to = {role: (lambda r=role: [d.case_id for d in followups.escalated_to_me(ctx_for(r, "a"))]) for role in Role}

    assert to[Role.admin]() == [late, unmanaged] and to[Role.programme_officer]() == []

    admin.set_supervisor(ctx_for(Role.admin, "a"), manager, officer)
    db.commit()
    assert to[Role.programme_officer]() == [late]
    assert to[Role.admin]() == [unmanaged]  # no case manager: the admins
    assert to[Role.case_manager]() == [] and to[Role.viewer]() == []
    assert followups.escalated_to_me(ctx_for(Role.admin, "b")) == []

    # A supervisor who leaves the staff supervises no one: back to the admins.
    admin.remove_member(ctx_for(Role.admin, "a"), officer)
    db.commit()
    assert fresh(db).get(Membership, (manager, world.org_ids["a"])).supervisor_id is None
    assert to[Role.admin]() == [late, unmanaged]


def test_the_dashboard_and_the_page_show_what_is_escalated(released, ctx_for, client_for, db, world):
    released("Long Overdue", 140)
    admin.set_supervisor(ctx_for(Role.admin, "a"), world.users[("a", Role.case_manager)], world.users[("a", Role.programme_officer)])
    db.commit()
    officer = client_for(Role.programme_officer, "a")
    dashboard = officer.get("/").text
    assert 'id="escalated"' in dashboard and "Long Overdue" in dashboard[dashboard.index('id="escalated"'):]
    page = officer.get("/follow-ups").text
    escalated = page[page.index('id="escalated"') : page.index('id="overdue"')]
    assert "Long Overdue" in escalated
    assert 'id="escalated"' not in client_for(Role.admin, "a").get("/").text  # nothing for the admins
    assert 'id="escalated"' not in client_for(Role.case_manager, "a").get("/").text


# --- the policy form and supervisors ----------------------------------------------------------------


def test_the_policy_form_refuses_numbers_out_of_range_field_by_field(client_for, db, world):
    client = client_for(Role.admin, "a")
    assert 'id="follow-up-policy"' in client.get("/admin").text
    bad = post_form(client, "/admin/follow-up-policy", {"follow_up_interval": 400, "follow_up_interval_unit": "days",
                                                         "follow_up_duration_months": 0, "follow_up_escalate_days": 366})
    assert bad.status_code == 422
    errors = field_errors(bad.text)
    assert errors["follow_up_interval"] == "Enter a whole number from 1 to 366."
    assert errors["follow_up_duration_months"] == "Enter a whole number from 1 to 120."
    assert errors["follow_up_escalate_days"] == "Enter a whole number from 1 to 365."
    months = post_form(client, "/admin/follow-up-policy", {"follow_up_interval": 30, "follow_up_interval_unit": "months",
                                                            "follow_up_duration_months": 6, "follow_up_escalate_days": 10})
    assert months.status_code == 422 and field_errors(months.text) == {"follow_up_interval": "Enter a whole number from 1 to 24."}
    typed = post_form(client, "/admin/follow-up-policy", {"follow_up_interval": "often", "follow_up_interval_unit": "weeks",
                                                           "follow_up_duration_months": 6, "follow_up_escalate_days": 10})
    assert typed.status_code == 422
    assert field_errors(typed.text) == {"follow_up_interval": "Enter a whole number.", "follow_up_interval_unit": "Choose one of the options."}
    org = fresh(db).get(Organisation, world.org_ids["a"])
    assert (org.follow_up_interval, org.follow_up_interval_unit, org.follow_up_duration_months, org.follow_up_escalate_days) == (90, "days", 36, 30)

    saved = post_form(client, "/admin/follow-up-policy", {"follow_up_interval": 1, "follow_up_interval_unit": "months",
                                                           "follow_up_duration_months": 6, "follow_up_escalate_days": 14})
    assert saved.status_code == 303
    org = fresh(db).get(Organisation, world.org_ids["a"])
    assert (org.follow_up_interval, org.follow_up_interval_unit, org.follow_up_duration_months, org.follow_up_escalate_days) == (1, "months", 6, 14)
    assert fresh(db).get(Organisation, world.org_ids["b"]).follow_up_interval == 90
    assert post_form(client_for(Role.case_manager, "a"), "/admin/follow-up-policy", {"follow_up_interval": 7}).status_code == 403


def test_a_supervisor_is_another_staff_member_of_the_organisation(client_for, ctx_for, db, world):
    client = client_for(Role.admin, "a")
    manager = world.users[("a", Role.case_manager)]
    url = f"/admin/staff/{manager}/supervisor"
    elsewhere = post_form(client, url, {"supervisor_id": world.users[("b", Role.admin)]})
    assert elsewhere.status_code == 422 and "Choose a staff member of this organisation." in elsewhere.text
    assert post_form(client, url, {"supervisor_id": manager}).status_code == 422
    assert post_form(client, url, {"supervisor_id": "x"}).status_code == 422
    assert post_form(client, f"/admin/staff/{world.users[('b', Role.viewer)]}/supervisor", {"supervisor_id": ""}).status_code == 422
    assert admin.supervisors(ctx_for(Role.admin, "a")) == {}

    officer = world.users[("a", Role.programme_officer)]
    assert post_form(client, url, {"supervisor_id": officer}).status_code == 303
    fresh(db)
    assert admin.supervisors(ctx_for(Role.admin, "a")) == {manager: officer}
    assert f'<option value="{officer}" selected>' in client.get("/admin").text
    assert post_form(client, url, {"supervisor_id": ""}).status_code == 303  # back to the admins
    fresh(db)
    assert admin.supervisors(ctx_for(Role.admin, "a")) == {}
    assert post_form(client_for(Role.case_manager, "a"), url, {"supervisor_id": officer}).status_code == 403


def test_set_policy_checks_the_interval_against_its_unit(ctx_for):
    ctx = ctx_for(Role.admin, "a")
    followups.set_policy(ctx, FollowUpPolicyIn(follow_up_interval=366, follow_up_interval_unit="days", follow_up_duration_months=120, follow_up_escalate_days=1))
    assert Policy.of(ctx.organisation) == Policy(366, "days", 120, 1)


# --- the calendar feed --------------------------------------------------------------------------------


FEED_URL = re.compile(r'value="(http[^"]+/calendar/[^"]+\.ics)"')


def make_feed(client: TestClient) -> str:
    page = post_form(client, "/follow-ups/calendar")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    found = FEED_URL.search(page.text)
    assert found, page.text
    return found.group(1)


def test_the_calendar_feed_lists_the_next_visits_without_names(app, released, client_for, ctx_for, db, world):
    ctx = ctx_for(Role.case_manager, "a")
    overdue = released("Secret Sokha", 100)
    later = released("Secret Dara", 10)
    visited = released("Secret Visited", 60)
    visit(ctx, visited, 5)
    released("Not Mine", 100, case_manager_id=world.users[("a", Role.admin)])
    db.commit()
    client = client_for(Role.case_manager, "a")
    url = make_feed(client)
    assert "Secret" not in url

    anonymous = TestClient(app)
    response = anonymous.get(url)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
    assert "Secret" not in response.text and "សុខ" not in response.text
    feed = Calendar.from_ical(response.content)
    vevents = {str(e["uid"]): e for e in feed.walk("VEVENT")}
    due = {overdue: TODAY - timedelta(days=10), later: TODAY + timedelta(days=80), visited: TODAY + timedelta(days=85)}
    assert set(vevents) == {f"follow-up-{case_id}-{day.isoformat()}@testserver.local" for case_id, day in due.items()}
    for case_id, day in due.items():
        event = vevents[f"follow-up-{case_id}-{day.isoformat()}@testserver.local"]
        assert event.decoded("dtstart") == day and event.decoded("dtend") == day + timedelta(days=1)  # all day
        assert str(event["url"]) == f"http://testserver.local/cases/{case_id}"
        assert str(case_id) in str(event["summary"])
    assert "overdue" in str(vevents[f"follow-up-{overdue}-{due[overdue].isoformat()}@testserver.local"]["summary"])
    assert anonymous.get(url).content.count(b"BEGIN:VEVENT") == 3  # same UIDs on every refresh
    row = fresh(db).scalar(select(CalendarFeed))
    assert row.last_used_at is not None and row.token_hash not in url and len(row.token_hash) == 64

    page = client.get("/follow-ups").text
    assert 'id="calendar"' in page and url not in page  # shown once only


def test_a_revoked_or_replaced_feed_answers_404(app, client_for, ctx_for, db, world):
    client = client_for(Role.case_manager, "a")
    anonymous = TestClient(app)
    first = make_feed(client)
    second = make_feed(client)
    assert anonymous.get(first).status_code == 404 and anonymous.get(second).status_code == 200
    assert post_form(client, "/follow-ups/calendar/revoke").status_code == 303
    assert anonymous.get(second).status_code == 404
    assert anonymous.get(second.removesuffix(".ics")).status_code == 404
    assert anonymous.get("/calendar/not-a-token.ics").status_code == 404

    third = make_feed(client)
    assert anonymous.get(third).status_code == 200
    admin.remove_member(ctx_for(Role.admin, "a"), world.users[("a", Role.case_manager)])
    db.commit()
    assert anonymous.get(third).status_code == 404  # no longer on the staff


def test_a_feed_shows_only_its_own_organisations_cases(app, released, client_for):
    released("Secret Sokha", 100)
    mine_in_b = released("Keo Dara", 100, org="b")
    url = make_feed(client_for(Role.case_manager, "b"))
    body = TestClient(app).get(url).content
    feed = Calendar.from_ical(body)
    assert [str(e["uid"]).split("-")[2] for e in feed.walk("VEVENT")] == [str(mine_in_b)]
    assert b"Secret" not in body and b"Keo Dara" not in body
