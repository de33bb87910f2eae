"""The whole path through the HTTP interface: settings, stock items and receipts, a release-day
record with a starter pack and its journal entry, the checklist and the timeline, the export
that beancount loads; then every refusal, the reversal, the low-stock warnings and the list's
CSV and Excel exports."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cli import main
from core.models import CaseStatus, Event, Role
from ledger.api import JournalTransaction, close_period, general_book
from plugins.release_support import services
from plugins.release_support.models import ChecklistStep, ReleaseRecord, StockItem, StockReceipt, SupportSettings
from tests.plugins.release_support.conftest import RELEASED, TODAY, counts, fresh, record_form, refused, send


def entry(db: Session, txn_id: int) -> dict[tuple[str, str], int]:
    txn = db.get(JournalTransaction, txn_id)
    assert txn is not None
    return {(p.account.name, p.currency): p.amount_minor for p in txn.postings}


def level(db: Session, ctx, name: str) -> services.Level:  # noqa: ANN001
    fresh(db)
    return next(lv for lv in services.levels(ctx) if lv.item.name == name)


def test_settings_stock_support_checklist_and_the_book(make_case, books, client_for, ctx_for, db: Session, world, database_url: str, tmp_path: Path) -> None:  # noqa: ANN001, PLR0915
    stock = books("a")
    case = make_case("a")
    admin = client_for(Role.admin, "a")

    # settings through the form: the soap's low-stock level with them
    page = admin.get("/release-support/settings")
    assert page.status_code == 200 and "Reintegration" in page.text and f'name="low_{stock.soap.id}"' in page.text
    form = {"fund": "Reintegration", "expense_account": "Expenses:Programme:Release-Support", "pay_from_usd": "Assets:Cash:USD",
            "pay_from_khr": "Assets:Cash:KHR", "currency": "KHR", "fare": "40000", "food_per_day": "10,000", "night_rate": "20000",
            "ceiling_usd": "100", "ceiling_khr": "400000", f"low_{stock.soap.id}": "6", f"low_{stock.net.id}": "2"}
    assert send(admin, "/release-support/settings", form).status_code == 303
    row = fresh(db).get(SupportSettings, world.org_ids["a"])
    assert (row.fund_code, row.pay_from_khr, row.fare_minor, row.food_per_day_minor, row.ceiling_usd_minor) == ("Reintegration", "Assets:Cash:KHR", 40000, 10000, 10000)
    assert db.get(StockItem, stock.soap.id).low_at == 6

    # a new item by the programme officer; receipts by finance, posted as stock
    officer = client_for(Role.programme_officer, "a")
    assert send(officer, "/release-support/stock/items", {"name": "Rice 5 kg", "unit": "bag", "currency": "KHR", "low_at": "1"}).status_code == 303
    rice = fresh(db).scalar(select(StockItem).where(StockItem.name == "Rice 5 kg"))
    finance = client_for(Role.finance, "a")
    receipt = {"item": rice.id, "received_on": (TODAY - timedelta(days=10)).isoformat(), "quantity": "3", "unit_cost": "18,000", "supplier": "Kandal rice mill", "paid_from": ""}
    assert send(finance, "/release-support/stock/receipts", receipt).status_code == 303
    more_soap = {**receipt, "item": stock.soap.id, "quantity": "10", "unit_cost": "2600", "supplier": ""}
    assert send(finance, "/release-support/stock/receipts", more_soap).status_code == 303
    bags = fresh(db).scalar(select(StockReceipt).where(StockReceipt.item_id == rice.id))
    assert (bags.quantity, bags.unit_cost_minor, bags.currency, bags.paid_from, bags.total_minor) == (3, 18000, "KHR", "Assets:Cash:KHR", 54000)
    assert entry(db, bags.txn_id) == {("Assets:Stock:Release-Packs", "KHR"): 54000, ("Assets:Cash:KHR", "KHR"): -54000}
    txn = db.get(JournalTransaction, bags.txn_id)
    assert txn.meta == {"plugin": "release_support", "receipt_id": bags.id, "supplier": "Kandal rice mill"} and txn.fund is None
    ctx = ctx_for(Role.viewer, "a")
    soap = level(db, ctx, "Soap")
    assert (soap.received, soap.on_hand, soap.value_minor, soap.average_minor) == (30, 30, 66000, 2200)  # 20 at 2,000 and 10 at 2,600

    # the release-day record: cash in riel, a starter pack in riel and dollars, one entry
    manager = client_for(Role.case_manager, "a")
    page = manager.get(f"/release-support/cases/{case.id}")
    assert page.status_code == 200 and 'id="record-form"' in page.text and f'name="qty_{rice.id}"' in page.text
    assert 'value="40000"' in page.text  # the default fare
    pack = {f"qty_{stock.soap.id}": "3", f"qty_{stock.net.id}": "1", f"qty_{rice.id}": "1"}
    assert send(manager, f"/release-support/cases/{case.id}/records", record_form(**pack)).status_code == 303
    record = fresh(db).scalar(select(ReleaseRecord))
    assert (record.given_on, record.currency, record.fare_minor, record.food_minor, record.accommodation_minor, record.cash_minor) == (
        RELEASED, "KHR", 40000, 20000, 20000, 80000)
    assert {(line.item_id, line.quantity, line.cost_minor, line.currency) for line in record.lines} == {
        (stock.soap.id, 3, 6600, "KHR"), (stock.net.id, 1, 450, "USD"), (rice.id, 1, 18000, "KHR")}
    assert record.handed_over_by_id == world.users[("a", Role.case_manager)] and record.fund_code == "Reintegration"
    assert entry(db, record.txn_id) == {
        ("Expenses:Programme:Release-Support", "KHR"): 104600, ("Expenses:Programme:Release-Support", "USD"): 450,
        ("Assets:Cash:KHR", "KHR"): -80000, ("Assets:Stock:Release-Packs", "KHR"): -24600, ("Assets:Stock:Release-Packs", "USD"): -450,
    }
    txn = db.get(JournalTransaction, record.txn_id)
    assert txn.meta == {"plugin": "release_support", "case_id": case.id, "fund": "Reintegration", "release_id": record.id}
    assert txn.links == [f"release-{record.id}"] and txn.date == RELEASED and (txn.fund, txn.case_id) == ("Reintegration", case.id)
    soap = level(db, ctx, "Soap")
    assert (soap.issued, soap.on_hand, soap.value_minor) == (3, 27, 59400)
    assert level(db, ctx, "Rice 5 kg").on_hand == 2 and level(db, ctx, "Mosquito net").on_hand == 9

    # the checklist, step by step, each on the timeline
    url = f"/release-support/cases/{case.id}/checklist"
    assert send(manager, url, {"step": "collected", "done_on": RELEASED.isoformat(), "detail": "Case manager and the mother"}).status_code == 303
    assert send(officer, url, {"step": "reached_home", "done_on": (RELEASED + timedelta(days=1)).isoformat(), "detail": "Phum Thmei"}).status_code == 303
    assert send(manager, url, {"step": "identity_card", "done_on": TODAY.isoformat(), "detail": ""}).status_code == 303
    steps = {s.step: s for s in fresh(db).scalars(select(ChecklistStep))}
    assert set(steps) == {"collected", "reached_home", "identity_card"}
    assert steps["collected"].detail == "Case manager and the mother" and steps["reached_home"].ticked_by_id == world.users[("a", Role.programme_officer)]
    kinds = [e.kind for e in db.scalars(select(Event).where(Event.case_id == case.id).order_by(Event.id))]
    assert kinds[-4:] == [services.SUPPORT_GIVEN, services.COLLECTED, services.REACHED_HOME, services.DOCUMENT_IN_HAND]
    given = db.scalar(select(Event).where(Event.kind == services.SUPPORT_GIVEN))
    assert given.payload == {"record_id": record.id, "currency": "KHR", "cash": "80000", "items": 5} and given.occurred_on == RELEASED
    timeline = manager.get(f"/cases/{case.id}")
    assert timeline.status_code == 200 and "Support given at release" in timeline.text and "Reached home" in timeline.text
    assert f"/release-support/cases/{case.id}/tab" in timeline.text

    # the case tab: a fragment for htmx, a full page without
    tab = manager.get(f"/release-support/cases/{case.id}/tab", headers={"HX-Request": "true"})
    assert tab.status_code == 200 and "<html" not in tab.text
    assert 'data-step="collected" class="done"' in tab.text and 'data-step="birth_certificate" class="open"' in tab.text
    assert f'data-record="{record.id}"' in tab.text
    assert "<html" in manager.get(f"/release-support/cases/{case.id}/tab").text
    listing = manager.get("/release-support")
    assert listing.status_code == 200 and f'data-record="{record.id}"' in listing.text and "Sok Dara" in listing.text

    # the general book, exported, loads in beancount with no error
    from beancount import loader

    out = tmp_path / "export"
    result = CliRunner().invoke(main, ["--database-url", database_url, "ledger", "export", "--org", "org-a", "--out", str(out)])
    assert result.exit_code == 0, result.output
    (path,) = sorted(out.glob("*general*.beancount"))
    entries, errors, _options = loader.load_file(str(path))
    assert errors == []
    ours = [e for e in entries if getattr(e, "meta", {}).get("plugin") == "release_support"]
    assert len(ours) == 5  # four receipts, one release
    (release,) = [e for e in ours if f"release-{record.id}" in e.links]
    assert int(release.meta["case_id"]) == case.id and release.meta.get("fund", "Reintegration") == "Reintegration"


def test_refusals_of_a_record(make_case, books, client_for, db: Session, world) -> None:  # noqa: ANN001
    stock = books("a")
    case = make_case("a")
    manager = client_for(Role.case_manager, "a")
    url = f"/release-support/cases/{case.id}/records"
    before = counts(db)
    refused(send(manager, url, record_form(**{f"qty_{stock.soap.id}": "21"})), "Only 20 bar of Soap in stock.", f"qty_{stock.soap.id}")
    refused(send(manager, url, record_form(fare="500000")), "above the organisation&#39;s ceiling", "fare")
    refused(send(manager, url, record_form(currency="USD", fare="60", food_per_day="10", night_rate="25", **{f"qty_{stock.net.id}": "1"})),
            "above the organisation&#39;s ceiling", "fare")  # 60 + 20 + 25 + 4.50 > 100 USD
    refused(send(manager, url, record_form(fare="", food_days="0", food_per_day="", nights="0", night_rate="")), "Nothing is given", "fare")
    refused(send(manager, url, record_form(food_per_day="")), "Enter the food money per day", "food_per_day")
    refused(send(manager, url, record_form(nights="0")), "Enter the number of nights", "nights")
    refused(send(manager, url, record_form(given_on=(TODAY + timedelta(days=1)).isoformat())), "cannot be in the future", "given_on")
    refused(send(manager, url, record_form(given_on=(RELEASED - timedelta(days=1)).isoformat())), "was released on", "given_on")
    refused(send(manager, url, record_form(handed_over_by=world.users[("b", Role.admin)])), "Choose a staff member", "handed_over_by")
    refused(send(manager, url, record_form(fare="12.5")), "Riel are whole numbers", "fare")
    response = send(manager, url, record_form(fare="abc", food_days="x", currency="EUR", given_on="yesterday", **{f"qty_{stock.soap.id}": "-1"}))
    assert response.status_code == 422
    for name in ("fare", "food_days", "currency", "given_on", f"qty_{stock.soap.id}"):
        assert f'id="e-{name}"' in response.text, name
    assert counts(db) == before

    # a case still inside, and a closed case
    inside = make_case("a", "Chan Vuthy", released=None)
    refused(send(manager, f"/release-support/cases/{inside.id}/records", record_form()), "not released yet", "given_on")
    closed = make_case("a", "Kim Rithy", status=CaseStatus.closed)
    refused(send(manager, f"/release-support/cases/{closed.id}/records", record_form()), "This case is closed", "given_on")
    refused(send(manager, f"/release-support/cases/{closed.id}/checklist", {"step": "collected", "done_on": RELEASED.isoformat()}), "This case is closed")
    refused(send(manager, f"/release-support/cases/{case.id}/checklist", {"step": "reached_home", "done_on": (RELEASED - timedelta(days=3)).isoformat()}),
            "was released on", "done_on")
    refused(send(manager, f"/release-support/cases/{case.id}/checklist", {"step": "passport", "done_on": "soon"}), "", "step")
    assert counts(db)[:4] == before[:4]


def test_a_restricted_fund_short_or_no_fund_refuses(make_case, books, client_for, db: Session, world) -> None:  # noqa: ANN001
    stock = books("a", income="10.00")
    case = make_case("a")
    manager = client_for(Role.case_manager, "a")
    url = f"/release-support/cases/{case.id}/records"
    before = counts(db)
    refused(send(manager, url, record_form()), "Fund Reintegration has", "fare")  # 80,000 riel = 20 USD; the fund holds 10
    assert send(manager, url, record_form(fare="10000", food_days="0", food_per_day="", nights="0", night_rate="")).status_code == 303
    row = fresh(db).get(SupportSettings, world.org_ids["a"])
    row.fund_code = None
    db.commit()
    refused(send(manager, url, record_form()), "No fund is chosen")
    assert counts(db)[0] == before[0] + 1

    # the ledger refuses after the record's rows are written (a closed period): nothing stays
    row = fresh(db).get(SupportSettings, world.org_ids["a"])
    row.fund_code = "Reintegration"
    close_period(db, general_book(db, world.org_ids["a"]), RELEASED)
    db.commit()
    before = counts(db)
    refused(send(manager, url, record_form(fare="10000", food_days="0", food_per_day="", nights="0", night_rate="", **{f"qty_{stock.soap.id}": "1"})),
            "is closed", "given_on")
    assert counts(db) == before


def test_stock_refusals_and_the_low_stock_warnings(make_case, books, client_for, db: Session) -> None:  # noqa: ANN001
    stock = books("a")
    case = make_case("a")
    finance = client_for(Role.finance, "a")
    before = counts(db)
    base = {"item": stock.soap.id, "received_on": TODAY.isoformat(), "quantity": "5", "unit_cost": "2000", "supplier": "", "paid_from": ""}
    refused(send(finance, "/release-support/stock/receipts", {**base, "unit_cost": "12.5"}), "Riel are whole numbers", "unit_cost")
    refused(send(finance, "/release-support/stock/receipts", {**base, "received_on": (TODAY + timedelta(days=1)).isoformat()}), "cannot be in the future", "received_on")
    refused(send(finance, "/release-support/stock/receipts", {**base, "paid_from": "Income:Donations:Reintegration"}), "open asset account", "paid_from")
    refused(send(finance, "/release-support/stock/receipts", {**base, "paid_from": "Assets:Cash:USD"}), "open asset account", "paid_from")
    refused(send(finance, "/release-support/stock/receipts", {**base, "quantity": "0", "unit_cost": "0"}), "", "quantity")
    refused(send(finance, "/release-support/stock/receipts", {**base, "item": "999999"}), "Choose one of the options", "item")
    refused(send(finance, "/release-support/stock/items", {"name": "soap", "unit": "bar", "currency": "KHR"}), "already an item", "name")
    refused(send(finance, "/release-support/stock/items", {"name": "", "unit": "", "currency": "EUR", "low_at": "x"}), "", "name")
    assert counts(db) == before

    # nothing low yet: no dashboard panel; eight nets given leave two, at the low level
    manager = client_for(Role.case_manager, "a")
    assert 'id="release-support-low-stock"' not in manager.get("/").text
    assert 'id="low-stock"' not in manager.get("/release-support/stock").text
    assert send(manager, f"/release-support/cases/{case.id}/records", record_form(**{f"qty_{stock.net.id}": "8"})).status_code == 303
    panel = manager.get("/").text
    assert 'id="release-support-low-stock"' in panel and f'data-item="{stock.net.id}"' in panel and f'data-item="{stock.soap.id}"' not in panel
    page = manager.get("/release-support/stock")
    assert 'id="low-stock"' in page.text and "Mosquito net: 2 net left (low at 2)" in page.text
    assert 'id="receipt-form"' not in page.text  # a case manager does not manage stock
    assert 'id="release-support-low-stock"' not in client_for(Role.case_manager, "b").get("/").text
    refused(send(manager, f"/release-support/cases/{case.id}/records", record_form(**{f"qty_{stock.net.id}": "3"})), "Only 2 net of Mosquito net in stock.")


def test_the_exports_and_a_reversal_by_finance(make_case, books, client_for, ctx_for, db: Session) -> None:  # noqa: ANN001
    stock = books("a")
    case = make_case("a")
    manager = client_for(Role.case_manager, "a")
    assert send(manager, f"/release-support/cases/{case.id}/records", record_form(**{f"qty_{stock.soap.id}": "4"})).status_code == 303
    record = fresh(db).scalar(select(ReleaseRecord))
    url = f"/release-support/records/{record.id}/reverse"

    # the list's exports
    csv = manager.get("/release-support/export.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv") and csv.text.startswith("\ufeffDate,Person")
    line = csv.text.splitlines()[1]
    assert line.startswith(f"{RELEASED.isoformat()},Sok Dara,,{case.id},KHR,40000,20000,20000,80000,4 × Soap,0.00,8000,Reintegration,")
    xlsx = manager.get("/release-support/export.xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("Date", "Person") and rows[1][1] == "Sok Dara"
    assert (rows[1][5], rows[1][8], rows[1][10], rows[1][11]) == (40000, 80000, 0, 8000)
    assert client_for(Role.case_manager, "b").get("/release-support/export.csv").status_code == 404

    # the correction
    assert 'id="reverse-' not in manager.get(f"/release-support/cases/{case.id}").text
    for role in (Role.case_manager, Role.programme_officer, Role.viewer):
        assert send(client_for(role, "a"), url, {"reversed_on": TODAY.isoformat(), "reason": "x"}).status_code == 403
    finance = client_for(Role.finance, "a")
    assert f'id="reverse-{record.id}"' in finance.get(f"/release-support/cases/{case.id}").text
    refused(send(finance, url, {"reversed_on": TODAY.isoformat(), "reason": ""}), "", "reason")
    refused(send(finance, url, {"reversed_on": (RELEASED - timedelta(days=1)).isoformat(), "reason": "Typed twice"}), "cannot be dated before", "reversed_on")
    assert send(finance, url, {"reversed_on": TODAY.isoformat(), "reason": "Typed twice"}).status_code == 303
    record = fresh(db).get(ReleaseRecord, record.id)
    assert record.reversed and record.reversed_on == TODAY and record.reversal_reason == "Typed twice"
    mirror = db.get(JournalTransaction, record.reversal_txn_id)
    assert mirror.reverses_id == record.txn_id and "reversal" in mirror.tags and mirror.meta["fund"] == "Reintegration"
    assert entry(db, record.reversal_txn_id) == {k: -v for k, v in entry(db, record.txn_id).items()}
    assert level(db, ctx_for(Role.viewer, "a"), "Soap").on_hand == 20  # back in stock
    assert db.scalar(select(Event).where(Event.kind == services.SUPPORT_REVERSED)).payload == {"record_id": record.id, "reason": "Typed twice"}
    page = finance.get(f"/release-support/cases/{case.id}")
    assert "Typed twice" in page.text and f'id="reverse-{record.id}"' not in page.text
    assert 'class="reversed"' in finance.get("/release-support").text
    refused(send(finance, url, {"reversed_on": TODAY.isoformat(), "reason": "again"}), "already reversed")


def test_roles_and_settings_refusals(make_case, books, client_for, db: Session, world) -> None:  # noqa: ANN001
    stock = books("a")
    case = make_case("a")
    url = f"/release-support/cases/{case.id}/records"
    for n, role in enumerate((Role.admin, Role.programme_officer)):
        assert send(client_for(role, "a"), url, record_form(fare=str(10000 + n))).status_code == 303, role
    for role in (Role.finance, Role.viewer, Role.auditor):
        client = client_for(role, "a")
        assert send(client, url, record_form()).status_code == 403, role
        assert send(client, f"/release-support/cases/{case.id}/checklist", {"step": "collected", "done_on": RELEASED.isoformat()}).status_code == 403
        assert client.get(f"/release-support/cases/{case.id}").status_code == 200  # everyone sees
        assert 'id="record-form"' not in client.get(f"/release-support/cases/{case.id}").text
    for role in (Role.case_manager, Role.viewer, Role.auditor):
        client = client_for(role, "a")
        assert send(client, "/release-support/stock/items", {"name": "Towel", "unit": "piece", "currency": "KHR"}).status_code == 403
        assert send(client, "/release-support/stock/receipts", {"item": stock.soap.id}).status_code == 403
    for role in (Role.case_manager, Role.programme_officer, Role.finance, Role.viewer, Role.auditor):
        assert client_for(role, "a").get("/release-support/settings").status_code == 403
        assert send(client_for(role, "a"), "/release-support/settings", {"fund": ""}).status_code == 403
    for page in ("/release-support", "/release-support/stock", "/release-support/export.csv"):
        assert client_for(Role.viewer, "a").get(page).status_code == 200

    # the settings' refusals (admin)
    admin = client_for(Role.admin, "a")
    url = "/release-support/settings"
    refused(send(admin, url, {"fund": "Nope", "currency": "KHR"}), "Choose one of the options", "fund")
    refused(send(admin, url, {"fund": "", "pay_from_khr": "Assets:Cash:USD", "currency": "KHR"}), "holds KHR", "pay_from_khr")
    refused(send(admin, url, {"fund": "", "expense_account": "Assets:Cash", "currency": "KHR"}), "expense account such as", "expense_account")
    refused(send(admin, url, {"fund": "", "currency": "USD", "fare": "1.234", "ceiling_khr": "0"}), "at most 2 decimal places", "fare")
    response = send(admin, url, {"fund": "", "currency": "KHR", "ceiling_khr": "0", f"low_{stock.soap.id}": "many"})
    assert response.status_code == 422 and 'id="e-ceiling_khr"' in response.text and f'id="e-low_{stock.soap.id}"' in response.text
    row = fresh(db).get(SupportSettings, world.org_ids["a"])
    assert (row.fund_code, row.ceiling_khr_minor) == ("Reintegration", 400000)  # unchanged


def test_a_count_in_superscript_digits_is_refused_not_a_server_error(make_case, books, client_for, db: Session) -> None:  # noqa: ANN001
    """``"²".isdigit()`` is true but ``int("²")`` fails: a starter-pack count of "²" was a 500.
    Found by tests/fuzz (docs/security.md, "Bad input"). Khmer digits are digits and count."""
    stock = books("a")
    case = make_case("a")
    manager = client_for(Role.case_manager, "a")
    url = f"/release-support/cases/{case.id}/records"
    before = counts(db)
    refused(send(manager, url, record_form(**{f"qty_{stock.soap.id}": "²"})), "Enter a whole number, zero or more.", f"qty_{stock.soap.id}")
    refused(send(manager, url, record_form(food_days="²")), "Enter a whole number", "food_days")
    assert counts(db) == before
    assert send(manager, url, record_form(**{f"qty_{stock.soap.id}": "១"})).status_code == 303


def test_the_list_of_records_is_paged(make_case, books, client_for, monkeypatch) -> None:  # noqa: ANN001
    """Newest first, a page at a time (50; 2 here), with links to the next and previous pages."""
    from plugins.release_support import routes

    books("a")
    manager = client_for(Role.case_manager, "a")
    made = []
    for n in range(3):
        case = make_case("a", f"Sok {n}")
        assert send(manager, f"/release-support/cases/{case.id}/records", record_form()).status_code == 303
        made.append(case)
    monkeypatch.setattr(routes, "PER_PAGE", 2)
    first, second = manager.get("/release-support"), manager.get("/release-support?page=2")
    shown = [[c.id for c in made if f"/release-support/cases/{c.id}" in page.text] for page in (first, second)]
    assert sorted(shown[0] + shown[1]) == [c.id for c in made] and (len(shown[0]), len(shown[1])) == (2, 1)
    assert 'href="/release-support?page=2"' in first.text and "page=0" not in first.text
    assert 'href="/release-support?page=1"' in second.text and "page=3" not in second.text
