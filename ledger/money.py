"""Money: ``Decimal`` in Python, integer minor units in the database, never float."""

from __future__ import annotations

from decimal import Decimal

from core.errors import ActionRefused
from core.i18n import gettext as _

#: Decimal places of the currencies the ledger knows (ISO 4217 minor units).
MINOR_DIGITS: dict[str, int] = {"USD": 2, "KHR": 0, "EUR": 2, "THB": 2, "GBP": 2, "AUD": 2}


class LedgerError(ActionRefused):
    """A posting (or another ledger action) was refused; nothing of it was written."""


def digits(currency: str) -> int:
    try:
        return MINOR_DIGITS[currency]
    except KeyError:
        raise LedgerError(_("Unknown currency %(currency)s.", currency=currency), "currency") from None


def to_minor(amount: Decimal, currency: str) -> int:
    """``Decimal("12.34"), "USD"`` -> ``1234``; refuses floats and amounts finer than the unit."""
    if not isinstance(amount, Decimal) or isinstance(amount, bool):
        raise LedgerError(_("The amount %(amount)s must be a Decimal, not %(type)s.", amount=repr(amount), type=type(amount).__name__), "amount")
    if not amount.is_finite():
        raise LedgerError(_("The amount %(amount)s is not a finite number.", amount=amount), "amount")
    scaled = amount.scaleb(digits(currency))
    if scaled != scaled.to_integral_value():
        raise LedgerError(
            _("%(amount)s %(currency)s has more than %(n)s decimal places.", amount=amount, currency=currency, n=digits(currency)),
            "amount",
        )
    return int(scaled)


def from_minor(minor: int, currency: str) -> Decimal:
    """``1234, "USD"`` -> ``Decimal("12.34")`` (exact, with the currency's decimal places)."""
    d = digits(currency)
    return Decimal(minor).scaleb(-d) if d else Decimal(minor)
