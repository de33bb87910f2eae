"""Peer meetings through the HTTP interface: planned, attended by former prisoners and invited
family members (on the case timeline), costs paid and posted to the general book with
``plugin: community`` (exported and loaded by beancount), reversed when paid in error; then
every refusal, bad money input among them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cli import main
from core.models import Event, Role
from core.schemas import PersonLinkIn
from core.services import persons
from ledger.api import JournalTransaction
from plugins.community import services
from plugins.community.models import Attendance, Meeting, MeetingCost
from tests.plugins.community.conftest import RELEASED, TODAY, counts, fresh, refused, send

HELD = TODAY - timedelta(days=3)


def meeting_form(**extra: str) -> dict[str, str]:
    return {"held_on": HELD.isoformat(), "place": "Fresh Start office", "facilitator": "Vanna", "topic": "Finding work", "reflections": "", **extra}


def entry(db: Session, txn_id: int) -> dict[tuple[str, str], int]:
    txn = db.get(JournalTransaction, txn_id)
    assert txn is not None
    return {(p.account.name, p.currency): p.amount_minor for p in txn.postings}


def test_meeting_attendance_costs_and_the_book(make_case, books, client_for, ctx_for, db: Session, database_url: str, tmp_path: Path) -> None:
    books("a")
    case = make_case("a")
    other = make_case("a", "Chan Vuthy")
    ctx = ctx_for(Role.case_manager, "a")
    mother = persons.create_person(ctx, persons_in("Sok Mom"))
    persons.link_family(ctx, persons.get_person(ctx, case.person_id), PersonLinkIn(relative_id=mother.id, relation="parent"))
    db.commit()

    officer = client_for(Role.programme_officer, "a")
    response = send(officer, "/community/meetings", meeting_form())
    assert response.status_code == 303
    meeting = fresh(db).scalar(select(Meeting))
    assert response.headers["location"] == f"/community/meetings/{meeting.id}"
    assert (meeting.held_on, meeting.place, meeting.facilitator, meeting.topic) == (HELD, "Fresh Start office", "Vanna", "Finding work")

    # who came: two former prisoners, then the mother of one of them; reflections afterwards
    url = f"/community/meetings/{meeting.id}/attendance"
    assert send(officer, url, {"case": case.id, "reflection": "My family trusts me again"}).status_code == 303
    assert send(officer, url, {"case": other.id}).status_code == 303
    page = officer.get(f"/community/meetings/{meeting.id}")
    assert f'<option value="{mother.id}">Sok Mom (Sok Dara)</option>' in page.text
    assert send(officer, url, {"person": mother.id, "reflection": "Glad he is home"}).status_code == 303
    assert send(officer, f"/community/meetings/{meeting.id}", meeting_form(reflections="Work and family were the themes.")).status_code == 303
    rows = {a.person_id: a for a in fresh(db).scalars(select(Attendance))}
    assert rows[case.person_id].case_id == case.id and rows[case.person_id].reflection == "My family trusts me again"
    assert (rows[mother.id].case_id, rows[mother.id].family_of_case_id) == (None, case.id)
    assert db.get(Meeting, meeting.id).reflections == "Work and family were the themes."
    attended = list(db.scalars(select(Event).where(Event.kind == services.ATTENDED).order_by(Event.id)))
    assert [(e.case_id, e.occurred_on) for e in attended] == [(case.id, HELD), (other.id, HELD), (case.id, HELD)]
    assert attended[0].payload == {"meeting_id": meeting.id, "topic": "Finding work", "place": "Fresh Start office"}
    assert "Sok Mom (family)" in attended[2].summary

    # the case tab shows the meeting, the person and the family member
    manager = client_for(Role.case_manager, "a")
    tab = manager.get(f"/community/cases/{case.id}/tab", headers={"HX-Request": "true"})
    assert tab.text.count(f'data-meeting="{meeting.id}"') == 2 and "Sok Mom" in tab.text and "My family trusts me again" in tab.text
    assert "Attended a peer meeting" in manager.get(f"/cases/{case.id}").text

    # costs: refreshments in riel by the programme officer, transport in dollars by finance
    pay = f"/community/meetings/{meeting.id}/costs"
    assert send(officer, pay, {"item": "refreshments", "paid_on": HELD.isoformat(), "currency": "KHR", "amount": "45,000", "note": "Tea and cakes"}).status_code == 303
    finance = client_for(Role.finance, "a")
    assert send(finance, pay, {"item": "transport", "paid_on": HELD.isoformat(), "currency": "USD", "amount": "7.50"}).status_code == 303
    costs = {c.item: c for c in fresh(db).scalars(select(MeetingCost))}
    tea, fares = costs["refreshments"], costs["transport"]
    assert (tea.amount_minor, tea.currency, tea.paid_from, tea.fund_code) == (45000, "KHR", "Assets:Cash:KHR", None)
    assert entry(db, tea.txn_id) == {("Expenses:Programme:Community", "KHR"): 45000, ("Assets:Cash:KHR", "KHR"): -45000}
    assert entry(db, fares.txn_id) == {("Expenses:Programme:Community", "USD"): 750, ("Assets:Cash:USD", "USD"): -750}
    txn = db.get(JournalTransaction, tea.txn_id)
    assert txn.meta == {"plugin": "community", "meeting_id": meeting.id, "cost_id": tea.id, "item": "refreshments"}
    assert txn.links == [f"community-meeting-{meeting.id}"] and txn.date == HELD
    page = officer.get(f"/community/meetings/{meeting.id}")
    assert f'data-cost="{tea.id}"' in page.text and "45,000" in page.text

    # a cost paid in error is reversed by finance: the entry stays, its mirror is posted
    assert send(officer, f"/community/costs/{fares.id}/reverse", {"reversed_on": TODAY.isoformat(), "reason": "Paid twice"}).status_code == 403
    assert send(finance, f"/community/costs/{fares.id}/reverse", {"reversed_on": TODAY.isoformat(), "reason": "Paid twice"}).status_code == 303
    fares = fresh(db).get(MeetingCost, fares.id)
    assert fares.reversed and fares.reversal_reason == "Paid twice"
    assert entry(db, fares.reversal_txn_id) == {("Expenses:Programme:Community", "USD"): -750, ("Assets:Cash:USD", "USD"): 750}
    refused(send(finance, f"/community/costs/{fares.id}/reverse", {"reversed_on": TODAY.isoformat(), "reason": "again"}), "already reversed")
    assert services.cost_totals(services.costs(ctx_for(Role.viewer, "a"))) == {"KHR": services.money(45000, "KHR")}

    # the general book, exported, loads in beancount with no error; both costs carry the plugin
    from beancount import loader

    out = tmp_path / "export"
    result = CliRunner().invoke(main, ["--database-url", database_url, "ledger", "export", "--org", "org-a", "--out", str(out)])
    assert result.exit_code == 0, result.output
    (path,) = sorted(out.glob("*general*.beancount"))
    entries, errors, _options = loader.load_file(str(path))
    assert errors == []
    ours = [e for e in entries if getattr(e, "meta", {}).get("plugin") == "community"]
    originals = [e for e in ours if "reversal" not in e.tags]
    assert {(e.meta["item"], int(e.meta["meeting_id"])) for e in originals} == {("refreshments", meeting.id), ("transport", meeting.id)}
    assert all(f"community-meeting-{meeting.id}" in e.links for e in originals)
    (mirror,) = [e for e in ours if "reversal" in e.tags]
    assert f"reverses-{fares.txn_id}" in mirror.links
    for e in ours:  # balanced per currency
        totals: dict[str, object] = {}
        for posting in e.postings:
            totals[posting.units.currency] = totals.get(posting.units.currency, 0) + posting.units.number
        assert all(v == 0 for v in totals.values())


def persons_in(name: str):
    from core.schemas import PersonIn

    return PersonIn(name=name)


def test_refusals_of_attendance_and_costs(make_case, books, client_for, ctx_for, db: Session, world) -> None:
    case = make_case("a")
    inside = make_case("a", "Kim Rithy", released=None)
    later = make_case("a", "Heng Piseth", released=TODAY - timedelta(days=1))
    b_case = make_case("b", "Other Org")
    stranger = persons.create_person(ctx_for(Role.case_manager, "a"), persons_in("Keo Dara"))
    db.commit()
    officer = client_for(Role.programme_officer, "a")
    assert send(officer, "/community/meetings", meeting_form()).status_code == 303
    assert send(officer, "/community/meetings", meeting_form(held_on=(TODAY + timedelta(days=7)).isoformat(), topic="Next month")).status_code == 303
    held, planned = fresh(db).scalars(select(Meeting).order_by(Meeting.id)).all()
    url = f"/community/meetings/{held.id}/attendance"
    before = counts(db)
    refused(send(officer, url, {}), "Choose a former prisoner or a family member", "case")
    refused(send(officer, url, {"case": inside.id}), "is not released yet", "case")
    refused(send(officer, url, {"case": later.id}), "after this meeting", "case")
    refused(send(officer, url, {"case": b_case.id}), "Choose one of the options.", "case")
    refused(send(officer, url, {"person": stranger.id}), "Choose a family member of a former prisoner who attended", "person")
    refused(send(officer, f"/community/meetings/{planned.id}/attendance", {"case": case.id}), "has not taken place yet")
    refused(send(officer, "/community/meetings", meeting_form(place="", topic="")), "", "place")
    assert counts(db) == before
    assert send(officer, url, {"case": case.id}).status_code == 303
    refused(send(officer, url, {"case": case.id}), "already recorded", "case")
    refused(send(officer, f"/community/meetings/{held.id}", meeting_form(held_on=(TODAY + timedelta(days=1)).isoformat())), "cannot be in the future", "held_on")
    assert send(client_for(Role.case_manager, "a"), url, {"case": case.id}).status_code == 403  # meetings are the officers'

    # costs: no account to pay from before the settings; then bad money, a future date, a fund short
    pay = f"/community/meetings/{held.id}/costs"
    cost = {"item": "refreshments", "paid_on": HELD.isoformat(), "currency": "KHR", "amount": "40000"}
    before = counts(db)
    refused(send(officer, pay, cost), "No account to pay KHR from", "currency")
    books("a", fund=True, income="10.00")
    before = counts(db)
    refused(send(officer, pay, {**cost, "amount": "12.5"}), "Riel are whole numbers", "amount")
    refused(send(officer, pay, {**cost, "currency": "USD", "amount": "1.005"}), "at most 2 decimal places", "amount")
    refused(send(officer, pay, {**cost, "amount": "0"}), "Enter an amount more than zero", "amount")
    refused(send(officer, pay, {**cost, "amount": ""}), "Enter an amount more than zero", "amount")
    for bad in ("abc", "-5", "1e3", "99999999999999999"):
        refused(send(officer, pay, {**cost, "amount": bad}), "", "amount")
    refused(send(officer, pay, {**cost, "currency": "EUR"}), "", "currency")
    refused(send(officer, pay, {**cost, "item": "rent"}), "", "item")
    refused(send(officer, pay, {**cost, "paid_on": (TODAY + timedelta(days=1)).isoformat()}), "cannot be in the future", "paid_on")
    refused(send(officer, pay, {**cost, "currency": "USD", "amount": "20.00"}), "Fund Peer-Support has", "amount")  # the fund holds 10 USD
    assert counts(db) == before
    assert send(client_for(Role.case_manager, "a"), pay, cost).status_code == 403
    assert send(officer, pay, {**cost, "currency": "USD", "amount": "8.00"}).status_code == 303
    paid = fresh(db).scalar(select(MeetingCost))
    assert paid.fund_code == "Peer-Support" and db.get(JournalTransaction, paid.txn_id).meta["fund"] == "Peer-Support"
    assert RELEASED < TODAY and world.org_ids["a"] == paid.org_id
