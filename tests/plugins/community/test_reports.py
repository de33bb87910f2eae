"""The module's figures on known data: meetings held and attendance per month, referrals by
partner kind and outcome, the share of released people at a meeting in their first six months
(on the module's report page and as indicators of the programme dashboard, through the hooks),
and the dashboard's panel of referrals waiting more than two weeks."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from openpyxl import load_workbook
from sqlalchemy.orm import Session

from core.models import Role
from core.services import programme
from plugins.community import services
from plugins.community.schemas import AnswerIn, AttendanceIn, MeetingIn, ReferralIn
from tests.plugins.community.conftest import TODAY

M0 = TODAY.replace(day=1)


def month(back: int) -> date:
    return services.add_months(M0, -back)


def test_add_months_keeps_the_day_or_the_months_last() -> None:
    assert services.add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert services.add_months(date(2026, 3, 15), -6) == date(2025, 9, 15)
    assert services.add_months(date(2028, 2, 29), 12) == date(2029, 2, 28)


def test_meetings_attendance_share_and_indicators(make_case, ctx_for, client_for, db: Session) -> None:
    officer = ctx_for(Role.programme_officer, "a")
    # A: released 9 months ago, came 2 months after release; B: released 8 months ago, came only
    # 7 months after; C: released 10 months ago, never came; D: released 2 months ago (still in
    # their first six months: not in the share's cohort); E: released 30 months ago (outside it)
    a = make_case("a", "Sok A", released=month(9) + timedelta(days=3))
    b = make_case("a", "Sok B", released=month(8) + timedelta(days=3))
    make_case("a", "Sok C", released=month(10) + timedelta(days=3))
    d = make_case("a", "Sok D", released=month(2) + timedelta(days=3))
    e = make_case("a", "Sok E", released=month(30))

    def meeting(day: date, *cases) -> None:
        m = services.plan_meeting(officer, MeetingIn(held_on=day, place="Office", facilitator="Vanna", topic="Work"))
        for case in cases:
            services.attend(officer, m, AttendanceIn(case=case.id))

    meeting(month(7) + timedelta(days=10), a, e)  # A's first within six months
    meeting(month(7) + timedelta(days=20), a)
    meeting(month(1) + timedelta(days=10), b, d, e)  # B seven months after release; D within
    meeting(month(0) + timedelta(days=40))  # planned for next month: not held
    db.commit()

    ctx = ctx_for(Role.viewer, "a")
    first = month(11)
    assert services.meetings_by_month(ctx, first, TODAY) == {month(7): 2, month(1): 1}
    assert services.attendance_by_month(ctx, first, TODAY) == {month(7): 3, month(1): 3}
    share = services.first_six_months(ctx)
    assert (share.cohort, share.attended) == (3, 1)  # A, B, C; only A
    assert services.reached_by_month(ctx, first, TODAY) == {month(7): 1, month(1): 1}  # A, then D

    rows = {r.month: r for r in services.month_rows(ctx)}
    assert (rows[month(7)].meetings, rows[month(7)].former_prisoners, rows[month(7)].family) == (2, 3, 0)
    assert len(rows) == 12 and rows[month(0)].meetings == 0

    # the same figures on the programme dashboard, through register_report_indicators
    board = programme.dashboard(ctx_for(Role.admin, "a"))
    series = {s.key: {m: v for m, v in zip(s.months, s.values) if v} for s in board.indicators if s.key.startswith("community.")}
    assert series["community.meetings"] == {month(7): 2, month(1): 1}
    assert series["community.attendance"] == {month(7): 3, month(1): 3}
    assert series["community.reached_first_six_months"] == {month(7): 1, month(1): 1}
    assert [s.key for s in programme.dashboard(ctx_for(Role.admin, "b")).indicators] == ["training.certificates"]  # b has no community

    # the module's report page
    page = client_for(Role.viewer, "a").get("/community/reports")
    assert page.status_code == 200
    assert '<strong id="share-ratio">33.3%</strong>' in page.text and "1 of 3 people released" in page.text
    assert f'<tr data-month="{month(7).isoformat()[:7]}"><td>' in page.text
    row = page.text.split(f'<tr data-month="{month(7).isoformat()[:7]}">')[1].split("</tr>")[0]
    assert row.endswith("<td>2</td><td>3</td><td>0</td>")
    assert d.actual_release is not None

    # the same figures to take away: CSV per month, and a workbook with the share
    viewer = client_for(Role.viewer, "a")
    table = list(csv.reader(io.StringIO(viewer.get("/community/reports/months.csv").content.decode("utf-8-sig"))))
    assert table[0] == ["Month", "Meetings held", "Former prisoners", "Family members"]
    assert [month(7).isoformat()[:7], "2", "3", "0"] in table and len(table) == 13
    book = load_workbook(io.BytesIO(viewer.get("/community/reports.xlsx").content))
    assert book.sheetnames == ["Per month", "Referrals", "First six months"]
    assert [c.value for c in book["First six months"][2]][2:] == [3, 1]


def test_referrals_by_kind_and_outcome_and_the_dashboard_panel(make_case, make_partner, consent, ctx_for, client_for, db: Session) -> None:
    church = make_partner(name="Grace Church", kind="church")
    employer = make_partner(name="Mekong Motors", kind="employer")
    manager = ctx_for(Role.case_manager, "a")
    made = []
    for n, (partner, ago, steps) in enumerate([
        (church, 20, ()),  # waiting 20 days: on the panel
        (church, 15, ()),  # 15 days: on the panel
        (church, 14, ()),  # exactly two weeks: not yet
        (church, 30, ("accepted",)),  # answered: not waiting
        (employer, 40, ("accepted", "completed")),
        (employer, 25, ("declined",)),
    ]):
        case = make_case("a", f"Person {n}")
        consent(case)
        referral = services.refer(manager, case, ReferralIn(partner=partner.id, purpose="local_follow_up", referred_on=TODAY - timedelta(days=ago)))
        for step in steps:
            services.answer(manager, referral, AnswerIn(status=step, on=TODAY - timedelta(days=ago - 5), feedback="ok"))
        made.append(referral)
    db.commit()

    ctx = ctx_for(Role.viewer, "a")
    assert services.outcomes(ctx, month(11), TODAY) == {("church", "sent"): 3, ("church", "accepted"): 1, ("employer", "completed"): 1,
                                                        ("employer", "declined"): 1}
    assert [(k, c["sent"], c["accepted"], c["declined"], c["completed"], t) for k, c, t in services.outcome_table(ctx, month(11), TODAY)] == [
        ("church", 3, 1, 0, 0, 4), ("employer", 0, 0, 1, 1, 2)]
    assert [r.id for r in services.waiting(ctx)] == [made[0].id, made[1].id]

    dashboard = client_for(Role.case_manager, "a").get("/")
    assert dashboard.status_code == 200 and 'id="community-waiting"' in dashboard.text
    panel = dashboard.text.split('id="community-waiting"')[1].split("</section>")[0]
    assert f'data-referral="{made[0].id}"' in panel and f'data-referral="{made[1].id}"' in panel
    assert all(f'data-referral="{r.id}"' not in panel for r in made[2:]) and "(20 days)" in panel
    assert 'id="community-waiting"' not in client_for(Role.admin, "b").get("/").text

    report = client_for(Role.viewer, "a").get("/community/reports")
    assert report.status_code == 200
    outcomes = report.text.split('id="outcomes"')[1]
    assert '<tr data-kind="church"><td>Church</td><td data-status="sent">3</td><td data-status="accepted">1</td>' in outcomes
    assert '<tr data-kind="employer">' in outcomes and '<tr data-kind="pagoda">' not in outcomes
    home = client_for(Role.viewer, "a").get("/community")
    assert f'data-referral="{made[0].id}"' in home.text and f'data-referral="{made[3].id}"' not in home.text
