"""Exchange rates at a date and conversion of amounts for reports in one currency.

Rates are the ``price`` directives the organisation recorded (``ledger.api.record_price``). The
rate from A to B on a day is the latest recorded on or before that day, either as A->B or as
B->A (then inverted), whichever is later, as beancount's price map does. Converted amounts are
rounded half-to-even to the target currency's minor unit; the journal itself is never converted.
"""

from __future__ import annotations

from datetime import date as Date
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.i18n import gettext as _
from ledger.models import Price
from ledger.money import LedgerError, digits


def rate_on(session: Session, org_id: int, base: str, quote: str, on: Date) -> tuple[Decimal, Date] | None:
    """``(rate, date of the price)``: 1 ``base`` = rate ``quote`` on ``on``; ``None`` without one."""
    if base == quote:
        return Decimal(1), on
    row = session.execute(
        select(Price.base, Price.rate, Price.date)
        .where(
            Price.org_id == org_id,
            Price.date <= on,
            or_((Price.base == base) & (Price.quote == quote), (Price.base == quote) & (Price.quote == base)),
        )
        .order_by(Price.date.desc(), (Price.base == base).desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    price_base, rate, day = row
    value = Decimal(rate)
    return (value if price_base == base else Decimal(1) / value), day


class Converter:
    """Converts amounts of any currency into ``target`` at the rates of ``on`` (cached)."""

    def __init__(self, session: Session, org_id: int, target: str, on: Date) -> None:
        digits(target)  # refuses an unknown currency
        self.session, self.org_id, self.target, self.on = session, org_id, target, on
        self.rates: dict[str, tuple[Decimal, Date]] = {}

    def rate(self, currency: str) -> Decimal:
        if currency not in self.rates:
            found = rate_on(self.session, self.org_id, currency, self.target, self.on)
            if found is None:
                raise LedgerError(
                    _(
                        "There is no exchange rate from %(base)s to %(quote)s on or before %(date)s: record one first.",
                        base=currency, quote=self.target, date=self.on,
                    ),
                    "currency",
                )
            self.rates[currency] = found
        return self.rates[currency][0]

    def __call__(self, amount: Decimal, currency: str) -> Decimal:
        """``amount`` of ``currency`` in the target currency, rounded to its minor unit."""
        exponent = Decimal(1).scaleb(-digits(self.target))
        return (amount * self.rate(currency)).quantize(exponent, rounding=ROUND_HALF_EVEN)

    def total(self, amounts: dict[str, Decimal]) -> Decimal:
        """The sum of ``{currency: amount}`` in the target currency (each converted, then added)."""
        return sum((self(v, c) for c, v in amounts.items()), Decimal(0))

    def used(self) -> list[tuple[str, str, Decimal, Date]]:
        """``(base, quote, rate, date of the price)`` of every conversion made, for the report's
        footer, each told the way round whose rate is at least 1 (1 USD = 4,100 KHR)."""
        out = []
        for currency, (rate, day) in sorted(self.rates.items()):
            if currency == self.target:
                continue
            if rate >= 1:
                out.append((currency, self.target, rate.normalize(), day))
            else:
                out.append((self.target, currency, (Decimal(1) / rate).quantize(Decimal("0.000001")).normalize(), day))
        return out
