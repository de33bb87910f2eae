"""Demo data of the ledger: a chart of accounts and a year of entries in US dollars and riel.

Deterministic (seeded by the organisation's short name) and built around ``today``, so every audit
page has content: donor income per fund, transfers from the dollar bank account to riel cash at
a recorded rate, programme spending (some of it for a case), one reversal and one closed period.
Everything goes through the public posting API, so the demo books pass ``homecoming ledger check``
and ``verify``.
"""

from __future__ import annotations

import random
import zlib
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from core.models import Case, Organisation, User
from ledger.check import run_and_record
from ledger.funds import create_fund, get_fund, set_budget_line
from ledger.posting import close_period, credit, debit, general_book, open_account, post, record_price, reverse

FUNDS = ("Reintegration", "Vocational-Training", "Unrestricted")
DONORS = {"Reintegration": "Mekong Justice Foundation", "Vocational-Training": "Skills for Life Trust", "Unrestricted": "Private donors"}
#: months of entries before this one; the first is closed
MONTHS = 13
#: the donors' agreements the tranches come under (metadata ``agreement``, link ``^agreement-<code>``)
AGREEMENTS = {"Reintegration": "MJF-2025-01", "Vocational-Training": "SLT-2025-07"}
FUND_NAMES = {"Reintegration": "Reintegration grants 2026-2028", "Vocational-Training": "Vocational training", "Unrestricted": "General support"}
BUDGET = (
    ("Reintegration", "Expenses:Programme:Reintegration-Grants", "2400.00", "USD"),
    ("Reintegration", "Expenses:Programme:Family-Support", "2000.00", "USD"),
    ("Vocational-Training", "Expenses:Programme:Vocational-Training", "30000000", "KHR"),
    ("Unrestricted", "Expenses:Programme:Follow-Up-Visits", "600.00", "USD"),
    (None, "Expenses:Bank-Fees", "50.00", "USD"),
)
PROGRAMMES = ("Reintegration-Grants", "Vocational-Training", "Family-Support", "Follow-Up-Visits")
CHART: dict[str, list[str]] = {
    "Assets:Bank:USD": ["USD"],
    "Assets:Bank:KHR": ["KHR"],
    "Assets:Cash:USD": ["USD"],
    "Assets:Cash:KHR": ["KHR"],
    "Assets:Receivable:Donors": ["USD"],
    **{f"Expenses:Programme:{p}": ["USD", "KHR"] for p in PROGRAMMES},
    "Expenses:Bank-Fees": ["USD"],
    "Equity:Opening-Balances": ["USD", "KHR"],
}


def _month_start(today: date, back: int) -> date:
    """The first day of the month ``back`` months before ``today``'s."""
    months = today.year * 12 + today.month - 1 - back
    return date(months // 12, months % 12 + 1, 1)


def load(session: Session, organisation: Organisation, cases: list[Case], staff: dict[str, User], today: date) -> None:
    """The organisation's general book with thirteen months of entries up to ``today``, the first closed."""
    rng = random.Random(zlib.crc32(organisation.slug.encode()))
    finance = staff.get("finance") or staff.get("admin")
    by = finance.id if finance else None
    start = _month_start(today, MONTHS)
    book = general_book(session, organisation.id)
    for name, currencies in CHART.items():
        open_account(session, book, name, currencies, start)
    for fund in FUNDS:
        create_fund(session, organisation.id, fund, FUND_NAMES[fund], start, donor=DONORS[fund], restricted=fund != "Unrestricted")

    post(session, book, start, "Balances at the start of the ledger", [
        debit("Assets:Bank:USD", Decimal("12000.00"), "USD"),
        debit("Assets:Cash:KHR", Decimal("2000000"), "KHR"),
        credit("Equity:Opening-Balances", Decimal("12000.00"), "USD"),
        credit("Equity:Opening-Balances", Decimal("2000000"), "KHR"),
    ], meta={"plugin": "demo"}, created_by=by)

    spent_for_case = list(cases[:12])
    to_reverse = None
    for back in range(MONTHS, -1, -1):
        month = _month_start(today, back)
        last_day = min(today, _month_start(today, back - 1) - timedelta(days=1)) if back else today

        def day(n: int, month: date = month, last_day: date = last_day) -> date:
            return min(month + timedelta(days=n - 1), last_day)

        # donor income: a quarterly tranche from each restricted fund, small gifts every month
        if back % 3 == 2:
            for fund in FUNDS[:2]:
                amount = Decimal(rng.randrange(40, 90) * 100)
                post(session, book, day(2), f"{DONORS[fund]}: quarterly tranche", [
                    debit("Assets:Bank:USD", amount, "USD"), credit(f"Income:Donations:{fund}", amount, "USD"),
                ], payee=DONORS[fund], meta={"plugin": "demo", "agreement": AGREEMENTS[fund]}, links=[f"agreement-{AGREEMENTS[fund]}"], created_by=by)
        gifts = Decimal(rng.randrange(200, 900)) + Decimal(rng.randrange(0, 100)) / 100
        post(session, book, day(5), "Gifts from private donors", [
            debit("Assets:Bank:USD", gifts, "USD"), credit("Income:Donations:Unrestricted", gifts, "USD"),
        ], payee=DONORS["Unrestricted"], meta={"plugin": "demo"}, created_by=by)
        riel_gifts = Decimal(rng.randrange(20, 80) * 10000)
        post(session, book, day(6), "Collection at the community meeting", [
            debit("Assets:Cash:KHR", riel_gifts, "KHR"), credit("Income:Donations:Unrestricted", riel_gifts, "KHR"),
        ], meta={"plugin": "demo"}, created_by=by)

        # transfer: change dollars into riel at the month's rate, recorded as a price
        rate = Decimal(4080 + rng.randrange(0, 8) * 5)
        record_price(session, organisation.id, day(8), "USD", "KHR", rate)
        dollars = Decimal(rng.randrange(6, 15) * 100)
        post(session, book, day(8), "Change dollars into riel for field spending", [
            debit("Assets:Cash:KHR", dollars * rate, "KHR"),
            credit("Assets:Bank:USD", dollars, "USD", price=rate, price_currency="KHR"),
        ], meta={"plugin": "demo"}, created_by=by)
        post(session, book, day(9), "Cash withdrawal for the office", [
            debit("Assets:Cash:USD", Decimal("150.00"), "USD"), credit("Assets:Bank:USD", Decimal("150.00"), "USD"),
        ], meta={"plugin": "demo"}, created_by=by)
        post(session, book, day(10), "Bank fees", [
            debit("Expenses:Bank-Fees", Decimal("4.50"), "USD"), credit("Assets:Bank:USD", Decimal("4.50"), "USD"),
        ], meta={"plugin": "demo"}, created_by=by)

        # programme spending: a start-up grant for a case, training in riel, follow-up travel
        case = spent_for_case[(11 - back) % len(spent_for_case)] if spent_for_case else None
        for_case = {"case_id": case.id} if case is not None else {}
        grant = Decimal(rng.randrange(8, 20) * 10)
        post(session, book, day(12), "Start-up grant for a participant's small business", [
            debit("Expenses:Programme:Reintegration-Grants", grant, "USD"), credit("Assets:Bank:USD", grant, "USD"),
        ], meta={"plugin": "demo", **for_case, "fund": "Reintegration"}, created_by=by)
        kit = Decimal(rng.randrange(10, 40) * 5000)
        txn = post(session, book, day(15), "Tools and materials for a participant", [
            debit("Expenses:Programme:Family-Support", kit, "KHR"), credit("Assets:Cash:KHR", kit, "KHR"),
        ], meta={"plugin": "demo", **for_case, "fund": "Reintegration"}, created_by=by)
        if back == 1:
            to_reverse = txn
        training = Decimal(rng.randrange(40, 120) * 10000)
        post(session, book, day(18), "Vocational training: trainer and materials", [
            debit("Expenses:Programme:Vocational-Training", training, "KHR"), credit("Assets:Cash:KHR", training, "KHR"),
        ], meta={"plugin": "demo", "agreement": AGREEMENTS["Vocational-Training"], "fund": "Vocational-Training"},
             links=[f"agreement-{AGREEMENTS['Vocational-Training']}"], created_by=by)
        post(session, book, day(22), "Deposit riel cash at the bank", [
            debit("Assets:Bank:KHR", Decimal("400000"), "KHR"), credit("Assets:Cash:KHR", Decimal("400000"), "KHR"),
        ], meta={"plugin": "demo"}, created_by=by)
        travel = Decimal(rng.randrange(30, 90)) + Decimal("0.50")
        post(session, book, day(20), "Travel for follow-up visits", [
            debit("Expenses:Programme:Follow-Up-Visits", travel, "USD"), credit("Assets:Cash:USD", travel, "USD"),
        ], meta={"plugin": "demo", "fund": "Unrestricted"}, created_by=by)

    pledge = Decimal("2500.00")
    post(session, book, today, f"{DONORS['Vocational-Training']}: pledged tranche, due next month", [
        debit("Assets:Receivable:Donors", pledge, "USD"), credit("Income:Donations:Vocational-Training", pledge, "USD"),
    ], payee=DONORS["Vocational-Training"], meta={"plugin": "demo", "agreement": AGREEMENTS["Vocational-Training"]},
         links=[f"agreement-{AGREEMENTS['Vocational-Training']}"], created_by=by)
    if to_reverse is not None:
        reverse(session, to_reverse, max(to_reverse.date, min(today, to_reverse.date + timedelta(days=3))),
                "Entered twice: the same receipt was already recorded", created_by=by)
    # the first month is closed (the grants module's demo pays its first tranches the month after)
    close_period(session, book, _month_start(today, MONTHS - 1) - timedelta(days=1), closed_by=by)

    # this year's budget, per fund and programme, and one overall line
    for fund, account, amount, currency in BUDGET:
        set_budget_line(session, organisation.id, today.year, account, Decimal(amount), currency,
                        fund=get_fund(session, organisation.id, fund) if fund else None, updated_by=by)
    # the checks an auditor would find already run
    for kind in ("check", "verify"):
        run_and_record(session, organisation, kind, ran_by=by, source="web")
