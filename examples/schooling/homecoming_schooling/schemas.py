"""Inputs of the module's forms and the payloads of its timeline events.

Validation messages are English gettext message ids (marked with ``N_``); core's ``parse``
translates them from the merged catalogs (core's and this module's). Amounts are parsed from the
form's text as ``Decimal`` (never float) and checked against the currency's minor unit.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from core.plugin_api import N_
from ledger.api import amount_input, check_amount

Currency = Literal["USD", "KHR"]
FeePeriod = Literal["month", "term"]

LABELS = {
    "month": N_("per month"),
    "term": N_("per term"),
}
"""English labels of the module's choice values, marked here so that extraction finds them."""

Required = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=160)]
Account = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class EnrolIn(BaseModel):
    """A child's enrolment as typed into its form."""

    model_config = ConfigDict(extra="ignore")

    child_id: int = Field(title=N_("Child"))
    school: Required = Field(title=N_("School"))
    grade: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)] = Field(title=N_("Grade"))
    school_year: str = Field(title=N_("School year"))
    fee_period: FeePeriod = Field("month", title=N_("Fee charged"))
    currency: Currency = Field("USD", title=N_("Currency"))
    fee: Decimal = Field(title=N_("Fee"))
    enrolled_on: date = Field(title=N_("Date of enrolment"))

    @field_validator("child_id", mode="before")
    @classmethod
    def _child(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            raise ValueError(N_("Choose the child."))
        return value

    @field_validator("school_year")
    @classmethod
    def _year(cls, value: str) -> str:
        match = re.fullmatch(r"\s*(\d{4})\s*[-–/]\s*(\d{4})\s*", value)
        if not match or int(match.group(2)) != int(match.group(1)) + 1 or not 2000 <= int(match.group(1)) <= 2100:
            raise ValueError(N_("Enter a school year such as 2026-2027."))
        return f"{match.group(1)}-{match.group(2)}"

    @field_validator("fee", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        value = amount_input(value)
        if value is None:
            raise ValueError(N_("Enter the fee."))
        return value

    @field_validator("fee")
    @classmethod
    def _fee(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        return check_amount(value, info.data.get("currency"))  # type: ignore[return-value]


class PaymentIn(BaseModel):
    """School fees paid for one enrolment, as typed into the form."""

    model_config = ConfigDict(extra="ignore")

    enrolment_id: int = Field(title=N_("Child and school"))
    paid_on: date = Field(title=N_("Date paid"))
    amount: Decimal = Field(title=N_("Amount"))
    covers: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = Field("", title=N_("For (month or term)"))
    reference: Annotated[str, StringConstraints(strip_whitespace=True, max_length=60)] = Field("", title=N_("Receipt number"))

    @field_validator("enrolment_id", mode="before")
    @classmethod
    def _enrolment(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            raise ValueError(N_("Choose the child and school."))
        return value

    @field_validator("amount", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        value = amount_input(value)
        if value is None:
            raise ValueError(N_("Enter the amount paid."))
        return value

    @field_validator("amount")
    @classmethod
    def _amount(cls, value: Decimal) -> Decimal:
        # The currency is the enrolment's: services check the minor unit once it is known.
        return check_amount(value, None, zero=False)  # type: ignore[return-value]


class ReverseIn(BaseModel):
    """The reversal of a wrong payment: when and why."""

    model_config = ConfigDict(extra="ignore")

    reversed_on: date = Field(title=N_("Date of the reversal"))
    reverse_reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)] = Field(title=N_("Reason"))




class SettingsIn(BaseModel):
    """The organisation's settings of the module: the accounts fees are posted to."""

    model_config = ConfigDict(extra="ignore")

    expense_account: Account = Field("Expenses:Schooling:Fees", title=N_("Expense account"))
    pay_from_usd: Account = Field("Assets:Bank:USD", title=N_("Pay dollars from"))
    pay_from_khr: Account = Field("Assets:Cash:KHR", title=N_("Pay riel from"))

    @field_validator("expense_account")
    @classmethod
    def _expense(cls, value: str) -> str:
        if not re.fullmatch(r"Expenses(:[A-Z][A-Za-z0-9-]*)+", value):
            raise ValueError(N_("Enter an account such as Expenses:Schooling:Fees."))
        return value

    @field_validator("pay_from_usd", "pay_from_khr")
    @classmethod
    def _asset(cls, value: str) -> str:
        if not re.fullmatch(r"(Assets|Liabilities)(:[A-Z][A-Za-z0-9-]*)+", value):
            raise ValueError(N_("Enter an account such as Assets:Bank:USD."))
        return value


# --- timeline payloads -----------------------------------------------------------------------------


class EnrolledEvent(BaseModel):
    """Payload of ``schooling.enrolled``."""

    enrolment_id: int
    child_id: int
    school: str
    grade: str
    school_year: str


class FeePaidEvent(BaseModel):
    """Payload of ``schooling.fee_paid`` and ``schooling.fee_reversed``."""

    payment_id: int
    enrolment_id: int
    amount: str  # decimal text
    currency: Currency
    txn_id: int
    reason: str = ""
