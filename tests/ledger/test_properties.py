"""Property: random postings in USD and KHR always balance, and SQL agrees with beancount."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal as D

from beancount.core import realization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import Organisation
from ledger.api import JournalTransaction, Posting, balances, credit, debit, post, trial_balance
from ledger.check import load_own_text
from ledger.export import book_text
from ledger.money import from_minor
from tests.ledger.conftest import make_ledger

ACCOUNTS = {
    "USD": ["Assets:Bank:USD", "Assets:Receivable", "Income:Donations:Fund-A", "Expenses:Programme:Training", "Expenses:Fees"],
    "KHR": ["Assets:Cash:KHR", "Assets:Receivable", "Income:Donations:Fund-A", "Expenses:Programme:Training"],
}
USD_CENTS = st.integers(1, 10_000_00)
RIEL = st.integers(1, 40_000_000)


@st.composite
def single_currency(draw):  # noqa: ANN001, ANN201
    currency = draw(st.sampled_from(["USD", "KHR"]))
    amounts = draw(st.lists(USD_CENTS if currency == "USD" else RIEL, min_size=1, max_size=4))
    accounts = ACCOUNTS[currency]
    legs = [debit(draw(st.sampled_from(accounts)), from_minor(a, currency), currency) for a in amounts]
    legs.append(credit(draw(st.sampled_from(accounts)), from_minor(sum(amounts), currency), currency))
    return draw(st.permutations(legs))


@st.composite
def exchange(draw):  # noqa: ANN001, ANN201
    cents = draw(USD_CENTS)
    rate = D(draw(st.integers(3900, 4200)))
    usd = from_minor(cents, "USD")
    riel = usd * rate  # exact: cents x rate is a whole number of riel only when it is
    if riel != riel.to_integral_value():
        usd, riel = D(cents), D(cents) * rate  # whole dollars
    buy = draw(st.booleans())
    return [
        (credit if buy else debit)("Assets:Bank:USD", usd, "USD", price=rate, price_currency="KHR"),
        (debit if buy else credit)("Assets:Cash:KHR", riel.quantize(D(1)), "KHR"),
    ]


TRANSACTIONS = st.lists(st.tuples(st.integers(0, 200), st.one_of(single_currency(), single_currency(), exchange())), min_size=1, max_size=12)
_names = itertools.count()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(txns=TRANSACTIONS)
def test_random_postings_balance_and_sql_equals_beancount(db: Session, txns) -> None:  # noqa: ANN001
    lg = make_ledger(db, f"prop-{next(_names)}")
    for offset, legs in txns:
        post(db, lg.book, date(2026, 1, 1) + timedelta(days=offset), "random", legs)
    db.commit()

    # Every stored transaction balances (its weights per currency sum to zero).
    unbalanced = db.execute(
        select(Posting.transaction_id, Posting.weight_currency)
        .join(JournalTransaction, JournalTransaction.id == Posting.transaction_id)
        .where(JournalTransaction.book_id == lg.book.id)
        .group_by(Posting.transaction_id, Posting.weight_currency)
        .having(func.sum(Posting.weight_minor) != 0)
    ).all()
    assert unbalanced == []
    assert all(v == 0 for v in trial_balance(db, lg.book).values())

    sql = balances(db, lg.book)
    entries, errors, _ = load_own_text(book_text(db, lg.book))
    assert errors == []
    root = realization.realize(entries)
    real: dict[tuple[str, str], D] = {}
    for account in realization.iter_children(root):
        for position in account.balance:
            if position.units.number != 0:
                real[(account.account, position.units.currency)] = position.units.number
    assert real == {k: from_minor(v, k[1]) for k, v in sql.items() if v != 0}
    assert db.get(Organisation, lg.org_id) is not None
