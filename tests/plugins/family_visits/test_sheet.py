"""The finance officer's monthly subsidy sheet per prison (page, Excel, PDF): who was paid
what, the references, the totals per currency; and those totals equal the ledger's for the
account and month to the riel."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import Role
from ledger.api import Account, JournalTransaction, Posting, balances, general_book
from plugins.family_visits import services
from plugins.family_visits.models import Visit
from tests.plugins.family_visits.conftest import START, day_in, plan_form, send, visit_form


def _ledger(db: Session, org_id: int, month: date) -> dict[str, int]:
    """The expense account's movement in the month, per currency, from the postings themselves."""
    book = general_book(db, org_id)
    rows = db.execute(
        select(Posting.currency, func.sum(Posting.amount_minor)).join(Account, Account.id == Posting.account_id)
        .join(JournalTransaction, JournalTransaction.id == Posting.transaction_id)
        .where(Account.book_id == book.id, Account.name == services.EXPENSE, JournalTransaction.date >= month,
               JournalTransaction.date <= services.month_end(month))
        .group_by(Posting.currency)
    ).all()
    return {currency: int(total) for currency, total in rows}


def test_the_sheet_lists_each_payment_and_its_totals_equal_the_ledger(make_family, books, client_for, db: Session, world) -> None:  # noqa: ANN001
    books("a")
    manager = client_for(Role.case_manager, "a")
    month = services.add_months(START, 1)
    sokha = make_family("a", "Sok Dara", prison="Prey Sar")
    vanna = make_family("a", "Chan Vanna", prison="Kampong Cham Provincial Prison")
    for family in (sokha, vanna):
        assert send(manager, f"/family-visits/cases/{family.case.id}/plan", plan_form(family)).status_code == 303
    on = day_in(2, 7)
    assert send(manager, f"/family-visits/cases/{sokha.case.id}/visits", visit_form(sokha, on, transport="30,001")).status_code == 303
    assert send(manager, f"/family-visits/cases/{vanna.case.id}/visits", visit_form(
        vanna, on + timedelta(days=1), payment="mobile_money", reference="WING-1", currency="USD", transport="7.35", food="2.10")).status_code == 303
    assert send(manager, f"/family-visits/cases/{vanna.case.id}/visits", visit_form(vanna, on + timedelta(days=3), payment="none")).status_code == 303
    # the months around it are not on the sheet
    assert send(manager, f"/family-visits/cases/{sokha.case.id}/visits", visit_form(sokha, day_in(3, 28))).status_code == 303
    assert send(manager, f"/family-visits/cases/{sokha.case.id}/visits", visit_form(sokha, day_in(1, 1))).status_code == 303
    assert month == on.replace(day=1)
    finance = client_for(Role.finance, "a")
    page = finance.get(f"/family-visits/sheets?month={month:%Y-%m}")
    assert page.status_code == 200
    assert "Sok Dara" in page.text and "Chan Vanna" in page.text and "WING-1" in page.text
    assert 'data-prison="Prey Sar"' in page.text and 'data-prison="Kampong Cham Provincial Prison"' in page.text
    assert 'id="sheet-mismatch"' not in page.text
    # totals: page, Excel and the ledger (balances and the postings themselves) agree to the riel
    org_id = world.org_ids["a"]
    expected = {"KHR": 40001, "USD": 945}
    assert _ledger(db, org_id, month) == expected
    book = general_book(db, org_id)
    after, before = balances(db, book, services.month_end(month)), balances(db, book, month - timedelta(days=1))
    assert {c: after.get((services.EXPENSE, c), 0) - before.get((services.EXPENSE, c), 0) for c in ("KHR", "USD")} == expected
    assert "40,001" in page.text and "9.45" in page.text
    xlsx = finance.get(f"/family-visits/sheets/sheet.xlsx?month={month:%Y-%m}")
    assert xlsx.status_code == 200 and xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    totals = {r[12]: Decimal(str(r[11])) for r in rows if r and r[0] == "Total"}
    assert totals == {"KHR": Decimal("40001"), "USD": Decimal("9.45")}
    paid = [r for r in rows[2:] if r and r[0] not in (None, "Total")]
    assert len(paid) == 2 and {r[7] for r in paid} == {None, "WING-1"}
    # one prison's sheet
    one = finance.get(f"/family-visits/sheets?month={month:%Y-%m}&prison=Prey Sar")
    assert "Sok Dara" in one.text and "Chan Vanna" not in one.text
    one_x = list(load_workbook(io.BytesIO(finance.get(f"/family-visits/sheets/sheet.xlsx?month={month:%Y-%m}&prison=Prey Sar").content)).active.iter_rows(values_only=True))
    assert {r[12]: Decimal(str(r[11])) for r in one_x if r and r[0] == "Total"} == {"KHR": Decimal("40001")}
    # the PDF (Khmer names need a Khmer font on the server: the template asks for Khmer OS)
    pdf = finance.get(f"/family-visits/sheets/sheet.pdf?month={month:%Y-%m}&lang=km")
    assert pdf.status_code in (200, 503)
    if pdf.status_code == 200:
        assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    else:
        assert 'id="pdf-unavailable"' in pdf.text
    assert finance.get("/family-visits/sheets?month=garbage").status_code == 200  # falls back to this month
    assert db.scalar(select(func.count()).select_from(Visit)) == 5
