"""Outcomes and the recidivism report (docs/outcomes.md): figures checked against cohorts counted
by hand, the 6-month window across month ends, Kaplan-Meier with censoring, the page, the
exports, the command line, the API and isolation between organisations."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import date

import pytest
from alembic import command
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cli import main
from core.migrate import alembic_config
from core.context import Context
from core.models import Case, CaseStatus, CloseReason, Event, Organisation, Role
from core.schemas import CaseIn, StatusChangeIn
from core.services import cases, events, outcomes
from core.services.outcomes import ReleasedCase, add_months, figures, kaplan_meier, observation
from tests.core.conftest import fresh

ON = date(2025, 6, 30)
"""The report date of the hand-counted cohorts below."""


# --- calendar months --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2024, 8, 31), 6, date(2025, 2, 28)),  # no 31 February: the month's last day
        (date(2023, 8, 31), 6, date(2024, 2, 29)),  # leap year
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2024, 7, 31), 6, date(2025, 1, 31)),
        (date(2024, 12, 15), 2, date(2025, 2, 15)),  # across the year
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 3, 10), 36, date(2027, 3, 10)),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_months_last_day(day, months, expected):
    assert add_months(day, months) == expected


def _one(released: date, reoffended_on: date | None, on: date) -> outcomes.Figures:
    return figures([ReleasedCase(1, released, None, None, None, reoffended_on)], on, "org")[0]


@pytest.mark.parametrize(
    ("released", "on", "eligible"),
    [
        (date(2023, 8, 31), date(2024, 2, 28), 0),  # 6 months end on 29 Feb 2024 (leap year)
        (date(2023, 8, 31), date(2024, 2, 29), 1),
        (date(2024, 8, 31), date(2025, 2, 27), 0),
        (date(2024, 8, 31), date(2025, 2, 28), 1),  # 31 Aug + 6 months = 28 Feb
        (date(2024, 1, 15), date(2024, 7, 14), 0),
        (date(2024, 1, 15), date(2024, 7, 15), 1),
    ],
)
def test_eligible_for_the_6_month_rate_from_6_calendar_months_after_release(released, on, eligible):
    row = _one(released, None, on)
    assert (row.released, row.eligible_6m, row.rate_6m) == (1, eligible, 0.0 if eligible else None)


@pytest.mark.parametrize(
    ("released", "reoffended_on", "within"),
    [
        (date(2023, 8, 31), date(2024, 2, 29), 1),  # the last day of the window counts
        (date(2023, 8, 31), date(2024, 3, 1), 0),
        (date(2024, 8, 31), date(2025, 2, 28), 1),
        (date(2024, 8, 31), date(2025, 3, 1), 0),
        (date(2024, 8, 31), date(2024, 8, 31), 1),  # on the day of release
    ],
)
def test_a_re_offence_on_the_last_day_of_the_6_months_is_within_them(released, reoffended_on, within):
    row = _one(released, reoffended_on, date(2025, 12, 31))
    assert (row.eligible_6m, row.reoffended_6m, row.reoffended_total) == (1, within, 1)


# --- Kaplan-Meier by hand -----------------------------------------------------------------------


def test_kaplan_meier_by_hand_with_censoring_and_ties():
    # Ten people: (days, re-offended?). At day 181 one re-offends and one is censored: the event
    # comes first, so the censored person is still at risk on day 181.
    observations = [(45, False), (50, True), (60, False), (86, True), (135, False), (181, True), (181, False), (243, False), (245, False), (245, False)]
    points = kaplan_meier(observations)
    assert [(p.t, p.at_risk, p.events, p.censored) for p in points] == [
        (0, 10, 0, 0),
        (45, 10, 0, 1),
        (50, 9, 1, 0),
        (60, 8, 0, 1),
        (86, 7, 1, 0),
        (135, 6, 0, 1),
        (181, 5, 1, 1),
        (243, 3, 0, 1),
        (245, 2, 0, 2),
    ]
    # S(50) = 8/9; S(86) = 8/9 x 6/7 = 16/21; S(181) = 16/21 x 4/5 = 64/105; censoring alone
    # never moves the curve.
    assert [p.survival for p in points] == pytest.approx([1, 1, 8 / 9, 8 / 9, 16 / 21, 16 / 21, 64 / 105, 64 / 105, 64 / 105])


def test_kaplan_meier_of_nobody_is_the_start_alone():
    assert kaplan_meier([]) == [outcomes.SurvivalPoint(0, 1.0, 0, 0, 0)]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        # Followed to the report date.
        (ReleasedCase(1, date(2025, 1, 1), None, None, None, None), (180, False)),
        # A re-offence is an event.
        (ReleasedCase(1, date(2025, 1, 1), None, None, None, date(2025, 2, 1)), (31, True)),
        # Closed for another reason: censored on the day it closed, a later re-offence unseen.
        (ReleasedCase(1, date(2025, 1, 1), None, date(2025, 1, 21), CloseReason.withdrew, None), (20, False)),
        (ReleasedCase(1, date(2025, 1, 1), None, date(2025, 1, 21), CloseReason.lost_contact, date(2025, 3, 1)), (20, False)),
        # Closed because of the re-offence: the re-offence is the event.
        (ReleasedCase(1, date(2025, 1, 1), None, date(2025, 3, 5), CloseReason.re_offended, date(2025, 3, 1)), (59, True)),
        # The follow-up period (3 months here) ends first: censored at its end.
        (ReleasedCase(1, date(2024, 11, 30), None, None, None, date(2025, 3, 15)), (90, False)),
    ],
)
def test_each_case_is_followed_until_report_date_closure_or_end_of_follow_up(case, expected):
    assert observation(case, ON, follow_up_months=3 if case.released.year == 2024 else 36) == expected


# --- hand-counted cohorts in the database --------------------------------------------------------


def _released(ctx: Context, make_person: Callable, released: date, prison: str | None, org: str = "a") -> Case:
    case = cases.create_case(ctx, CaseIn(person_id=make_person(org).id, prison=prison))
    cases.change_status(ctx, case, StatusChangeIn(status=CaseStatus.released, actual_release=released))
    return case


def _reoffence(ctx: Context, case: Case, learnt: date, stage: str, offence_date: date | None = None, **extra: object) -> Event:
    payload = {"stage": stage, "offence_date": offence_date.isoformat() if offence_date else None, **extra}
    return events.record_event(ctx, case, "core.reoffended", learnt, payload=payload)


@pytest.fixture
def cohorts(db: Session, ctx_for: Callable[..., Context], make_person: Callable) -> dict[str, Case]:
    """Ten people of organisation A released in 2024 and 2025, counted by hand on 30 June 2025.

    ====  ==========  ======  ==================================================  =====  ======  =====  ========
    who   released    prison  re-offence                                          elig.  in 6m   total  training
    ====  ==========  ======  ==================================================  =====  ======  =====  ========
    A1    2024-01-15  CC1     arrested, offence 2024-04-10 (3 months); another    yes    yes     yes    yes
                              on 2024-09-01
    A2    2024-02-01  CC1     convicted, offence 2024-10-05 (8 months)            yes    no      yes    (after)
    A3    2024-03-10  CC1     arrested 2024-05-01, corrected away                 yes    no      no     yes
    A4    2024-05-20  CC2     suspected only                                      yes    no      no
    A5    2024-08-31  CC2     charged, offence 2025-02-28 (6 months to the day)   yes    yes     yes
    A6    2024-12-31  CC2     arrested 2024-12-20, before release: ignored        yes    no      no
    B1    2025-01-10  CC1     arrested, no offence date, learnt 2025-03-01        no     -       yes
    B2    2025-02-15  CC1     none                                                no     -       no     yes
    B3    2025-03-01  -       none; closed (withdrew) 2025-04-15                  no     -       no
    B4    2025-05-01  -       offence 2025-07-15, after the report date           no     -       no
    ====  ==========  ======  ==================================================  =====  ======  =====  ========

    Plus a case not released yet, and a released case of organisation B that re-offended.
    """
    ctx = ctx_for(Role.case_manager, "a")
    c = {
        name: _released(ctx, make_person, day, prison)
        for name, day, prison in [
            ("A1", date(2024, 1, 15), "CC1"), ("A2", date(2024, 2, 1), "CC1"), ("A3", date(2024, 3, 10), "CC1"),
            ("A4", date(2024, 5, 20), "CC2"), ("A5", date(2024, 8, 31), "CC2"), ("A6", date(2024, 12, 31), "CC2"),
            ("B1", date(2025, 1, 10), "CC1"), ("B2", date(2025, 2, 15), "CC1"), ("B3", date(2025, 3, 1), None),
            ("B4", date(2025, 5, 1), None),
        ]
    }
    _reoffence(ctx, c["A1"], date(2024, 4, 20), "arrested", date(2024, 4, 10), source="police")
    _reoffence(ctx, c["A1"], date(2024, 9, 3), "charged", date(2024, 9, 1))
    _reoffence(ctx, c["A2"], date(2024, 10, 9), "convicted", date(2024, 10, 5), source="court")
    wrong = _reoffence(ctx, c["A3"], date(2024, 5, 2), "arrested", date(2024, 5, 1))
    events.record_event(ctx, c["A3"], "core.note", date(2024, 5, 9), summary="Recorded in error: it was his brother.", corrects_id=wrong.id)
    _reoffence(ctx, c["A4"], date(2024, 6, 1), "suspected", date(2024, 6, 1))
    _reoffence(ctx, c["A5"], date(2025, 3, 10), "charged", date(2025, 2, 28), source="family")
    _reoffence(ctx, c["A6"], date(2024, 12, 20), "arrested")
    _reoffence(ctx, c["B1"], date(2025, 3, 1), "arrested")
    _reoffence(ctx, c["B4"], date(2025, 7, 16), "arrested", date(2025, 7, 15))
    c["B3"].status, c["B3"].close_reason, c["B3"].closed_on = CaseStatus.closed, CloseReason.withdrew, date(2025, 4, 15)
    # Training: A1, A3 and B2 took part before the report date; A2 only after it.
    for name, day in (("A1", date(2023, 12, 1)), ("A3", date(2024, 1, 5)), ("B2", date(2025, 3, 1)), ("A2", date(2025, 8, 1))):
        db.add(Event(org_id=ctx.org_id, case_id=c[name].id, kind="training.enrolled", occurred_on=day, payload={}))
    cases.create_case(ctx, CaseIn(person_id=make_person("a").id, prison="CC1"))  # not released
    ctx_b = ctx_for(Role.case_manager, "b")
    other = _released(ctx_b, make_person, date(2024, 2, 1), "CC1", org="b")
    _reoffence(ctx_b, other, date(2024, 3, 1), "arrested", date(2024, 3, 1))
    ctx.organisation.follow_up_duration_months = 8
    db.commit()
    return c


def _rows(report: outcomes.Report) -> dict[tuple[str, str | None, str], tuple]:
    return {(r.group, r.value, r.cohort): (r.released, r.eligible_6m, r.reoffended_6m, r.reoffended_total) for r in report.rows}


def test_the_figures_match_the_cohorts_counted_by_hand(cohorts, ctx_for):
    report = outcomes.report_for(ctx_for(Role.admin, "a"), ON)
    rows = _rows(report)
    # released, eligible 6m, re-offended within 6m, re-offended in all
    assert rows[("overall", "org-a", "all")] == (10, 6, 2, 4)
    assert report.overall.rate_6m == pytest.approx(2 / 6)
    assert report.overall.rate_total == pytest.approx(4 / 10)
    assert rows[("cohort", "2024", "2024")] == (6, 6, 2, 3)
    assert rows[("cohort", "2025", "2025")] == (4, 0, 0, 1)
    assert [r.rate_6m for r in report.group("cohort")] == [pytest.approx(1 / 3), None]
    assert rows[("prison", "CC1", "all")] == (5, 3, 1, 3)
    assert rows[("prison", "CC1", "2024")] == (3, 3, 1, 2)
    assert rows[("prison", "CC1", "2025")] == (2, 0, 0, 1)
    assert rows[("prison", "CC2", "all")] == (3, 3, 1, 1)
    assert rows[("prison", None, "all")] == (2, 0, 0, 0)
    assert rows[("module:training", "participants", "all")] == (3, 2, 1, 1)
    assert rows[("module:training", "non_participants", "all")] == (7, 4, 1, 3)
    assert rows[("module:training", "participants", "2024")] == (2, 2, 1, 1)
    # Every enabled module gets its participation rows; nobody took part in grants here.
    assert "grants" in report.modules and "ledger" not in report.modules
    assert rows[("module:grants", "non_participants", "all")] == (10, 6, 2, 4)
    assert report.closed_reoffended_without_event == 0
    # The order the page and the exports use.
    assert [(r.group, r.value, r.cohort) for r in report.rows[:6]] == [
        ("overall", "org-a", "all"), ("cohort", "2024", "2024"), ("cohort", "2025", "2025"),
        ("prison", "CC1", "all"), ("prison", "CC1", "2024"), ("prison", "CC1", "2025"),
    ]


def test_the_survival_curve_matches_the_cohorts_counted_by_hand(cohorts, ctx_for):
    """Follow-up lasts 8 months in organisation A here, so A2's re-offence at 8 months and 4
    days comes after the end of follow-up (censored on day 243) although it counts in the
    overall rate; B3 is censored when it closed, the rest at the report date or the end of
    follow-up (hand-counted days in the test of :func:`kaplan_meier` above)."""
    report = outcomes.report_for(ctx_for(Role.admin, "a"), ON)
    assert [(p.t, p.at_risk, p.events, p.censored) for p in report.survival] == [
        (0, 10, 0, 0), (45, 10, 0, 1), (50, 9, 1, 0), (60, 8, 0, 1), (86, 7, 1, 0), (135, 6, 0, 1), (181, 5, 1, 1), (243, 3, 0, 1), (245, 2, 0, 2),
    ]
    assert report.survival[-1].survival == pytest.approx(64 / 105)


def test_a_report_on_an_earlier_day_counts_only_what_had_happened_by_then(cohorts, ctx_for):
    rows = _rows(outcomes.report_for(ctx_for(Role.admin, "a"), date(2024, 12, 31)))
    # Released by then: A1-A6. Eligible (released by 30 June 2024): A1-A4. Within 6 months: A1.
    # In all by then: A1, A2 (A5's offence is in 2025).
    assert rows[("overall", "org-a", "all")] == (6, 4, 1, 2)


def test_a_case_closed_as_re_offended_without_a_re_offence_event_is_pointed_out(db, ctx_for, make_person):
    ctx = ctx_for(Role.case_manager, "a")
    case = _released(ctx, make_person, date(2024, 1, 1), "CC1")
    cases.change_status(ctx, case, StatusChangeIn(status=CaseStatus.closed, close_reason=CloseReason.re_offended))
    db.commit()
    report = outcomes.report_for(ctx, ON)
    assert (report.overall.reoffended_total, report.closed_reoffended_without_event) == (0, 1)


def test_another_organisations_cases_never_count(cohorts, ctx_for):
    rows = _rows(outcomes.report_for(ctx_for(Role.admin, "b"), ON))
    assert rows[("overall", "org-b", "all")] == (1, 1, 1, 1)
    assert rows[("prison", "CC1", "all")] == (1, 1, 1, 1)
    # B enables training only: no other module's rows.
    assert {g for g, _v, _c in rows if g.startswith("module:")} == {"module:training"}


def test_one_query_whatever_the_number_of_cases(cohorts, ctx_for, db):
    statements: list[str] = []
    engine = db.get_bind()
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    sa_event.listen(engine, "before_cursor_execute", listener)
    try:
        outcomes.recidivism(db, db.get(Organisation, ctx_for(Role.admin, "a").org_id), ["grants", "training"], ON)
    finally:
        sa_event.remove(engine, "before_cursor_execute", listener)
    assert len([s for s in statements if "FROM cases" in s]) == 1


# --- recording: the API and the forms -----------------------------------------------------------


def test_a_re_offence_is_recorded_through_the_api_and_counted(api_for, db, world, make_person, ctx_for):
    ctx = ctx_for(Role.case_manager, "a")
    case = _released(ctx, make_person, date(2024, 1, 15), "CC1")
    db.commit()
    client = api_for(Role.case_manager, "a")
    body = {"kind": "core.reoffended", "occurred_on": "2024-03-02", "summary": "Told by his mother.",
            "payload": {"stage": "charged", "offence_date": "2024-02-20", "source": "family"}}
    response = client.post(f"/api/cases/{case.id}/events", json=body)
    assert response.status_code == 201, response.text
    assert (response.json()["kind"], response.json()["occurred_on"]) == ("core.reoffended", "2024-03-02")
    stored = fresh(db).scalar(select(Event).where(Event.case_id == case.id, Event.kind == "core.reoffended"))
    assert stored.payload == {"stage": "charged", "offence_date": "2024-02-20", "source": "family"}
    listed = client.get(f"/api/cases/{case.id}/events", params={"kind": "core.reoffended"}).json()["items"]
    assert [e["payload"]["stage"] for e in listed] == ["charged"]
    rows = _rows(outcomes.report_for(ctx_for(Role.admin, "a"), ON))
    assert rows[("overall", "org-a", "all")] == (1, 1, 1, 1)


@pytest.mark.parametrize(
    ("kind", "payload", "field"),
    [
        ("core.reoffence", {"stage": "arrested"}, "kind"),  # the old name is gone
        ("core.reoffended", {"stage": "rumoured"}, "payload.stage"),
        ("core.reoffended", {"stage": "arrested", "source": "horoscope"}, "payload.source"),
        ("core.reoffended", {"stage": "arrested", "offence_date": "2999-01-01"}, "payload.offence_date"),
    ],
)
def test_a_wrong_re_offence_answers_4xx_and_writes_nothing(api_for, db, make_person, ctx_for, kind, payload, field):
    ctx = ctx_for(Role.case_manager, "a")
    case = _released(ctx, make_person, date(2024, 1, 15), "CC1")
    db.commit()
    response = api_for(Role.case_manager, "a").post(f"/api/cases/{case.id}/events", json={"kind": kind, "occurred_on": "2024-03-02", "payload": payload})
    assert 400 <= response.status_code < 500
    assert field in response.text
    assert fresh(db).scalar(select(Event.id).where(Event.case_id == case.id, Event.kind.like("core.reoff%"))) is None


@pytest.mark.parametrize(
    ("payload", "stored"),
    [
        ({"place": "home", "wellbeing": "good"}, {"place": "home", "wellbeing": "good"}),  # as before
        (
            {"place": "home", "wellbeing": "good", "work": "employed", "housing": "rented", "family": "in_contact", "monthly_income": "150.50", "income_currency": "USD"},
            {"place": "home", "wellbeing": "good", "work": "employed", "housing": "rented", "family": "in_contact", "monthly_income": "150.50", "income_currency": "USD"},
        ),
        ({"place": "home", "wellbeing": "fair", "monthly_income": "400000", "income_currency": "KHR"}, {"place": "home", "wellbeing": "fair", "monthly_income": "400000", "income_currency": "KHR"}),
    ],
)
def test_outcomes_are_recorded_at_a_follow_up_visit(api_for, db, make_person, ctx_for, payload, stored):
    ctx = ctx_for(Role.case_manager, "a")
    case = _released(ctx, make_person, date(2024, 1, 15), "CC1")
    db.commit()
    response = api_for(Role.case_manager, "a").post(f"/api/cases/{case.id}/events", json={"kind": "core.follow_up_visit", "occurred_on": "2024-03-02", "payload": payload})
    assert response.status_code == 201, response.text
    assert fresh(db).scalar(select(Event.payload).where(Event.case_id == case.id, Event.kind == "core.follow_up_visit")) == stored


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"monthly_income": "150"}, "payload.income_currency"),  # an amount needs its currency
        ({"monthly_income": "-5", "income_currency": "USD"}, "payload.monthly_income"),
        ({"monthly_income": "12.345", "income_currency": "USD"}, "payload.monthly_income"),
        ({"housing": "castle"}, "payload.housing"),
        ({"family": "unknown"}, "payload.family"),
    ],
)
def test_wrong_outcomes_are_refused_at_their_field(api_for, db, make_person, ctx_for, payload, field):
    ctx = ctx_for(Role.case_manager, "a")
    case = _released(ctx, make_person, date(2024, 1, 15), "CC1")
    db.commit()
    response = api_for(Role.case_manager, "a").post(f"/api/cases/{case.id}/events", json={"kind": "core.follow_up_visit", "occurred_on": "2024-03-02", "payload": payload})
    assert 400 <= response.status_code < 500
    assert field in response.text


def test_the_follow_up_form_offers_the_outcomes_with_their_labels(client_for, db, make_person, ctx_for):
    ctx = ctx_for(Role.case_manager, "a")
    case = _released(ctx, make_person, date(2024, 1, 15), "CC1")
    db.commit()
    form = client_for(Role.case_manager, "a").get(f"/cases/{case.id}/events/new", params={"kind": "core.follow_up_visit"}).text
    for name in ("payload.housing", "payload.family", "payload.monthly_income", "payload.income_currency", "payload.work"):
        assert f'name="{name}"' in form, name
    for label in ("Shelter or temporary housing", "In contact, living apart", "US dollar (USD)"):
        assert label in form, label
    reoffence = client_for(Role.case_manager, "a").get(f"/cases/{case.id}/events/new", params={"kind": "core.reoffended"}).text
    assert 'name="payload.source"' in reoffence and "Court record" in reoffence


# --- the page and the exports -------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.admin, Role.case_manager, Role.programme_officer, Role.finance, Role.auditor])
def test_the_report_page_shows_the_figures_and_the_definitions(cohorts, client_for, role):
    client = client_for(role, "a")
    page = client.get("/reports/recidivism", params={"on": ON.isoformat()})
    assert page.status_code == 200
    html = page.text
    assert "33.3%" in html and "40.0%" in html  # 2 of 6 within 6 months; 4 of 10 in all
    assert "(2 of 6 people released 6 months or more before" in html
    assert 'id="report-prisons"' in html and "CC2" in html and "Prison not recorded" in html
    assert 'id="report-module-training"' in html and "Took part" in html
    assert "<svg" in html and 'class="curve"' in html and "style=" not in html and "<script>" not in html
    assert "How these figures are counted" in html and "31 August + 6 months" in html
    assert 'href="/reports/recidivism.csv?on=2025-06-30"' in html
    assert '<a href="/reports"' in client.get("/").text  # the menu item, to the reports index
    assert '<a href="/reports/recidivism"' in client.get("/reports").text


def test_the_report_page_is_refused_to_viewers(client_for):
    assert client_for(Role.viewer, "a").get("/reports/recidivism").status_code == 403
    assert client_for(Role.viewer, "a").get("/reports/recidivism.csv").status_code == 403
    assert '/reports"' not in client_for(Role.viewer, "a").get("/").text


def test_the_report_page_of_an_organisation_with_no_release(client_for):
    page = client_for(Role.admin, "b").get("/reports/recidivism")
    assert page.status_code == 200 and "No one has been released yet." in page.text


def test_the_report_page_of_another_organisation_shows_only_its_own(cohorts, client_for):
    html = client_for(Role.admin, "b").get("/reports/recidivism", params={"on": ON.isoformat()}).text
    assert "100.0%" in html and "(1 of 1 people released" in html and "CC2" not in html


def test_a_future_or_unreadable_date_gives_todays_report(client_for):
    client = client_for(Role.admin, "a")
    for on in ("2999-01-01", "yesterday"):
        page = client.get("/reports/recidivism", params={"on": on})
        assert page.status_code == 200
        assert f'value="{date.today().isoformat()}"' in page.text


def test_the_csv_holds_every_row(cohorts, client_for):
    response = client_for(Role.auditor, "a").get("/reports/recidivism.csv", params={"on": ON.isoformat()})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "recidivism-org-a-2025-06-30.csv" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert list(rows[0]) == list(outcomes.FIELDS)
    assert rows[0] == {"group": "overall", "value": "org-a", "cohort": "all", "released": "10", "eligible_6m": "6", "reoffended_6m": "2",
                       "rate_6m": "0.3333", "reoffended_total": "4", "rate_total": "0.4"}
    assert {"group": "cohort", "value": "2025", "cohort": "2025", "released": "4", "eligible_6m": "0", "reoffended_6m": "0",
            "rate_6m": "", "reoffended_total": "1", "rate_total": "0.25"} in rows


def test_the_workbook_holds_the_rows_the_curve_and_the_definitions(cohorts, client_for):
    response = client_for(Role.finance, "a").get("/reports/recidivism.xlsx", params={"on": ON.isoformat()})
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["recidivism", "survival", "definitions"]
    rows = list(workbook["recidivism"].iter_rows(values_only=True))
    assert rows[0] == outcomes.FIELDS
    assert rows[1] == ("overall", "org-a", "all", 10, 6, 2, 0.3333, 4, 0.4)
    survival = list(workbook["survival"].iter_rows(values_only=True))
    assert survival[0] == ("days_since_release", "survival", "at_risk", "events", "censored")
    assert survival[-1][0] == 245 and survival[-1][1] == pytest.approx(64 / 105, abs=1e-6)


# --- the command line ---------------------------------------------------------------------------


def test_the_command_prints_the_figures_as_json_csv_and_a_table(cohorts, database_url):
    def run(*args: str):  # noqa: ANN202
        result = CliRunner().invoke(main, ["--database-url", database_url, "report", "recidivism", "--org", "org-a", "--on", ON.isoformat(), *args])
        assert result.exit_code == 0, result.output
        return result.output

    rows = json.loads(run("--format", "json"))
    assert rows[0] == {"group": "overall", "value": "org-a", "cohort": "all", "released": 10, "eligible_6m": 6, "reoffended_6m": 2,
                       "rate_6m": 0.3333, "reoffended_total": 4, "rate_total": 0.4}
    assert all(set(row) == set(outcomes.FIELDS) for row in rows)
    by_key = {(r["group"], r["value"], r["cohort"]): r for r in rows}
    assert by_key[("cohort", "2025", "2025")]["rate_6m"] is None
    assert by_key[("module:training", "participants", "all")]["reoffended_6m"] == 1
    assert by_key[("prison", None, "all")]["released"] == 2
    assert run("--format", "csv").splitlines()[0] == ",".join(outcomes.FIELDS)
    table = run()
    assert "33.3%" in table and "org-a" in table
    b_rows = json.loads(CliRunner().invoke(main, ["--database-url", database_url, "report", "recidivism", "--org", "org-b", "--on", ON.isoformat(), "--format", "json"]).output)
    assert b_rows[0]["released"] == 1


def test_the_command_refuses_an_unknown_organisation(world, database_url):
    result = CliRunner().invoke(main, ["--database-url", database_url, "report", "recidivism", "--org", "nope"])
    assert result.exit_code != 0 and "no organisation 'nope'" in result.output


# --- the old event kind -------------------------------------------------------------------------


def test_the_migration_renames_recorded_re_offences(database_url, registry, make_case, db):
    """Events recorded as ``core.reoffence`` before 0003 become ``core.reoffended``."""
    case = make_case("a", released_days_ago=100)
    config = alembic_config(database_url, registry)
    command.downgrade(config, "core@0002_core_attachments")
    db.add(Event(org_id=case.org_id, case_id=case.id, kind="core.reoffence", occurred_on=date(2025, 1, 5), payload={"stage": "arrested", "offence_date": None}))
    db.commit()
    db.close()
    command.upgrade(config, "heads")
    kinds = fresh(db).scalars(select(Event.kind).where(Event.case_id == case.id, Event.kind.like("core.reoff%"))).all()
    assert kinds == ["core.reoffended"]
