"""A book with a chart of accounts in USD and KHR, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import Case, Person
from core.services.admin import create_organisation
from ledger.api import Book, JournalTransaction, Posting, general_book, open_account

OPENED = date(2026, 1, 1)
CHART = {
    "Assets:Bank:USD": ["USD"],
    "Assets:Cash:KHR": ["KHR"],
    "Assets:Receivable": ["USD", "KHR"],
    "Income:Donations:Fund-A": ["USD", "KHR"],
    "Expenses:Programme:Training": ["USD", "KHR"],
    "Expenses:Fees": ["USD"],
    "Equity:Opening-Balances": ["USD", "KHR"],
}


@dataclass
class Ledger:
    session: Session
    book: Book
    org_id: int
    org_slug: str
    #: a case of the organisation (entries may name only their own organisation's cases)
    case_id: int


def make_ledger(session: Session, slug: str = "org-l") -> Ledger:
    org = create_organisation(session, slug, f"Ledger test {slug}", [])
    book = general_book(session, org.id)
    for name, currencies in CHART.items():
        open_account(session, book, name, currencies, OPENED)
    person = Person(org_id=org.id, name=f"Participant of {slug}")
    session.add(person)
    session.flush()
    case = Case(org_id=org.id, person_id=person.id, opened_on=OPENED)
    session.add(case)
    session.commit()
    return Ledger(session, book, org.id, org.slug, case.id)


@pytest.fixture
def ledger(db: Session) -> Ledger:
    return make_ledger(db)


def journal_counts(session: Session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count()).select_from(JournalTransaction)),
        session.scalar(select(func.count()).select_from(Posting)),
    )
