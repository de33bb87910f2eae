"""The ledger's audit pages and forms: who may see them, what they show, refusals writing nothing."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.context import Context
from core.i18n import format_money, use_locale
from core.models import Role
from core.schemas import CaseIn, PersonIn
from core.services import cases, persons
from core.services.attachments import save_attachment
from ledger.api import (
    ClosedPeriod, attach_document, JournalTransaction, close_period, credit, debit, general_book, open_account, post, record_price, reverse,
)
from tests.conftest import post_form

VIEWERS = (Role.admin, Role.finance, Role.auditor)
OTHERS = tuple(r for r in Role if r not in VIEWERS)
D0 = date(2025, 1, 1)


@dataclass
class Books:
    book_id: int
    bank_id: int
    cash_id: int
    gift_id: int  # a plain entry, not reversed
    wrong_id: int  # reversed by reversal_id
    reversal_id: int
    case_id: int
    other_book_id: int
    other_account_id: int
    other_txn_id: int
    other_case_id: int


def _case(ctx: Context, name: str) -> int:
    person = persons.create_person(ctx, PersonIn(name=name, sex="male", province="Kandal"))
    return cases.create_case(ctx, CaseIn(person_id=person.id, case_manager_id=ctx.user.id, prison="CC1", prisoner_number="P-1")).id


def _chart(db: Session, org_id: int) -> tuple:
    book = general_book(db, org_id)
    accounts = {
        name: open_account(db, book, name, currencies, D0)
        for name, currencies in {
            "Assets:Bank:USD": ["USD"], "Assets:Cash:KHR": ["KHR"], "Income:Donations:Fund-A": ["USD", "KHR"],
            "Expenses:Programme:Training": ["USD", "KHR"],
        }.items()
    }
    return book, accounts


@pytest.fixture
def books(db: Session, world, ctx_for: Callable[..., Context]) -> Books:  # noqa: ANN001
    case_id = _case(ctx_for(Role.case_manager, "a"), "Sok Dara")
    other_case_id = _case(ctx_for(Role.case_manager, "b"), "Chan Lina")
    book, acc = _chart(db, world.org_ids["a"])
    record_price(db, world.org_ids["a"], date(2025, 2, 1), "USD", "KHR", Decimal("4100"))
    gift = post(db, book, date(2025, 2, 1), "Donor gift", [
        debit("Assets:Bank:USD", Decimal("1000.00"), "USD"), credit("Income:Donations:Fund-A", Decimal("1000.00"), "USD"),
    ], meta={"plugin": "test", "grant_id": 3}, links=["grant-3"])
    post(db, book, date(2025, 2, 2), "Change dollars to riel", [
        debit("Assets:Cash:KHR", Decimal("410000"), "KHR"),
        credit("Assets:Bank:USD", Decimal("100.00"), "USD", price=Decimal("4100"), price_currency="KHR"),
    ])
    wrong = post(db, book, date(2025, 2, 3), "Training kit", [
        debit("Expenses:Programme:Training", Decimal("20000"), "KHR"), credit("Assets:Cash:KHR", Decimal("20000"), "KHR"),
    ], meta={"case_id": case_id})
    reversal = reverse(db, wrong, date(2025, 2, 4), "Wrong case")
    close_period(db, book, date(2025, 1, 31))
    other_book, other_acc = _chart(db, world.org_ids["b"])
    other = post(db, other_book, date(2025, 2, 1), "Other organisation's gift", [
        debit("Assets:Bank:USD", Decimal("5.00"), "USD"), credit("Income:Donations:Fund-A", Decimal("5.00"), "USD"),
    ], meta={"case_id": other_case_id})
    db.commit()
    return Books(
        book.id, acc["Assets:Bank:USD"].id, acc["Assets:Cash:KHR"].id, gift.id, wrong.id, reversal.id, case_id,
        other_book.id, other_acc["Assets:Bank:USD"].id, other.id, other_case_id,
    )


def _pages(b: Books) -> list[str]:
    return [
        "/ledger", f"/ledger/books/{b.book_id}", f"/ledger/books/{b.book_id}?on=2025-02-02",
        f"/ledger/accounts/{b.bank_id}", f"/ledger/transactions/{b.wrong_id}", f"/ledger/transactions/{b.reversal_id}",
        f"/ledger/books/{b.book_id}/reversals", f"/ledger/books/{b.book_id}/periods",
        f"/ledger/books/{b.book_id}/export", f"/ledger/books/{b.book_id}/export.zip", f"/ledger/cases/{b.case_id}",
    ]


def _money(amount: str, currency: str) -> str:
    return format_money(Decimal(amount), currency)


@pytest.mark.parametrize("role", VIEWERS)
def test_finance_and_audit_roles_see_every_page_and_the_menu_item(client_for, books: Books, role: Role) -> None:  # noqa: ANN001
    client = client_for(role, "a")
    assert 'href="/ledger"' in client.get("/").text
    for url in _pages(books):
        assert client.get(url).status_code == 200, url


def test_other_roles_are_refused_and_see_no_menu_item(client_for, books: Books) -> None:  # noqa: ANN001
    for role in OTHERS:
        client = client_for(role, "a")
        assert 'href="/ledger"' not in client.get("/").text, role
        for url in _pages(books):
            assert client.get(url).status_code == 403, (role, url)


def test_another_organisations_records_answer_404(client_for, books: Books) -> None:  # noqa: ANN001
    client = client_for(Role.auditor, "a")
    for url in (
        f"/ledger/books/{books.other_book_id}", f"/ledger/accounts/{books.other_account_id}",
        f"/ledger/transactions/{books.other_txn_id}", f"/ledger/books/{books.other_book_id}/reversals",
        f"/ledger/books/{books.other_book_id}/periods", f"/ledger/books/{books.other_book_id}/export",
        f"/ledger/cases/{books.other_case_id}", "/ledger/books/999999", "/ledger/transactions/999999",
    ):
        assert client.get(url).status_code == 404, url
    finance = client_for(Role.finance, "a")
    assert post_form(finance, f"/ledger/books/{books.other_book_id}/periods", {"through": "2025-01-31"}).status_code == 404
    assert post_form(finance, f"/ledger/transactions/{books.other_txn_id}/reverse", {"date": "2025-03-01", "reason": "x"}).status_code == 404
    assert "Other organisation" not in client.get("/ledger").text


def _row(html: str, table_id: str, needle: str) -> str:
    table = html[html.index(f'id="{table_id}"') :]
    start = table.index(needle)
    return table[table.rindex("<tr", 0, start) : table.index("</tr>", start)]


def test_the_trial_balance_shows_accounts_per_currency_and_zero_totals(client_for, books: Books) -> None:  # noqa: ANN001
    client = client_for(Role.auditor, "a")
    with use_locale("en"):
        html = client.get(f"/ledger/books/{books.book_id}?on=2025-02-02").text
        assert _money("900.00", "USD") in _row(html, "trial-balance", "Assets:Bank:USD")
        assert _money("410000", "KHR") in _row(html, "trial-balance", "Assets:Cash:KHR")
        assert _money("1000.00", "USD") in _row(html, "trial-balance", "Income:Donations:Fund-A")
        assert "Expenses:Programme:Training" not in html  # posted on 3 February
        assert _money("0", "USD") in _row(html, "trial-balance", 'data-currency="USD"')
        assert _money("0", "KHR") in _row(html, "trial-balance", 'data-currency="KHR"')
        assert "Conversions" in html
        before = client.get(f"/ledger/books/{books.book_id}?on=2025-01-15").text
        assert "No entry on or before this date." in before
        assert client.get(f"/ledger/books/{books.book_id}?on=2025-02-30").status_code == 400


def test_the_journal_shows_a_running_balance_and_pages_by_fifty(client_for, db: Session, world, books: Books) -> None:  # noqa: ANN001
    book = general_book(db, world.org_ids["a"])
    for i in range(55):
        post(db, book, date(2025, 3, 1) + timedelta(days=i), f"Deposit {i}", [
            debit("Assets:Bank:USD", Decimal("1.00"), "USD"), credit("Income:Donations:Fund-A", Decimal("1.00"), "USD"),
        ])
    db.commit()
    client = client_for(Role.finance, "a")
    with use_locale("en"):
        first = client.get(f"/ledger/accounts/{books.bank_id}").text
        assert first.count('<a href="/ledger/transactions/') == 50
        assert _money("1000.00", "USD") in _row(first, "journal", "Donor gift")
        assert _money("900.00", "USD") in _row(first, "journal", "Change dollars to riel")
        assert _money("948.00", "USD") in _row(first, "journal", "Deposit 47<")
        assert "?page=2" in first
        second = client.get(f"/ledger/accounts/{books.bank_id}?page=2").text
        assert second.count('<a href="/ledger/transactions/') == 7
        assert _money("955.00", "USD") in _row(second, "journal", "Deposit 54<")
        assert "?page=3" not in second and "?page=1" in second


def test_a_transaction_shows_postings_metadata_links_hash_and_its_reversal(client_for, db: Session, books: Books) -> None:  # noqa: ANN001
    client = client_for(Role.auditor, "a")
    wrong = db.get(JournalTransaction, books.wrong_id)
    html = client.get(f"/ledger/transactions/{books.wrong_id}").text
    assert wrong.hash in html and wrong.prev_hash in html
    assert "Expenses:Programme:Training" in html and "Assets:Cash:KHR" in html
    assert f'href="/ledger/cases/{books.case_id}"' in html
    assert f'href="/ledger/transactions/{books.reversal_id}"' in html
    assert "reverse-form" not in html  # an auditor cannot reverse, and it is reversed already
    reversal = client.get(f"/ledger/transactions/{books.reversal_id}").text
    assert "^reverses-" in reversal and "#reversal" in reversal and "Wrong case" in reversal
    assert f'href="/ledger/transactions/{books.wrong_id}"' in reversal
    gift = client.get(f"/ledger/transactions/{books.gift_id}").text
    assert "^grant-3" in gift and "grant_id" in gift
    assert "reverse-form" in client_for(Role.finance, "a").get(f"/ledger/transactions/{books.gift_id}").text


def test_reversals_closed_periods_and_case_statement_lists(client_for, books: Books) -> None:  # noqa: ANN001
    client = client_for(Role.auditor, "a")
    reversals = client.get(f"/ledger/books/{books.book_id}/reversals").text
    assert "Wrong case" in _row(reversals, "reversals", f'href="/ledger/transactions/{books.reversal_id}"')
    periods = client.get(f"/ledger/books/{books.book_id}/periods").text
    assert "close-form" not in periods and "<tbody>" in periods and 'class="empty"' not in periods.split('id="periods"')[1].split("</table>")[0]
    statement = client.get(f"/ledger/cases/{books.case_id}").text
    assert "Training kit" in statement and f"/ledger/transactions/{books.reversal_id}" in statement
    assert "Donor gift" not in statement and "Sok Dara" in statement
    tab = client.get(f"/ledger/cases/{books.case_id}", headers={"HX-Request": "true"}).text
    assert "Training kit" in tab and "<html" not in tab


def test_the_case_page_links_to_the_case_statement(client_for, books: Books) -> None:  # noqa: ANN001
    assert f'"/ledger/cases/{books.case_id}"' in client_for(Role.admin, "a").get(f"/cases/{books.case_id}").text


def test_the_beancount_file_downloads_as_text(client_for, books: Books) -> None:  # noqa: ANN001
    client = client_for(Role.auditor, "a")
    response = client.get(f"/ledger/books/{books.book_id}/export")
    assert response.headers["content-type"].startswith("text/plain")
    assert re.match(rf'attachment; filename="org-a-{books.book_id}-general\.beancount"', response.headers["content-disposition"])
    assert "Donor gift" in response.text and "@ 4100 KHR" in response.text
    year = client.get(f"/ledger/books/{books.book_id}/export?year=2026")
    assert 'general-2026.beancount"' in year.headers["content-disposition"]
    assert "Balances brought forward to 2026" in year.text and "Donor gift" not in year.text
    assert client.get(f"/ledger/books/{books.book_id}/export?year=20").status_code == 422


def test_an_entry_s_invoice_shows_on_its_page_and_travels_in_the_zip(client_for, db: Session, world, books: Books) -> None:  # noqa: ANN001
    invoice = save_attachment(db, world.org_ids["a"], filename="receipt.pdf", content=b"%PDF-1.4\n%%EOF\n", plugin="core")
    attach_document(db, db.get(JournalTransaction, books.gift_id), invoice)
    db.commit()
    client = client_for(Role.auditor, "a")
    page = client.get(f"/ledger/transactions/{books.gift_id}").text
    assert f'href="{invoice.url}">receipt.pdf</a>' in page
    assert client.get(invoice.url).content == b"%PDF-1.4\n%%EOF\n"
    response = client.get(f"/ledger/books/{books.book_id}/export.zip")
    assert response.headers["content-type"] == "application/zip"
    assert f'filename="org-a-{books.book_id}-general.zip"' in response.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    book_file = f"org-a-{books.book_id}-general.beancount"
    (document_file,) = [n for n in archive.namelist() if n != book_file]
    assert document_file == f"org-a-{books.book_id}-general-documents/2025-02-01-{invoice.id}-receipt.pdf"
    assert archive.read(document_file) == b"%PDF-1.4\n%%EOF\n"
    assert f'document Assets:Bank:USD "{document_file}" ^grant-3' in archive.read(book_file).decode()
    # The book downloaded alone names no file that is not beside it.
    assert " document " not in client.get(f"/ledger/books/{books.book_id}/export").text


def _count(db: Session, model: type) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


def test_a_finance_officer_closes_a_period(client_for, db: Session, books: Books) -> None:  # noqa: ANN001
    client = client_for(Role.finance, "a")
    assert "close-form" in client.get(f"/ledger/books/{books.book_id}/periods").text
    response = post_form(client, f"/ledger/books/{books.book_id}/periods", {"through": "2025-02-28"})
    assert response.status_code == 303 and response.headers["location"] == f"/ledger/books/{books.book_id}/periods"
    assert _count(db, ClosedPeriod) == 2
    assert post_form(client_for(Role.auditor, "a"), f"/ledger/books/{books.book_id}/periods", {"through": "2025-03-31"}).status_code == 403


@pytest.mark.parametrize(
    ("through", "message"),
    [("", "YYYY-MM-DD"), ("2025-13-01", "YYYY-MM-DD"), ("2025-01-15", "already closed through 2025-01-31"), ("2999-01-01", "once it has ended")],
)
def test_a_refused_close_shows_a_field_message_and_writes_nothing(client_for, db: Session, books: Books, through: str, message: str) -> None:  # noqa: ANN001
    response = post_form(client_for(Role.finance, "a"), f"/ledger/books/{books.book_id}/periods", {"through": through})
    assert response.status_code == 422
    assert 'id="e-through"' in response.text and message in response.text
    assert _count(db, ClosedPeriod) == 1


def test_a_finance_officer_reverses_an_entry(client_for, db: Session, books: Books) -> None:  # noqa: ANN001
    client = client_for(Role.finance, "a")
    response = post_form(client, f"/ledger/transactions/{books.gift_id}/reverse", {"date": "2025-03-01", "reason": "Duplicate"})
    assert response.status_code == 303
    db.expire_all()
    reversal = db.scalar(select(JournalTransaction).where(JournalTransaction.reverses_id == books.gift_id))
    assert response.headers["location"] == f"/ledger/transactions/{reversal.id}"
    assert reversal.meta["reason"] == "Duplicate" and reversal.created_by is not None
    assert "reverse-form" not in client.get(f"/ledger/transactions/{books.gift_id}").text


@pytest.mark.parametrize(
    ("txn", "data", "field", "message"),
    [
        ("gift_id", {"date": "2025-03-01", "reason": "  "}, "reason", "Give the reason"),
        ("gift_id", {"date": "", "reason": "Duplicate"}, "date", "YYYY-MM-DD"),
        ("gift_id", {"date": "2025-01-31", "reason": "Duplicate"}, "date", "before the entry it reverses"),
        ("wrong_id", {"date": "2025-03-01", "reason": "Again"}, "__all__", "already reversed"),
        ("reversal_id", {"date": "2025-03-01", "reason": "Again"}, "__all__", "itself a reversal"),
    ],
)
def test_a_refused_reversal_shows_a_message_and_writes_nothing(client_for, db: Session, books: Books, txn: str, data: dict, field: str, message: str) -> None:  # noqa: ANN001
    before = _count(db, JournalTransaction)
    response = post_form(client_for(Role.finance, "a"), f"/ledger/transactions/{getattr(books, txn)}/reverse", data)
    assert response.status_code == 422 and message in response.text
    if field != "__all__":
        assert f'id="e-{field}"' in response.text
    assert _count(db, JournalTransaction) == before


def test_a_reversal_into_a_closed_period_is_refused(client_for, db: Session, world, books: Books) -> None:  # noqa: ANN001
    close_period(db, general_book(db, world.org_ids["a"]), date(2025, 2, 28))
    db.commit()
    before = _count(db, JournalTransaction)
    response = post_form(client_for(Role.admin, "a"), f"/ledger/transactions/{books.gift_id}/reverse", {"date": "2025-02-15", "reason": "Late"})
    assert response.status_code == 422 and 'id="e-date"' in response.text and "is closed" in response.text
    assert _count(db, JournalTransaction) == before


def test_the_pages_render_in_khmer(client_for, books: Books) -> None:  # noqa: ANN001
    client = client_for(Role.finance, "a")
    assert post_form(client, "/language", {"locale": "km", "next": "/"}).status_code == 303
    for url in _pages(books):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "%(" not in response.text, url
    assert "តុល្យភាពសាកល្បង" in client.get(f"/ledger/books/{books.book_id}").text
