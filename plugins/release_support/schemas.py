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
Step = Literal["collected", "reached_home", "identity_card", "release_certificate", "birth_certificate", "family_book"]

DIGITS = {"USD": 2, "KHR": 0}
"""Decimal places of the currencies (the ledger's minor units)."""

STEPS: tuple[str, ...] = ("collected", "reached_home", "identity_card", "release_certificate", "birth_certificate", "family_book")
"""The release-day checklist, in order: two steps of the day, then the documents in hand."""

DOCUMENTS = STEPS[2:]

LABELS = {
    "collected": N_("Collected from the prison"),
    "reached_home": N_("Reached home"),
    "identity_card": N_("Identity card"),
    "release_certificate": N_("Release certificate"),
    "birth_certificate": N_("Birth certificate"),
    "family_book": N_("Family book"),
    "fare": N_("Fare home"),
    "food": N_("Food"),
    "accommodation": N_("Accommodation"),
    "starter_pack": N_("Starter pack"),
}
"""English labels of the module's choice values, marked here so that extraction finds them."""

HUMANISED = (N_("Collected"), N_("Reached home"), N_("Identity card"), N_("Release certificate"), N_("Birth certificate"), N_("Family book"))
"""The checklist steps as core's ``option_label`` shows them on the timeline (the value humanised,
through gettext), marked so that the catalog translates them."""

DETAIL_HELP = {
    "collected": N_("Who collected the person at the gate (staff member or relative)."),
    "reached_home": N_("Where, or with whom, the person arrived."),
}

Account = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def count_of(value: Any) -> Any:
    """A whole number typed into a form (blank: ``None``)."""
    value = _blank_to_none(value)
    if isinstance(value, str):
        text = value.strip()
        if not text.isdecimal():
            raise ValueError(N_("Enter a whole number, zero or more."))
        return int(text)
    return value


class SettingsIn(BaseModel):
    """The organisation's settings of the module."""

    model_config = ConfigDict(extra="ignore")

    fund: Annotated[str, StringConstraints(strip_whitespace=True, max_length=60)] = Field("", title=N_("Fund the support is charged to"))
    expense_account: Account = Field("Expenses:Programme:Release-Support", title=N_("Expense account"))
    pay_from_usd: Account = Field("", title=N_("Pay US dollars from"))
    pay_from_khr: Account = Field("", title=N_("Pay riel from"))
    currency: Currency = Field("KHR", title=N_("Currency of the default amounts"))
    fare: Decimal | None = Field(None, title=N_("Default fare home"))
    food_per_day: Decimal | None = Field(None, title=N_("Default food per day"))
    night_rate: Decimal | None = Field(None, title=N_("Default accommodation per night"))
    ceiling_usd: Decimal | None = Field(None, title=N_("Ceiling per release in US dollars"))
    ceiling_khr: Decimal | None = Field(None, title=N_("Ceiling per release in riel"))

    @field_validator("fare", "food_per_day", "night_rate", "ceiling_usd", "ceiling_khr", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return amount_input(value)

    @field_validator("fare", "food_per_day", "night_rate")
    @classmethod
    def _amount(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        return check_amount(value, info.data.get("currency"))

    @field_validator("ceiling_usd", "ceiling_khr")
    @classmethod
    def _ceiling(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        if value is not None and value == 0:
            raise ValueError(N_("Enter an amount more than zero."))
        return check_amount(value, "USD" if info.field_name == "ceiling_usd" else "KHR")

    @field_validator("expense_account")
    @classmethod
    def _expense(cls, value: str) -> str:
        if not re.fullmatch(r"Expenses(:[A-Z][A-Za-z0-9-]*)+", value):
            raise ValueError(N_("Enter an expense account such as Expenses:Programme:Release-Support."))
        return value


class ItemIn(BaseModel):
    """A new stock item."""

    model_config = ConfigDict(extra="ignore")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)] = Field(title=N_("Item"))
    unit: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)] = Field(title=N_("Unit"))
    currency: Currency = Field(title=N_("Currency it is valued in"))
    low_at: int = Field(0, ge=0, le=1_000_000, title=N_("Low at or below"))

    @field_validator("low_at", mode="before")
    @classmethod
    def _count(cls, value: Any) -> Any:
        return count_of(value) or 0


class ReceiptIn(BaseModel):
    """Stock received: how many of an item, at what cost, from whom, paid from which account."""

    model_config = ConfigDict(extra="ignore")

    item: int = Field(title=N_("Item"))
    received_on: date = Field(title=N_("Date received"))
    quantity: int = Field(ge=1, le=1_000_000, title=N_("Quantity"))
    unit_cost: Decimal = Field(title=N_("Cost per unit"))
    supplier: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = Field("", title=N_("Supplier"))
    paid_from: Account = Field("", title=N_("Paid from"))

    @field_validator("quantity", mode="before")
    @classmethod
    def _count(cls, value: Any) -> Any:
        return count_of(value)

    @field_validator("unit_cost", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return amount_input(value)

    @field_validator("unit_cost")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError(N_("Enter an amount more than zero."))
        return check_amount(value, None)  # type: ignore[return-value]  # exactness is checked against the item's currency


class RecordIn(BaseModel):
    """What was given on the day of release, as typed into the form. The starter-pack
    quantities (``qty_<item id>``) are read beside it (``quantities``)."""

    model_config = ConfigDict(extra="ignore")

    given_on: date = Field(title=N_("Date given"))
    currency: Currency = Field(title=N_("Currency"))
    fare: Decimal | None = Field(None, title=N_("Fare home"))
    food_days: int = Field(0, ge=0, le=60, title=N_("Days of food"))
    food_per_day: Decimal | None = Field(None, title=N_("Food per day"))
    nights: int = Field(0, ge=0, le=60, title=N_("Nights of accommodation"))
    night_rate: Decimal | None = Field(None, title=N_("Accommodation per night"))
    handed_over_by: int | None = Field(None, title=N_("Handed over by"))
    notes: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = Field("", title=N_("Notes"))

    @field_validator("fare", "food_per_day", "night_rate", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return amount_input(value)

    @field_validator("food_days", "nights", mode="before")
    @classmethod
    def _count(cls, value: Any) -> Any:
        return count_of(value) or 0

    @field_validator("handed_over_by", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @field_validator("fare", "food_per_day", "night_rate")
    @classmethod
    def _amount(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        return check_amount(value, info.data.get("currency"))


class ReverseIn(BaseModel):
    """A correction: the reversal's date and reason."""

    model_config = ConfigDict(extra="ignore")

    reversed_on: date = Field(title=N_("Date of the reversal"))
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)] = Field(title=N_("Reason"))


class StepIn(BaseModel):
    """A step of the release-day checklist ticked."""

    model_config = ConfigDict(extra="ignore")

    step: Step = Field(title=N_("Step"))
    done_on: date = Field(title=N_("Date"))
    detail: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = Field("", title=N_("Details"))


# --- timeline payloads -----------------------------------------------------------------------------


class SupportEvent(BaseModel):
    """Payload of ``release_support.support_given``."""

    record_id: int
    currency: Currency
    cash: str = Field(title=N_("Fare, food and accommodation"))  # decimal text
    items: int = Field(0, title=N_("Starter-pack items"))


class ReversalEvent(BaseModel):
    """Payload of ``release_support.support_reversed``."""

    record_id: int
    reason: str = Field("", title=N_("Reason"))


class StepEvent(BaseModel):
    """Payload of ``release_support.collected``, ``release_support.reached_home`` and
    ``release_support.document_in_hand``."""

    step: Step = Field(title=N_("Step"))
    detail: str = Field("", title=N_("Details"))
