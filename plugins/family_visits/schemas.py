"""Inputs of the module's forms and the payloads of its timeline events.

Validation messages are English gettext message ids (marked with ``N_``); core's ``parse``
translates them. Amounts are parsed from the form's text as ``Decimal`` (never float) and checked
against the currency's minor unit: cents for USD, whole riel for KHR.
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
Payment = Literal["none", "cash", "mobile_money"]
Interval = Literal[1, 2, 3]

"""Decimal places of the currencies (the ledger's minor units)."""

ITEMS = ("transport", "food", "accommodation")
"""The cost items of a visit's subsidy."""

LABELS = {
    "none": N_("No subsidy"),
    "cash": N_("Cash at the prison"),
    "mobile_money": N_("Mobile money"),
    "transport": N_("Transport"),
    "food": N_("Food"),
    "accommodation": N_("Accommodation"),
    "made": N_("Visited"),
    "missed": N_("Missed"),
    "due": N_("Due"),
    "1": N_("Every month"),
    "2": N_("Every two months"),
    "3": N_("Every three months"),
}
"""English labels of the module's choice values, marked here so that extraction finds them."""

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)]
Required120 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _ids(value: Any) -> Any:
    """A repeated form field (a list) or a single value, as a list of ids; blanks dropped."""
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    values = [v for v in values if not (isinstance(v, str) and not v.strip())]
    if not all(isinstance(v, int) or (isinstance(v, str) and v.strip().isdecimal()) for v in values):
        raise ValueError(N_("Choose among the family members shown."))
    return [int(v) for v in values]


def _month(value: Any) -> Any:
    """``YYYY-MM`` (or a full date) to the first day of that month."""
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d{4})-(\d{2})(-\d{2})?\s*", value)
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ValueError(N_("Enter a month as YYYY-MM."))
        return date(int(match.group(1)), int(match.group(2)), 1)
    return value


class PlanIn(BaseModel):
    """A visit plan as typed into its form (``members`` repeats, one per family member ticked)."""

    model_config = ConfigDict(extra="ignore")

    members: list[int] = Field(default_factory=list, validate_default=True, title=N_("Family members who visit"))
    village: Required120 = Field(title=N_("From village"))
    prison: Required120 = Field(title=N_("To prison"))
    interval_months: Interval = Field(1, title=N_("How often"))
    starts_on: date = Field(title=N_("First month"))
    currency: Currency = Field(title=N_("Currency"))
    transport: Decimal | None = Field(None, title=N_("Transport"))
    food: Decimal | None = Field(None, title=N_("Food"))
    accommodation: Decimal | None = Field(None, title=N_("Accommodation"))

    @field_validator("members", mode="before")
    @classmethod
    def _members(cls, value: Any) -> Any:
        values = _ids(value)
        if not values:
            raise ValueError(N_("Tick at least one family member."))
        return values

    @field_validator("interval_months", mode="before")
    @classmethod
    def _interval(cls, value: Any) -> Any:
        return int(value) if isinstance(value, str) and value.strip().isdecimal() else (_blank_to_none(value) or 1)

    @field_validator("starts_on", mode="before")
    @classmethod
    def _starts(cls, value: Any) -> Any:
        return _month(value)

    @field_validator("transport", "food", "accommodation", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return amount_input(value)

    @field_validator("transport", "food", "accommodation")
    @classmethod
    def _amount(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        return check_amount(value, info.data.get("currency"))


class VisitIn(BaseModel):
    """A visit as typed into its form, with the subsidy paid for it (``payment`` ``none`` when
    nothing is paid)."""

    model_config = ConfigDict(extra="ignore")

    visited_on: date = Field(title=N_("Date of the visit"))
    visitors: list[int] = Field(default_factory=list, validate_default=True, title=N_("Who came"))
    duration_minutes: int = Field(ge=1, le=1440, title=N_("How long (minutes)"))
    notes: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = Field("", title=N_("Notes"))
    payment: Payment = Field(title=N_("Subsidy paid"))
    currency: Currency | None = Field(None, title=N_("Currency"))
    transport: Decimal | None = Field(None, title=N_("Transport"))
    food: Decimal | None = Field(None, title=N_("Food"))
    accommodation: Decimal | None = Field(None, title=N_("Accommodation"))
    paid_to: int | None = Field(None, title=N_("Paid to"))
    reference: Annotated[str, StringConstraints(strip_whitespace=True, max_length=60)] = Field("", title=N_("Mobile money reference"))
    approved_by: int | None = Field(None, title=N_("Approved by"))
    approval_note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = Field("", title=N_("Reason for the approval"))

    @field_validator("visitors", mode="before")
    @classmethod
    def _visitors(cls, value: Any) -> Any:
        values = _ids(value)
        if not values:
            raise ValueError(N_("Tick who came."))
        return values

    @field_validator("currency", "paid_to", "approved_by", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @field_validator("transport", "food", "accommodation", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return amount_input(value)

    @field_validator("transport", "food", "accommodation")
    @classmethod
    def _amount(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        return check_amount(value, info.data.get("currency"))


class SettingsIn(BaseModel):
    """The organisation's settings of the module."""

    model_config = ConfigDict(extra="ignore")

    fund: Annotated[str, StringConstraints(strip_whitespace=True, max_length=60)] = Field("", title=N_("Fund the subsidies are charged to"))
    limit_usd: Decimal | None = Field(None, title=N_("Limit per visit in US dollars"))
    limit_khr: Decimal | None = Field(None, title=N_("Limit per visit in riel"))

    @field_validator("limit_usd", "limit_khr", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return amount_input(value)

    @field_validator("limit_usd")
    @classmethod
    def _usd(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and value == 0:
            raise ValueError(N_("Enter an amount more than zero."))
        return check_amount(value, "USD")

    @field_validator("limit_khr")
    @classmethod
    def _khr(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and value == 0:
            raise ValueError(N_("Enter an amount more than zero."))
        return check_amount(value, "KHR")


# --- timeline payloads -----------------------------------------------------------------------------


class PlanEvent(BaseModel):
    """Payload of ``family_visits.plan_set``."""

    plan_id: int
    prison: str
    interval_months: int
    subsidy: str  # decimal text of the subsidy per visit
    currency: Currency
    members: int


class VisitEvent(BaseModel):
    """Payload of ``family_visits.visit_recorded``."""

    visit_id: int
    visitors: int
    payment: Payment
    subsidy: str | None = None  # decimal text
    currency: Currency | None = None
    reference: str = ""
    approved_by_id: int | None = None
