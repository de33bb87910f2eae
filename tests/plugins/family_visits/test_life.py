"""The whole path through the HTTP interface: settings, plan, visits paid in cash and by mobile
money, the case tab's made and missed months, the dashboard panel, and every refusal."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Case, Event, Role
from ledger.api import Account, JournalTransaction, general_book
from plugins.family_visits import services
from plugins.family_visits.models import Visit, VisitPlan, VisitSettings
from tests.conftest import post_form
from tests.plugins.family_visits.conftest import START, TODAY, counts, day_in, fresh, plan_form, refused, send, visit_form


def entry(db: Session, txn_id: int) -> dict[tuple[str, str], int]:
    txn = db.get(JournalTransaction, txn_id)
    assert txn is not None
    return {(p.account.name, p.currency): p.amount_minor for p in txn.postings}


def test_the_admin_sets_the_fund_and_the_limits(client_for, books, db: Session, world) -> None:  # noqa: ANN001
    books("a", fund=None)
    admin = client_for(Role.admin, "a")
    page = admin.get("/family-visits/settings")
    assert page.status_code == 200 and "Reintegration" in page.text
    refused(post_form(admin, "/family-visits/settings", {"fund": "Nope", "limit_usd": "10", "limit_khr": ""}), "Choose one of the options", "fund")
    refused(post_form(admin, "/family-visits/settings", {"fund": "", "limit_usd": "1.234", "limit_khr": "abc"}), "at most 2 decimal places", "limit_usd")
    refused(post_form(admin, "/family-visits/settings", {"fund": "", "limit_usd": "0", "limit_khr": ""}), "more than zero", "limit_usd")
    assert post_form(admin, "/family-visits/settings", {"fund": "Reintegration", "limit_usd": "20.50", "limit_khr": "80,000"}).status_code == 303
    row = fresh(db).get(VisitSettings, world.org_ids["a"])
    assert (row.fund_code, row.limit_usd_minor, row.limit_khr_minor) == ("Reintegration", 2050, 80000)
    for role in (Role.case_manager, Role.finance, Role.programme_officer, Role.viewer, Role.auditor):
        assert client_for(role, "a").get("/family-visits/settings").status_code == 403
        assert post_form(client_for(role, "a"), "/family-visits/settings", {"fund": ""}).status_code == 403


def test_a_plan_and_a_year_of_visits_through_the_pages(make_family, books, client_for, db: Session) -> None:  # noqa: ANN001
    books("a")
    family = make_family("a")
    manager = client_for(Role.case_manager, "a")
    form = manager.get(f"/family-visits/cases/{family.case.id}/plan")
    assert form.status_code == 200 and family.mother.name in form.text and family.spouse.name in form.text
    assert family.stranger.name not in form.text  # only linked persons are offered
    assert send(manager, f"/family-visits/cases/{family.case.id}/plan", plan_form(family)).status_code == 303
    plan = fresh(db).scalar(select(VisitPlan))
    assert (plan.starts_on, plan.currency, plan.transport_minor, plan.food_minor, plan.subsidy_minor) == (START, "KHR", 30000, 10000, 40000)
    assert {m.person_id for m in plan.members} == {family.mother.id, family.spouse.id}
    assert {m.relation for m in plan.members} == {"parent", "spouse"}
    assert db.scalar(select(Event).where(Event.kind == services.PLAN_SET)).payload["subsidy"] == "40000"

    # month -3: paid in cash; month -1: by mobile money, paid to the spouse
    assert send(manager, f"/family-visits/cases/{family.case.id}/visits", visit_form(family, day_in(3))).status_code == 303
    finance = client_for(Role.finance, "a")
    mobile = visit_form(family, day_in(1, 12), visitors=[family.mother.id, family.spouse.id], payment="mobile_money",
                        reference="WING-778812", paid_to=family.spouse.id, transport="25000", food="5000")
    assert send(finance, f"/family-visits/cases/{family.case.id}/visits", mobile).status_code == 303
    cash, wing = fresh(db).scalars(select(Visit).order_by(Visit.visited_on)).all()
    assert (cash.payment, cash.period, cash.subsidy_minor, cash.currency, cash.paid_to_id) == ("cash", START, 40000, "KHR", family.mother.id)
    assert entry(db, cash.txn_id) == {("Expenses:Programme:Family-Visits", "KHR"): 40000, ("Assets:Cash:KHR", "KHR"): -40000}
    txn = db.get(JournalTransaction, cash.txn_id)
    assert txn.meta == {"plugin": "family_visits", "case_id": family.case.id, "fund": "Reintegration", "visit_id": cash.id}
    assert txn.links == [f"visit-{cash.id}"] and txn.date == day_in(3) and txn.fund == "Reintegration"
    assert entry(db, wing.txn_id) == {("Expenses:Programme:Family-Visits", "KHR"): 30000, ("Assets:Mobile-Money:KHR", "KHR"): -30000}
    assert db.get(JournalTransaction, wing.txn_id).meta["reference"] == "WING-778812"
    assert (wing.reference, wing.paid_to_id, {v.person_id for v in wing.visitors}) == ("WING-778812", family.spouse.id, {family.mother.id, family.spouse.id})
    book = general_book(db, family.case.org_id)
    assert db.scalar(select(Account).where(Account.book_id == book.id, Account.name == "Assets:Mobile-Money:KHR")) is not None
    assert len(db.scalars(select(Event).where(Event.kind == services.VISIT_RECORDED)).all()) == 2

    # a second visit in month -1, without a subsidy, is fine
    again = visit_form(family, day_in(1, 20), payment="none", transport="", food="")
    assert send(manager, f"/family-visits/cases/{family.case.id}/visits", again).status_code == 303
    assert fresh(db).scalar(select(Visit).where(Visit.payment == "none")).txn_id is None

    # the case tab: month -3 made, -2 missed, -1 made, this month due
    tab = manager.get(f"/family-visits/cases/{family.case.id}/tab", headers={"HX-Request": "true"})
    assert tab.status_code == 200 and "<html" not in tab.text
    rows = {services.add_months(TODAY, -n).isoformat(): n for n in range(4)}
    for start, n in rows.items():
        assert f'data-period="{start}" class="state-{ {3: "made", 2: "missed", 1: "made", 0: "due"}[n] }"' in tab.text, n
    assert "Visits made: 2 · missed: 1" in tab.text
    page = manager.get(f"/family-visits/cases/{family.case.id}")
    assert page.status_code == 200 and "WING-778812" in page.text and 'id="visit-form"' in page.text
    assert manager.get(f"/family-visits/cases/{family.case.id}/tab").status_code == 200  # without htmx: a full page
    case_page = manager.get(f"/cases/{family.case.id}")
    assert "/family-visits/cases/%d/tab" % family.case.id in case_page.text


def test_the_dashboard_lists_families_not_visited_this_month(planned, client_for, db: Session) -> None:  # noqa: ANN001
    manager = client_for(Role.case_manager, "a")
    panel = manager.get("/").text
    assert 'id="family-visits-due"' in panel and f'data-case="{planned.case.id}"' in panel
    assert f'data-case="{planned.case.id}"' in manager.get("/family-visits?due=1").text
    assert send(manager, f"/family-visits/cases/{planned.case.id}/visits", visit_form(planned, TODAY)).status_code == 303
    panel = manager.get("/").text
    assert 'id="family-visits-due"' in panel and f'data-case="{planned.case.id}"' not in panel
    assert f'data-case="{planned.case.id}"' not in manager.get("/family-visits?due=1").text
    assert f'data-case="{planned.case.id}"' in manager.get("/family-visits").text
    # organisation b has not enabled the module: no panel
    assert 'id="family-visits-due"' not in client_for(Role.case_manager, "b").get("/").text


def test_refusals_of_a_plan(make_family, books, client_for, db: Session) -> None:  # noqa: ANN001
    books("a")
    family = make_family("a")
    manager = client_for(Role.case_manager, "a")
    url = f"/family-visits/cases/{family.case.id}/plan"
    before = counts(db)
    refused(send(manager, url, plan_form(family, members=[family.stranger.id])), "Only family members linked to the prisoner", "members")
    refused(send(manager, url, plan_form(family, members=[])), "Tick at least one family member", "members")
    refused(send(manager, url, plan_form(family, transport="50000", food="20000")), "above the organisation&#39;s limit", "transport")
    refused(send(manager, url, plan_form(family, transport="", food="")), "Enter the subsidy of at least one cost item", "transport")
    refused(send(manager, url, plan_form(family, transport="12.5")), "Riel are whole numbers", "transport")
    refused(send(manager, url, plan_form(family, transport="abc", starts_on="2026-13", prison="", currency="EUR")), "Enter a month as YYYY-MM", "starts_on")
    response = send(manager, url, plan_form(family, transport="abc", prison="", currency="EUR", interval_months="7"))
    for name in ("prison", "currency", "interval_months"):
        assert f'id="e-{name}"' in response.text, name
    assert counts(db) == before
    # a released prisoner gets no new plan
    case = fresh(db).get(Case, family.case.id)
    case.actual_release = TODAY - timedelta(days=3)
    db.commit()
    refused(send(manager, url, plan_form(family)), "was released on")
    assert counts(db) == before


def test_refusals_of_a_visit(planned, client_for, db: Session) -> None:  # noqa: ANN001
    family = planned
    manager = client_for(Role.case_manager, "a")
    url = f"/family-visits/cases/{family.case.id}/visits"
    assert send(manager, url, visit_form(family, day_in(2))).status_code == 303
    before = counts(db)
    # a visitor not linked to the prisoner
    refused(send(manager, url, visit_form(family, day_in(1), visitors=[family.stranger.id])), "not a family member linked to the prisoner", "visitors")
    # a second subsidy in the same month
    refused(send(manager, url, visit_form(family, day_in(2, 20))), "one subsidised visit per period", "payment")
    # above the limit without a manager's approval, or with someone who may not approve
    above = visit_form(family, day_in(1), accommodation="25000")
    refused(send(manager, url, above), "above the organisation&#39;s limit", "approved_by")
    case_manager_id = fresh(db).scalar(select(Visit.recorded_by_id))
    refused(send(manager, url, {**above, "approved_by": case_manager_id}), "administrator or programme officer", "approved_by")
    # mobile money without a reference
    refused(send(manager, url, visit_form(family, day_in(1), payment="mobile_money")), "mobile money transaction reference", "reference")
    # after release, in the future, before the plan
    case = fresh(db).get(Case, family.case.id)
    case.actual_release = day_in(1, 2)
    db.commit()
    refused(send(manager, url, visit_form(family, day_in(1, 3))), "was released on", "visited_on")
    case = fresh(db).get(Case, family.case.id)
    case.actual_release = None
    db.commit()
    refused(send(manager, url, visit_form(family, TODAY + timedelta(days=1))), "cannot be in the future", "visited_on")
    refused(send(manager, url, visit_form(family, START - timedelta(days=1))), "The plan starts in", "visited_on")
    # bad input: field-level messages, never a 500
    response = send(manager, url, visit_form(family, day_in(1), visited_on="yesterday", duration_minutes="0", transport="1.5", payment="gold", visitors=[]))
    assert response.status_code == 422
    for name in ("visited_on", "duration_minutes", "payment", "visitors"):
        assert f'id="e-{name}"' in response.text, name
    refused(send(manager, url, visit_form(family, day_in(1), visitors=["x"])), "", "visitors")
    refused(send(manager, url, visit_form(family, day_in(1), transport="", food="")), "Enter the subsidy paid", "transport")
    refused(send(manager, url, visit_form(family, day_in(1), paid_to=family.spouse.id)), "paid to one of the visitors", "paid_to")
    assert counts(db) == before
    # approved by a programme officer: paid, and the approval recorded
    officer_id = fresh(db).scalar(select(VisitSettings.updated_by_id))  # the admin who saved the settings
    assert send(manager, url, {**above, "approved_by": officer_id, "approval_note": "Overnight stay"}).status_code == 303
    visit = fresh(db).scalar(select(Visit).where(Visit.approved_by_id.is_not(None)))
    assert (visit.subsidy_minor, visit.approved_by_id, visit.approval_note) == (65000, officer_id, "Overnight stay")
    assert db.get(JournalTransaction, visit.txn_id).meta["approved_by"]
    assert db.scalar(select(Event).where(Event.kind == services.VISIT_RECORDED).order_by(Event.id.desc())).payload["approved_by_id"] == officer_id


def test_money_refusals_name_what_finance_must_do(make_family, books, client_for, db: Session, world) -> None:  # noqa: ANN001
    books("a", income="5.00", cash=("USD",))
    family = make_family("a")
    manager = client_for(Role.case_manager, "a")
    assert send(manager, f"/family-visits/cases/{family.case.id}/plan", plan_form(family)).status_code == 303
    url = f"/family-visits/cases/{family.case.id}/visits"
    before = counts(db)
    refused(send(manager, url, visit_form(family, day_in(2))), "ask finance to open it", "payment")  # no Assets:Cash:KHR
    usd = visit_form(family, day_in(2), currency="USD", transport="8.00", food="2.00")
    refused(send(manager, url, usd), "Fund Reintegration has", "transport")  # the fund holds 5 dollars
    row = fresh(db).get(VisitSettings, world.org_ids["a"])
    row.fund_code = None
    db.commit()
    refused(send(manager, url, usd), "No fund is chosen", "payment")
    assert counts(db) == before


def test_roles_that_record_and_plan(planned, client_for, db: Session) -> None:  # noqa: ANN001
    url = f"/family-visits/cases/{planned.case.id}/visits"
    for n, role in enumerate((Role.admin, Role.programme_officer, Role.finance)):
        response = send(client_for(role, "a"), url, visit_form(planned, day_in(n + 1), payment="none"))
        assert response.status_code == 303, role
    for role in (Role.viewer, Role.auditor):
        assert send(client_for(role, "a"), url, visit_form(planned, day_in(1), payment="none")).status_code == 403
    for role in (Role.finance, Role.viewer, Role.auditor):
        assert client_for(role, "a").get(f"/family-visits/cases/{planned.case.id}/plan").status_code == 403
        assert send(client_for(role, "a"), f"/family-visits/cases/{planned.case.id}/plan", plan_form(planned)).status_code == 403
    # a programme officer changes the plan (every two months); the first month stays
    response = send(client_for(Role.programme_officer, "a"), f"/family-visits/cases/{planned.case.id}/plan", plan_form(planned, interval_months="2"))
    assert response.status_code == 303
    assert fresh(db).scalar(select(VisitPlan)).interval_months == 2
    moved = plan_form(planned, starts_on=TODAY.strftime("%Y-%m"))
    refused(send(client_for(Role.programme_officer, "a"), f"/family-visits/cases/{planned.case.id}/plan", moved), "first month cannot change", "starts_on")


def test_the_list_of_plans_is_paged_with_a_fixed_number_of_queries(make_family, books, client_for, app, db: Session) -> None:  # noqa: ANN001
    """55 families with a plan: the list shows 50 (prisoners inside first, by name) and a link to
    the rest; the statements of a page do not grow with the plans."""
    from sqlalchemy import event

    books("a")
    manager = client_for(Role.case_manager, "a")
    families = []
    for n in range(55):
        family = make_family("a", f"Prisoner {n:02d}")
        assert send(manager, f"/family-visits/cases/{family.case.id}/plan", plan_form(family)).status_code == 303
        families.append(family)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        statements.append(statement)

    event.listen(app.state.engine, "before_cursor_execute", count)
    try:
        first = manager.get("/family-visits")
        at_55 = len(statements)
    finally:
        event.remove(app.state.engine, "before_cursor_execute", count)
    assert first.status_code == 200 and first.text.count('<tr data-case="') == 50
    assert 'data-case="%d"' % families[0].case.id in first.text and 'data-case="%d"' % families[54].case.id not in first.text
    assert 'href="/family-visits?page=2"' in first.text
    second = manager.get("/family-visits?page=2")
    assert second.text.count('<tr data-case="') == 5 and 'data-case="%d"' % families[54].case.id in second.text
    assert 'href="/family-visits?page=1"' in second.text and "page=3" not in second.text
    due = manager.get("/family-visits?due=1")
    assert due.text.count('<tr data-case="') == 50 and 'href="/family-visits?due=1&amp;page=2"' in due.text
    assert manager.get("/family-visits?due=1&page=2").text.count('<tr data-case="') == 5

    for n in range(10):  # more plans, with members: the page's statements stay the same
        family = make_family("a", f"Later {n:02d}")
        assert send(manager, f"/family-visits/cases/{family.case.id}/plan", plan_form(family)).status_code == 303
    statements.clear()
    event.listen(app.state.engine, "before_cursor_execute", count)
    try:
        manager.get("/family-visits")
    finally:
        event.remove(app.state.engine, "before_cursor_execute", count)
    assert len(statements) == at_55, statements
