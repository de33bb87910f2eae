"""Inputs of the ledger's finance forms (validated with ``core.validation.parse``).

Messages are English gettext ids marked with ``N_``; ``parse`` translates them. Amounts are read
as ``Decimal`` from the form's text, never through float.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints, field_validator

from core.i18n import N_
from ledger.money import MINOR_DIGITS


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _list(value: Any) -> Any:
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
OptionalText = Annotated[str | None, BeforeValidator(_blank_to_none), StringConstraints(strip_whitespace=True, max_length=200)]
Amount = Annotated[Decimal, BeforeValidator(lambda v: v.strip().replace(",", "") if isinstance(v, str) else v)]


def _currency(value: str) -> str:
    if value not in MINOR_DIGITS:
        raise ValueError(N_("Choose one of the options."))
    return value


def _positive(value: Decimal) -> Decimal:
    if not value.is_finite() or value <= 0:
        raise ValueError(N_("The amount must be more than zero."))
    return value


class _Form(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AccountIn(_Form):
    name: Text
    currencies: Annotated[list[str], BeforeValidator(_list)]
    opened_on: date

    @field_validator("currencies")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError(N_("Choose at least one currency."))
        return [_currency(v) for v in value]


class CloseAccountIn(_Form):
    closed_on: date


class FundIn(_Form):
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    name: Text
    donor: OptionalText = None
    restricted: bool = False
    opened_on: date


class DonorIncomeIn(_Form):
    on: date
    amount: Amount
    currency: str
    into: Text
    donor: OptionalText = None
    reference: OptionalText = None
    narration: OptionalText = None

    _check_currency = field_validator("currency")(_currency)
    _check_amount = field_validator("amount")(_positive)


class BudgetLineIn(_Form):
    year: int
    fund: OptionalText = None
    account: Text
    amount: Amount
    currency: str

    _check_currency = field_validator("currency")(_currency)
    _check_amount = field_validator("amount")(_positive)
