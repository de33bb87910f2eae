"""The ledger's public API: what modules (plugins) import to post money movements.

Plugins import only ``core.plugin_api`` from core; the ledger is a layer of its own
(``plugins -> ledger -> core``) and this module is its public face::

    from ledger.api import credit, debit, general_book, post

    book = general_book(session, org_id)
    post(session, book, date(2026, 3, 1), "Grant tranche 1", [
        debit("Expenses:Grants:Microbusiness", Decimal("150.00"), "USD"),
        credit("Assets:Bank:USD", Decimal("150.00"), "USD"),
    ], meta={"case_id": 7, "grant_id": 12, "plugin": "grants"}, links=["grant-12"])

Charging an expense to a donor fund: put ``"fund": "<code>"`` in ``meta``, and call
``require_available(session, get_fund(session, org_id, code), amount, currency, day)`` first to
refuse spending a restricted fund does not have.

``check_org(session, org)`` exports every book of an organisation and loads it with beancount's
own loader (``homecoming ledger check``): ``{file name: [error, ...]}``, every list empty when the
books are sound.

Everything runs in the caller's transaction (flush, never commit); a refusal raises
:class:`LedgerError` (an :class:`core.errors.ActionRefused`) and writes nothing.
"""

from ledger.check import check_org
from ledger.documents import attach_document
from ledger.funds import create_fund, fund_available, get_fund, record_donor_income, require_available
from ledger.models import Account, Book, ClosedPeriod, Document, Fund, JournalTransaction, Posting, Price
from ledger.money import LedgerError, amount_input, check_amount, from_minor, to_minor
from ledger.posting import (
    Leg,
    close_account,
    close_period,
    create_book,
    credit,
    debit,
    ensure_account,
    find_account,
    general_book,
    open_account,
    payment_accounts,
    check_payment_accounts,
    post,
    record_price,
    reverse,
)
from ledger.rates import Converter, rate_on
from ledger.reports import Spending, balances, spending, trial_balance

__all__ = [
    "Account",
    "Book",
    "Document",
    "ClosedPeriod",
    "Converter",
    "Fund",
    "JournalTransaction",
    "LedgerError",
    "Leg",
    "Posting",
    "Price",
    "Spending",
    "amount_input",
    "attach_document",
    "balances",
    "check_amount",
    "check_org",
    "check_payment_accounts",
    "close_account",
    "close_period",
    "create_book",
    "create_fund",
    "credit",
    "debit",
    "ensure_account",
    "find_account",
    "from_minor",
    "fund_available",
    "general_book",
    "get_fund",
    "open_account",
    "payment_accounts",
    "post",
    "rate_on",
    "record_donor_income",
    "record_price",
    "require_available",
    "reverse",
    "spending",
    "to_minor",
    "trial_balance",
]
