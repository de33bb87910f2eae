"""Money: ``Decimal`` in Python, integer minor units in the database, never float."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from core.errors import ActionRefused
from core.i18n import N_
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


# --- amounts typed into a form -------------------------------------------------------------------

AMOUNT_MESSAGE = N_("Enter an amount such as 1250 or 12.50.")
LARGEST_INPUT = Decimal("1000000000")
"""The largest amount a module's form takes (a typing slip, not a real payment, above it)."""


def amount_input(value: Any) -> Any:
    """A form's amount as an exact ``Decimal`` (thousands separators allowed), ``None`` when left
    blank; never through float. Use as a pydantic ``mode="before"`` validator; the English
    messages it raises are translated by ``core.plugin_api.parse``."""
    if isinstance(value, str):
        if not value.strip():
            return None
        text = value.strip().replace(",", "").replace(" ", "")
        if not re.fullmatch(r"\d+(\.\d+)?", text):
            raise ValueError(AMOUNT_MESSAGE)
        return Decimal(text)
    if isinstance(value, float):
        raise ValueError(AMOUNT_MESSAGE)
    return value


def check_amount(value: Decimal | None, currency: str | None, *, zero: bool = True) -> Decimal | None:
    """``value`` when zero or more (more than zero without ``zero``), at most
    :data:`LARGEST_INPUT`, and exact in the minor unit of ``currency`` (US dollars or riel; another
    currency or ``None`` is checked where the currency is known)."""
    if value is None:
        return None
    if value < 0 if zero else value <= 0:
        raise ValueError(N_("Enter zero or more.") if zero else N_("Enter an amount more than zero."))
    if value > LARGEST_INPUT:
        raise ValueError(N_("This amount is too large."))
    if currency in ("USD", "KHR"):
        scaled = value.scaleb(MINOR_DIGITS[currency])
        if scaled != scaled.to_integral_value():
            raise ValueError(N_("US dollars have at most 2 decimal places.") if currency == "USD" else N_("Riel are whole numbers."))
    return value
