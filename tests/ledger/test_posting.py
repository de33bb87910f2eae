"""The posting API: what it writes, and every refusal writes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from core.errors import ActionRefused
from ledger.api import (
    JournalTransaction,
    LedgerError,
    Leg,
    check_payment_accounts,
    close_account,
    close_period,
    create_book,
    credit,
    debit,
    open_account,
    payment_accounts,
    post,
    reverse,
    trial_balance,
)
from ledger.chain import GENESIS
from tests.ledger.conftest import Ledger, journal_counts

DAY = date(2026, 3, 1)


def donation(lg: Ledger, amount: str = "100.00", on: date = DAY, **kwargs) -> JournalTransaction:
    return post(
        lg.session, lg.book, on, "Donation from fund A",
        [debit("Assets:Bank:USD", D(amount), "USD"), credit("Income:Donations:Fund-A", D(amount), "USD")],
        **kwargs,
    )


def test_post_writes_signed_minor_units_and_chains(ledger: Ledger) -> None:
    t1 = donation(ledger, meta={"case_id": ledger.case_id, "grant_id": 12, "plugin": "grants"}, links=["grant-12"], tags=["donor"])
    t2 = post(
        ledger.session, ledger.book, DAY, "Cash for the course",
        [debit("Expenses:Programme:Training", D("41000"), "KHR"), credit("Assets:Cash:KHR", D("41000"), "KHR")],
    )
    ledger.session.commit()
    assert [(p.account.name, p.amount_minor, p.currency) for p in t1.postings] == [
        ("Assets:Bank:USD", 10000, "USD"),
        ("Income:Donations:Fund-A", -10000, "USD"),
    ]
    assert t1.meta == {"case_id": ledger.case_id, "grant_id": 12, "plugin": "grants"} and t1.links == ["grant-12"]
    assert (t1.seq, t1.prev_hash) == (1, GENESIS)
    assert (t2.seq, t2.prev_hash) == (2, t1.hash) and len(t2.hash) == 64
    assert trial_balance(ledger.session, ledger.book) == {"USD": 0, "KHR": 0}


def test_cross_currency_entry_balances_in_the_price_currency(ledger: Ledger) -> None:
    t = post(
        ledger.session, ledger.book, DAY, "Exchange 100 USD into riel",
        [credit("Assets:Bank:USD", D("100"), "USD", price=D("4100"), price_currency="KHR"), debit("Assets:Cash:KHR", D("410000"), "KHR")],
    )
    usd = t.postings[0]
    assert (usd.amount_minor, usd.price_rate, usd.price_currency, usd.weight_minor, usd.weight_currency) == (-10000, "4100", "KHR", -410000, "KHR")
    assert trial_balance(ledger.session, ledger.book) == {"KHR": 0}


REFUSALS = {
    "unbalanced": ([debit("Assets:Bank:USD", D("10"), "USD"), credit("Income:Donations:Fund-A", D("9.99"), "USD")], "does not balance"),
    "balanced only across currencies": ([debit("Assets:Bank:USD", D("10"), "USD"), credit("Income:Donations:Fund-A", D("10"), "KHR")], "does not balance"),
    "unknown account": ([debit("Assets:Bank:EUR", D("10"), "USD"), credit("Income:Donations:Fund-A", D("10"), "USD")], "not open"),
    "currency not allowed": ([debit("Assets:Bank:USD", D("10"), "KHR"), credit("Income:Donations:Fund-A", D("10"), "KHR")], "does not allow KHR"),
    "float": ([debit("Assets:Bank:USD", 10.0, "USD"), credit("Income:Donations:Fund-A", 10.0, "USD")], "must be a Decimal"),
    "int": ([debit("Assets:Bank:USD", 10, "USD"), credit("Income:Donations:Fund-A", 10, "USD")], "must be a Decimal"),
    "zero": ([debit("Assets:Bank:USD", D("0"), "USD"), credit("Income:Donations:Fund-A", D("0"), "USD")], "positive"),
    "negative": ([debit("Assets:Bank:USD", D("-5"), "USD"), credit("Income:Donations:Fund-A", D("-5"), "USD")], "positive"),
    "finer than a cent": ([debit("Assets:Bank:USD", D("1.005"), "USD"), credit("Income:Donations:Fund-A", D("1.005"), "USD")], "decimal places"),
    "fraction of a riel": ([debit("Assets:Cash:KHR", D("0.5"), "KHR"), credit("Income:Donations:Fund-A", D("0.5"), "KHR")], "decimal places"),
    "NaN": ([debit("Assets:Bank:USD", D("NaN"), "USD"), credit("Income:Donations:Fund-A", D("NaN"), "USD")], "finite"),
    "one leg": ([debit("Assets:Bank:USD", D("10"), "USD")], "two legs"),
    "inexact conversion": (
        [credit("Assets:Cash:KHR", D("1000"), "KHR", price=D("0.000243"), price_currency="USD"), debit("Assets:Bank:USD", D("0.24"), "USD")],
        "not a whole number",
    ),
    "bad side": ([Leg("Assets:Bank:USD", D("10"), "USD", "up"), credit("Income:Donations:Fund-A", D("10"), "USD")], "side"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refused_postings_write_nothing(ledger: Ledger, case: str) -> None:
    legs, message = REFUSALS[case]
    before = journal_counts(ledger.session)
    with pytest.raises(LedgerError, match=f"(?i){message}") as refused:
        post(ledger.session, ledger.book, DAY, "bad", legs)
    assert isinstance(refused.value, ActionRefused)
    ledger.session.commit()
    assert journal_counts(ledger.session) == before


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"meta": {"amount": 1.5}}, "metadata"),
        ({"meta": {"Bad Key": 1}}, "metadata key"),
        ({"links": ["has space"]}, "link or tag"),
        ({"payee": "two\nlines"}, "line breaks"),
        ({"flag": "x"}, "flag"),
    ],
)
def test_refused_details_write_nothing(ledger: Ledger, kwargs: dict, message: str) -> None:
    before = journal_counts(ledger.session)
    with pytest.raises(LedgerError, match=f"(?i){message}"):
        donation(ledger, **kwargs)
    ledger.session.commit()
    assert journal_counts(ledger.session) == before


def test_account_open_and_close_dates(ledger: Ledger) -> None:
    before = journal_counts(ledger.session)
    with pytest.raises(LedgerError, match="not open on 2025-12-31"):
        donation(ledger, on=date(2025, 12, 31))
    account = open_account(ledger.session, ledger.book, "Expenses:Old", ["USD"], date(2026, 1, 1))
    close_account(ledger.session, account, date(2026, 2, 1))
    with pytest.raises(LedgerError, match="not open on"):
        post(ledger.session, ledger.book, DAY, "late", [debit("Expenses:Old", D("1"), "USD"), credit("Assets:Bank:USD", D("1"), "USD")])
    assert journal_counts(ledger.session) == before
    with pytest.raises(LedgerError, match="not an account name"):
        open_account(ledger.session, ledger.book, "Cash", ["USD"], DAY)


def test_the_accounts_a_module_may_pay_from(ledger: Ledger) -> None:
    """A module's settings offer the open asset accounts of the currency, and refuse the others."""
    session, org = ledger.session, ledger.org_id
    close_account(session, open_account(session, ledger.book, "Assets:Old-Safe", ["USD"], date(2026, 1, 1)), date(2026, 2, 1))
    assert payment_accounts(session, org, "USD") == ["Assets:Bank:USD", "Assets:Receivable"]
    assert payment_accounts(session, org, "KHR", exclude=["Assets:Receivable"]) == ["Assets:Cash:KHR"]
    errors = check_payment_accounts(session, org, {"usd": ("USD", "Assets:Cash:KHR"), "khr": ("KHR", "Assets:Cash:KHR"), "old": ("USD", "Assets:Old-Safe"),
                                                   "none": ("USD", ""), "expense": ("USD", "Expenses:Fees")})
    assert set(errors) == {"usd", "old", "expense"}
    assert errors["usd"] == "Choose an open asset account of the general book that holds USD."


def test_closed_period_is_locked(ledger: Ledger) -> None:
    donation(ledger, on=date(2026, 1, 31))
    close_period(ledger.session, ledger.book, date(2026, 1, 31))
    ledger.session.commit()
    before = journal_counts(ledger.session)
    with pytest.raises(LedgerError, match="closed"):
        donation(ledger, on=date(2026, 1, 31))
    with pytest.raises(LedgerError, match="already closed"):
        close_period(ledger.session, ledger.book, date(2026, 1, 15))
    assert journal_counts(ledger.session) == before
    assert donation(ledger, on=date(2026, 2, 1)).seq == 2


def test_reversal_mirrors_and_links_the_original_once(ledger: Ledger) -> None:
    original = donation(ledger, meta={"grant_id": 3, "plugin": "grants"}, links=["grant-3"])
    rev = reverse(ledger.session, original, date(2026, 3, 2), "typed the wrong amount")
    ledger.session.commit()
    assert rev.reverses_id == original.id
    assert set(rev.links) == {"grant-3", f"reverses-{original.id}"} and "reversal" in rev.tags
    assert [p.amount_minor for p in rev.postings] == [-p.amount_minor for p in original.postings]
    assert ledger.session.get(JournalTransaction, original.id) is not None
    before = journal_counts(ledger.session)
    with pytest.raises(LedgerError, match="already reversed"):
        reverse(ledger.session, original, date(2026, 3, 3), "again")
    with pytest.raises(LedgerError, match="itself a reversal"):
        reverse(ledger.session, rev, date(2026, 3, 3), "undo the undo")
    assert journal_counts(ledger.session) == before


def test_cross_currency_reversal(ledger: Ledger) -> None:
    t = post(
        ledger.session, ledger.book, DAY, "Exchange",
        [credit("Assets:Bank:USD", D("2.50"), "USD", price=D("4100"), price_currency="KHR"), debit("Assets:Cash:KHR", D("10250"), "KHR")],
    )
    reverse(ledger.session, t, DAY, "wrong rate")
    assert trial_balance(ledger.session, ledger.book) == {"KHR": 0}


def test_books_are_separate_chains(ledger: Ledger) -> None:
    small = create_book(ledger.session, ledger.org_id, "Noodle stall", reference="grant-3")
    open_account(ledger.session, small, "Assets:Cash", ["KHR"], DAY)
    open_account(ledger.session, small, "Equity:Owner", ["KHR"], DAY)
    donation(ledger)
    t = post(ledger.session, small, DAY, "Grant received", [debit("Assets:Cash", D("400000"), "KHR"), credit("Equity:Owner", D("400000"), "KHR")])
    assert (t.seq, t.prev_hash) == (1, GENESIS)
    with pytest.raises(LedgerError, match="not open in this book"):
        post(ledger.session, small, DAY, "x", [debit("Assets:Bank:USD", D("1"), "USD"), credit("Equity:Owner", D("1"), "USD")])


def test_orm_refuses_changing_a_journal_row(ledger: Ledger) -> None:
    from ledger.models import LedgerAppendOnlyError

    t = donation(ledger)
    ledger.session.commit()
    t.narration = "changed"
    with pytest.raises(LedgerAppendOnlyError):
        ledger.session.flush()
    ledger.session.rollback()
    ledger.session.delete(ledger.session.scalar(select(JournalTransaction)))
    with pytest.raises(LedgerAppendOnlyError):
        ledger.session.flush()
