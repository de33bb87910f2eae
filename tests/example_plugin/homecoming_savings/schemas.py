"""Input of the deposit form and the payload of the ``savings.deposit`` timeline event.

Validation messages are English gettext message ids; core's ``parse`` translates them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from homecoming_savings.models import CURRENCIES

MAX_AMOUNT = Decimal("1000000")
Currency = Literal["USD", "KHR"]


class DepositIn(BaseModel):
    """One deposit as typed into the form. ``currency`` comes first: ``amount`` is checked
    against its number of decimal places."""

    model_config = ConfigDict(extra="ignore")

    currency: Currency = Field("USD", title="Currency")
    amount: Decimal = Field(title="Amount")
    deposited_on: date = Field(title="Date")
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = Field("", title="Note")

    @field_validator("amount")
    @classmethod
    def _amount(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        if value <= 0:
            raise ValueError("Enter an amount above zero.")
        if value > MAX_AMOUNT:
            raise ValueError("This amount is too large.")
        places = CURRENCIES.get(info.data.get("currency", "USD"), 0)
        if value != value.quantize(Decimal(1).scaleb(-places)):
            raise ValueError("Too many decimal places for this currency.")
        return value

    @field_validator("deposited_on")
    @classmethod
    def _not_future(cls, value: date) -> date:
        if value > date.today():
            raise ValueError("The date cannot be in the future.")
        return value


class DepositEvent(BaseModel):
    """Payload of a ``savings.deposit`` event. The amount is stored as a decimal string; the
    currency is a plain code (not a choice) so the timeline shows it as written."""

    deposit_id: int = Field(title="Deposit")
    amount: Decimal = Field(title="Amount")
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = Field(title="Currency")
