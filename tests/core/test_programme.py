"""The programme dashboard (docs/programme.md): figures hand-computed for a small world, the
modules' indicators, spending by module and fund against the ledger's own balances, the page,
its downloads and its bounded number of queries."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import event as sa_event

from core.models import CaseStatus, Organisation, Role
from core.schemas import StatusChangeIn
from core.services import cases, programme
from core.services.events import record_event
from core.services.followups import add_months
from ledger.api import balances, create_fund, credit, debit, general_book, open_account, post, reverse, spending
from plugins.grants.models import Grant, Movement
from plugins.housing.models import Assessment, Repair
from plugins.release_support.models import ReleaseRecord
from plugins.training.models import Certificate, Cohort, Course, Enrolment

TODAY = date.today()
M0 = TODAY.replace(day=1)


def month(back: int) -> date:
    return add_months(M0, -back)


def released(ctx, make_case, org: str, on: date, status: CaseStatus = CaseStatus.released):  # noqa: ANN001, ANN201
    case = make_case(org)
    cases.change_status(ctx, case, StatusChangeIn(status=CaseStatus.released, actual_release=on))
    if status is CaseStatus.follow_up:
        cases.change_status(ctx, case, StatusChangeIn(status=CaseStatus.follow_up))
    ctx.session.commit()
    return case


def visit(ctx, case, on: date):  # noqa: ANN001, ANN201
    return record_event(ctx, case, "core.follow_up_visit", on, payload={"place": "home", "wellbeing": "good"})


@pytest.fixture
def small_world(db, ctx_for, make_case, world):  # noqa: ANN001, ANN201
    """Organisation "a" (policy: a visit every 30 days) with:

    * case A, released on the first day of the month 5 months back, in follow-up: a visit 10
      days before release (not counted), on day 20 (due day 30: on time), on day 55 (due day 50:
      late), on day 80 corrected away (so the visit due on day 85 is missed);
    * case B, released on the first day of the month 2 months back, no visit (due day 30: missed
      when that day has passed);
    * case C, released 14 months back (outside the twelve months);
    * two referred cases; and organisation "b"'s released case, which must never count.
    """
    org = db.get(Organisation, world.org_ids["a"])
    org.follow_up_interval, org.follow_up_interval_unit, org.follow_up_duration_months = 30, "days", 36
    db.commit()
    ctx = ctx_for(Role.case_manager, "a")
    r_a, r_b = month(5), month(2)
    a = released(ctx, make_case, "a", r_a, CaseStatus.follow_up)
    b = released(ctx, make_case, "a", r_b)
    released(ctx, make_case, "a", add_months(M0, -14))
    make_case("a")
    make_case("a")
    visit(ctx, a, r_a - timedelta(days=10))
    visit(ctx, a, r_a + timedelta(days=20))
    visit(ctx, a, r_a + timedelta(days=55))
    wrong = visit(ctx, a, r_a + timedelta(days=80))
    record_event(ctx, a, "core.correction", r_a + timedelta(days=81), summary="Recorded on the wrong case", corrects_id=wrong.id, system=True)
    db.commit()
    ctx_b = ctx_for(Role.case_manager, "b")
    released(ctx_b, make_case, "b", r_a)
    return {"a": a, "b": b, "r_a": r_a, "r_b": r_b}


def expected_on_time(w) -> dict[date, tuple[int, int]]:  # noqa: ANN001
    """``{month: (due, on time)}`` worked out by hand from the fixture's story."""
    r_a, r_b = w["r_a"], w["r_b"]
    dues = [(r_a + timedelta(days=30), 1), (r_a + timedelta(days=50), 0), (r_a + timedelta(days=85), 0), (r_b + timedelta(days=30), 0)]
    out: dict[date, tuple[int, int]] = {}
    for day, on_time in dues:
        if day > TODAY:
            continue
        due, made = out.get(day.replace(day=1), (0, 0))
        out[day.replace(day=1)] = (due + 1, made + on_time)
    return out


def test_people_releases_and_visits_on_time(small_world, ctx_for):  # noqa: ANN001
    board = programme.dashboard(ctx_for(Role.admin, "a"))
    assert board.range.months == [month(n) for n in range(11, -1, -1)]
    assert (board.pre_release, board.statuses["released"], board.statuses["follow_up"], board.statuses["closed"]) == (2, 2, 1, 0)
    releases = dict(zip(board.releases.months, board.releases.values))
    assert releases[month(5)] == 1 and releases[month(2)] == 1 and board.releases.total == 2  # C is outside, B's org never
    got = {o.month: (o.due, o.on_time) for o in board.on_time if o.due}
    assert got == expected_on_time(small_world)
    first = next(o for o in board.on_time if o.month == month(4))  # day 30 after release 5 months back
    assert first.share == Decimal(1) or first.due > 1


def test_a_range_ending_earlier_stops_at_its_last_day(small_world, ctx_for):  # noqa: ANN001
    board = programme.dashboard(ctx_for(Role.admin, "a"), month(3))
    assert board.range.end == add_months(month(3), 1) - timedelta(days=1)
    # A (5 months back) and C (14 months back) fall in these twelve months; B came after them.
    assert dict(zip(board.releases.months, board.releases.values)) == {m: int(m in (month(5), month(14))) for m in board.range.months}
    assert all(o.due == 0 for o in board.on_time if o.month > month(3))


# --- modules' indicators -------------------------------------------------------------------------


@pytest.fixture
def module_rows(db, world, make_case):  # noqa: ANN001, ANN201
    """Rows of each module written straight into its tables (the indicators count rows)."""
    org = world.org_ids["a"]
    case, other = make_case("a"), make_case("a")
    course = Course(org_id=org, trade="tailoring", title="Sewing", certifying_body="MoL", hours=100, pass_mark=50, attendance_threshold=75, location="prison")
    db.add(course)
    db.flush()
    cohort = Cohort(org_id=org, course_id=course.id, trainer="T", starts_on=month(6), ends_on=month(1), capacity=5)
    db.add(cohort)
    db.flush()
    for n, (c, issued) in enumerate([(case, month(3) + timedelta(days=2)), (other, month(3) + timedelta(days=9))]):
        enrolment = Enrolment(org_id=org, cohort_id=cohort.id, case_id=c.id, enrolled_on=month(6), status="completed")
        db.add(enrolment)
        db.flush()
        db.add(Certificate(org_id=org, enrolment_id=enrolment.id, number=f"C-{n}", verification_code="x", holder_name="H", course_title="Sewing", issued_on=issued))
    grant = Grant(org_id=org, case_id=case.id, status="approved", business_type="tailoring", description="d", expected_income_minor=1,
                  expected_income_currency="USD", contribution_minor=1, contribution_currency="USD", submitted_on=month(5), amount_minor=50000, currency="USD")
    riel = Grant(org_id=org, case_id=other.id, status="approved", business_type="tailoring", description="d", expected_income_minor=1,
                 expected_income_currency="KHR", contribution_minor=1, contribution_currency="KHR", submitted_on=month(5), amount_minor=400000, currency="KHR")
    db.add_all([grant, riel])
    db.flush()
    db.add_all([
        Movement(org_id=org, grant_id=grant.id, kind="tranche", day=month(4) + timedelta(days=1), amount_minor=30000),
        Movement(org_id=org, grant_id=grant.id, kind="purchase", day=month(2), amount_minor=20000),
        Movement(org_id=org, grant_id=grant.id, kind="repayment", day=month(1), amount_minor=5000),
        Movement(org_id=org, grant_id=riel.id, kind="tranche", day=month(2) + timedelta(days=3), amount_minor=400000),
    ])
    assessment = Assessment(org_id=org, case_id=case.id, assessed_on=month(6), roof="tin", walls="wood", floor="earth", broken="roof", urgency="high")
    db.add(assessment)
    db.flush()
    for status, done in (("completed", month(1) + timedelta(days=4)), ("completed", month(1)), ("in_progress", None)):
        db.add(Repair(org_id=org, case_id=case.id, assessment_id=assessment.id, repair_type="roof", description="r", planned_on=month(3),
                      status=status, completed_on=done, proposed_on=month(3)))
    db.add_all([
        ReleaseRecord(org_id=org, case_id=case.id, given_on=month(5), currency="KHR"),
        ReleaseRecord(org_id=org, case_id=case.id, given_on=month(4), currency="KHR"),  # the same person again: counted once
        ReleaseRecord(org_id=org, case_id=other.id, given_on=month(3), currency="KHR", reversal_txn_id=1, reversed_on=month(3)),
    ])
    db.commit()


def test_each_enabled_modules_indicator_counts_its_rows_by_month(module_rows, ctx_for):  # noqa: ANN001
    board = programme.dashboard(ctx_for(Role.admin, "a"))
    # The built-in modules' indicators (an installed third-party module, examples/schooling, adds its own).
    built_in = {"training", "grants", "family_visits", "housing", "release_support"}
    series = {s.key: dict(zip(s.months, s.values)) for s in board.indicators if s.key.split(".")[0] in built_in}
    assert {k: {m: v for m, v in s.items() if v} for k, s in series.items()} == {
        "release_support.supported": {month(5): 1},
        "training.certificates": {month(3): 2},
        "grants.disbursed": {month(4): 1, month(2): 1},
        "grants.paid_out_usd": {month(4): Decimal("300.00"), month(2): Decimal("200.00")},
        "grants.paid_out_khr": {month(2): Decimal("400000")},
        "family_visits.subsidised": {},
        "housing.repairs_completed": {month(1): 2},
    }


def test_a_disabled_modules_indicator_is_absent(module_rows, ctx_for):  # noqa: ANN001
    # Organisation "b" enables training only: its own (empty) certificates, nothing else.
    board = programme.dashboard(ctx_for(Role.admin, "b"))
    assert [s.key for s in board.indicators] == ["training.certificates"]
    assert board.indicators[0].total == 0  # "a"'s certificates are never counted for "b"


# --- spending from the ledger --------------------------------------------------------------------


@pytest.fixture
def postings(db, world):  # noqa: ANN001, ANN201
    org = world.org_ids["a"]
    book = general_book(db, org)
    opened = add_months(M0, -24)
    for name, currencies in (("Assets:Bank:USD", ["USD"]), ("Assets:Cash:KHR", ["KHR"]), ("Expenses:Programme:Grants", ["USD", "KHR"]),
                             ("Expenses:Programme:Housing", ["USD", "KHR"]), ("Expenses:Office", ["USD"])):
        open_account(db, book, name, currencies, opened)
    create_fund(db, org, "EU", "EU fund", opened)
    create_fund(db, org, "UN", "UN fund", opened)

    def pay(on: date, account: str, amount: str, currency: str, **meta: object):  # noqa: ANN202
        source = "Assets:Bank:USD" if currency == "USD" else "Assets:Cash:KHR"
        return post(db, book, on, "payment", [debit(account, Decimal(amount), currency), credit(source, Decimal(amount), currency)], meta=meta)

    pay(month(3), "Expenses:Programme:Grants", "150.00", "USD", plugin="grants", fund="EU")
    pay(month(2), "Expenses:Programme:Grants", "50.25", "USD", plugin="grants", fund="EU")
    pay(month(2), "Expenses:Programme:Grants", "40000", "KHR", plugin="grants", fund="UN")
    wrong = pay(month(1), "Expenses:Programme:Housing", "99.00", "USD", plugin="housing", fund="UN")
    reverse(db, wrong, month(1) + timedelta(days=1), "Paid twice")
    pay(month(1), "Expenses:Programme:Housing", "20.00", "USD", plugin="housing", fund="UN")
    pay(month(1), "Expenses:Office", "12.00", "USD")  # no module, no fund
    pay(add_months(M0, -20), "Expenses:Office", "1000.00", "USD")  # before the range
    db.commit()


def test_spending_by_module_and_fund_equals_the_postings_and_the_ledgers_balances(postings, db, world):  # noqa: ANN001
    org = world.org_ids["a"]
    first, last = month(11), TODAY
    rows = {(r.plugin, r.fund, r.currency): r.amount for r in spending(db, org, first, last)}
    assert rows == {
        ("grants", "EU", "USD"): Decimal("200.25"),
        ("grants", "UN", "KHR"): Decimal("40000"),
        ("housing", "UN", "USD"): Decimal("20.00"),  # the reversed payment nets out
        (None, None, "USD"): Decimal("12.00"),
    }
    # The ledger's own balances: the change in every expense account over the range.
    book = general_book(db, org)
    after, before = balances(db, book, last), balances(db, book, first - timedelta(days=1))
    for currency in ("USD", "KHR"):
        change = sum(v - before.get(k, 0) for k, v in after.items() if k[0].startswith("Expenses:") and k[1] == currency)
        total = sum(amount for (_p, _f, c), amount in rows.items() if c == currency)
        assert total == (Decimal(change) / (100 if currency == "USD" else 1))
    assert spending(db, world.org_ids["b"], first, last) == []


def test_the_page_shows_spending_per_currency(postings, client_for):  # noqa: ANN001
    html = client_for(Role.finance, "a").get("/reports/programme").text
    assert 'id="table-ledger-spending-USD"' in html and 'id="table-ledger-spending-KHR"' in html
    assert "$200.25" in html and "Grants" in html and "EU" in html


# --- the page and its downloads ------------------------------------------------------------------


def test_the_page_answers_with_charts_and_no_inline_style_or_script(small_world, module_rows, client_for):  # noqa: ANN001
    response = client_for(Role.programme_officer, "a").get("/reports/programme")
    assert response.status_code == 200, response.text[:2000]
    html = response.text
    for key in ("core-releases", "core-visits-on-time", "training-certificates", "grants-disbursed", "housing-repairs_completed"):
        assert f'id="chart-{key}"' in html, key
    assert "style=" not in html and "<script>" not in html
    assert 'id="count-cases-pre_release"><strong>4</strong>' in html  # two referred, and module_rows' two


def test_the_reports_index_lists_both_reports(client_for):  # noqa: ANN001
    html = client_for(Role.auditor, "a").get("/reports").text
    assert 'href="/reports/programme"' in html and 'href="/reports/recidivism"' in html


def test_a_viewer_is_refused(client_for, world):  # noqa: ANN001
    client = client_for(Role.viewer, "a")
    for url in ("/reports", "/reports/programme", "/reports/programme.csv", "/reports/programme.xlsx"):
        assert client.get(url).status_code == 403, url


def test_csv_and_excel_downloads_hold_the_figures(small_world, module_rows, client_for):  # noqa: ANN001
    client = client_for(Role.admin, "a")
    csv = client.get("/reports/programme.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "figure,label,period,group,subgroup,currency,value"
    assert f"core.releases,People released,{month(5).strftime('%Y-%m')},,,,1" in lines
    assert f"training.certificates,Certificates issued,{month(3).strftime('%Y-%m')},,,,2" in lines
    assert f"grants.paid_out_khr,Grant money paid out (KHR),{month(2).strftime('%Y-%m')},,,KHR,400000" in lines
    xlsx = client.get("/reports/programme.xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = [tuple(c.value for c in row) for row in sheet.iter_rows()]
    assert rows[0] == ("figure", "label", "period", "group", "subgroup", "currency", "value")
    assert ("housing.repairs_completed", "Housing repairs completed", month(1).strftime("%Y-%m"), None, None, None, 2) in rows
    assert len(rows) == len(lines)


def test_the_month_chosen_moves_the_range(small_world, client_for):  # noqa: ANN001
    client = client_for(Role.admin, "a")
    html = client.get("/reports/programme", params={"month": month(3).strftime("%Y-%m")}).text
    assert f'value="{month(3).strftime("%Y-%m")}"' in html
    assert client.get("/reports/programme", params={"month": "not a month"}).status_code == 200


# --- a bounded number of queries -----------------------------------------------------------------


def _statements(db, ctx) -> int:  # noqa: ANN001
    statements: list[str] = []
    engine = db.get_bind()
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    sa_event.listen(engine, "before_cursor_execute", listener)
    try:
        programme.dashboard(ctx)
    finally:
        sa_event.remove(engine, "before_cursor_execute", listener)
    return len(statements)


def test_the_number_of_queries_does_not_grow_with_records_or_months(small_world, module_rows, ctx_for, make_case, db):  # noqa: ANN001
    ctx = ctx_for(Role.admin, "a")
    before = _statements(db, ctx)
    for n in range(6):  # more releases, more visits, in more months
        case = released(ctx, make_case, "a", month(n + 1) + timedelta(days=n))
        visit(ctx, case, month(n + 1) + timedelta(days=n + 10))
    db.commit()
    ctx = ctx_for(Role.admin, "a")
    assert _statements(db, ctx) == before
    # Fixed: statuses, releases, 2 for visits on time, the organisation, and one per indicator and breakdown
    # (12 indicators: 7 of the first built-in modules and 5 of community).
    assert before <= 4 + 1 + 12 + 1 + 2
