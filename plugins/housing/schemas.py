"""Inputs of the housing module's forms and the payloads of its timeline events.

Validation messages are English gettext message ids (marked with ``N_``); core's ``parse``
translates them. Amounts are parsed from the form's text as ``Decimal`` (never float) and checked
against the currency's minor unit: cents for USD, whole riel for KHR. Files never pass through
these models: routes take them with ``uploads`` and the services store them.
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
RepairType = Literal["roof", "walls", "floor", "water", "sanitation", "electricity", "other"]
Status = Literal["proposed", "quoted", "sent_back", "approved", "in_progress", "completed", "cancelled"]
Urgency = Literal["low", "medium", "high", "urgent"]
Material = Literal["thatch", "palm_leaves", "metal_sheets", "tiles", "wood", "bamboo", "brick", "concrete", "earth", "tarpaulin", "other"]
QuoteStatus = Literal["pending", "approved", "sent_back", "not_chosen"]
PaymentKind = Literal["advance", "completion", "other"]
Method = Literal["bank_transfer", "cash", "mobile_money"]

REPAIR_TYPES: tuple[str, ...] = ("roof", "walls", "floor", "water", "sanitation", "electricity", "other")
STATUSES: tuple[str, ...] = ("proposed", "quoted", "sent_back", "approved", "in_progress", "completed", "cancelled")
OPEN_STATUSES: tuple[str, ...] = ("proposed", "quoted", "sent_back", "approved", "in_progress")
"""Repairs not finished yet: overdue once their planned date has passed."""
URGENCIES: tuple[str, ...] = ("low", "medium", "high", "urgent")
MATERIALS: tuple[str, ...] = ("thatch", "palm_leaves", "metal_sheets", "tiles", "wood", "bamboo", "brick", "concrete", "earth", "tarpaulin", "other")

LABELS = {
    "roof": N_("Roof"),
    "walls": N_("Walls"),
    "floor": N_("Floor"),
    "water": N_("Water"),
    "sanitation": N_("Sanitation"),
    "electricity": N_("Electricity"),
    "other": N_("Other"),
    "proposed": N_("Proposed"),
    "quoted": N_("Quoted"),
    "sent_back": N_("Sent back"),
    "approved": N_("Approved"),
    "in_progress": N_("In progress"),
    "completed": N_("Completed"),
    "cancelled": N_("Cancelled"),
    "pending": N_("Waiting for a decision"),
    "not_chosen": N_("Not chosen"),
    "self": N_("Returning home"),
    "low": N_("Low"),
    "medium": N_("Medium"),
    "high": N_("High"),
    "urgent": N_("Urgent"),
    "thatch": N_("Thatch"),
    "palm_leaves": N_("Palm leaves"),
    "metal_sheets": N_("Metal sheets"),
    "tiles": N_("Tiles"),
    "wood": N_("Wood"),
    "bamboo": N_("Bamboo"),
    "brick": N_("Brick"),
    "concrete": N_("Concrete"),
    "earth": N_("Earth"),
    "tarpaulin": N_("Tarpaulin"),
    "advance": N_("Advance"),
    "completion": N_("On completion"),
    "bank_transfer": N_("Bank transfer"),
    "cash": N_("Cash"),
    "mobile_money": N_("Mobile money"),
    "photo": N_("Photo"),
    "quote": N_("Quote"),
    "invoice": N_("Invoice"),
    "signoff": N_("Family sign-off"),
}
"""English labels of the module's choice values, marked here so that extraction finds them."""

Text2000 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Text500 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Required500 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Required120 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _ids(value: Any) -> list[int]:
    """A repeated form field (a list) or a single value, as a list of ids; blanks dropped."""
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    values = [v for v in values if not (isinstance(v, str) and not v.strip())]
    if not all(isinstance(v, int) or (isinstance(v, str) and v.strip().isdecimal()) for v in values):
        raise ValueError(N_("Choose among the family members shown."))
    return [int(v) for v in values]


class AssessmentIn(BaseModel):
    """The assessment of a case's family home (``household`` repeats, one per person ticked)."""

    model_config = ConfigDict(extra="ignore")

    assessed_on: date = Field(title=N_("Date of the visit"))
    household: list[int] = Field(default_factory=list, title=N_("Who lives in the home"))
    roof: Material = Field(title=N_("Roof"))
    walls: Material = Field(title=N_("Walls"))
    floor: Material = Field(title=N_("Floor"))
    broken: Required500 = Field(title=N_("What is broken"))
    urgency: Urgency = Field(title=N_("Urgency"))
    notes: Text2000 = Field("", title=N_("Notes"))

    @field_validator("household", mode="before")
    @classmethod
    def _household(cls, value: Any) -> Any:
        return _ids(value)


class RepairIn(BaseModel):
    """A repair proposed item by item after an assessment."""

    model_config = ConfigDict(extra="ignore")

    repair_type: RepairType = Field(title=N_("Type of repair"))
    description: Required500 = Field(title=N_("What will be done"))
    planned_on: date = Field(title=N_("Planned completion"))


class QuoteIn(BaseModel):
    """A builder's or supplier's quote for one repair (its document is a file of the form)."""

    model_config = ConfigDict(extra="ignore")

    supplier: Required120 = Field(title=N_("Builder or supplier"))
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] = Field("", title=N_("Phone"))
    currency: Currency = Field(title=N_("Currency"))
    amount: Decimal = Field(title=N_("Amount"))
    quoted_on: date = Field(title=N_("Date of the quote"))

    @field_validator("supplier", "phone")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if re.search(r"[\x00-\x1f\x7f]", value):
            raise ValueError(N_("Write it on one line."))
        return value

    @field_validator("amount", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return amount_input(value)

    @field_validator("amount")
    @classmethod
    def _amount(cls, value: Decimal, info: ValidationInfo) -> Decimal | None:
        return check_amount(value, info.data.get("currency"), zero=False)


class SendBackIn(BaseModel):
    """A quote sent back to the social worker, with the reason."""

    model_config = ConfigDict(extra="ignore")

    reason: Required500 = Field(title=N_("Reason"))


class ApproveIn(BaseModel):
    """A quote approved (an optional note)."""

    model_config = ConfigDict(extra="ignore")

    note: Text500 = Field("", title=N_("Note"))


class PaymentIn(BaseModel):
    """A payment to the supplier of the approved quote (its invoice is a file of the form)."""

    model_config = ConfigDict(extra="ignore")

    kind: PaymentKind = Field(title=N_("Payment"))
    amount: Decimal = Field(title=N_("Amount"))
    paid_on: date = Field(title=N_("Date paid"))
    method: Method = Field(title=N_("Paid by"))
    reference: Annotated[str, StringConstraints(strip_whitespace=True, max_length=60)] = Field("", title=N_("Reference"))

    @field_validator("reference")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if re.search(r"[\x00-\x1f\x7f]", value):
            raise ValueError(N_("Write it on one line."))
        return value

    @field_validator("amount", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return amount_input(value)

    @field_validator("amount")
    @classmethod
    def _amount(cls, value: Decimal) -> Decimal | None:
        return check_amount(value, None, zero=False)


class ReverseIn(BaseModel):
    """Finance's correction of a payment: a reversal of its journal entry."""

    model_config = ConfigDict(extra="ignore")

    reversed_on: date = Field(title=N_("Date of the reversal"))
    reverse_reason: Required500 = Field(title=N_("Reason"))


class ProgressIn(BaseModel):
    """Progress of the works (photos are files of the form)."""

    model_config = ConfigDict(extra="ignore")

    progress_on: date = Field(title=N_("Date"))
    percent: int | None = Field(None, ge=0, le=100, title=N_("Done, per cent"))
    progress_note: Required500 = Field(title=N_("What was done"))

    @field_validator("percent", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return _blank_to_none(value)


class CompleteIn(BaseModel):
    """The repair finished, with the family's sign-off (its photo is a file of the form)."""

    model_config = ConfigDict(extra="ignore")

    completed_on: date = Field(title=N_("Date finished"))
    signed_by: int = Field(title=N_("Signed by"))
    completion_note: Text500 = Field("", title=N_("Notes"))

    @field_validator("signed_by", mode="before")
    @classmethod
    def _person(cls, value: Any) -> Any:
        value = _blank_to_none(value)
        if value is None:
            raise ValueError(N_("Choose who signed for the family."))
        return value


class CancelIn(BaseModel):
    """A repair given up, with the reason."""

    model_config = ConfigDict(extra="ignore")

    cancel_reason: Required500 = Field(title=N_("Reason"))


class SettingsIn(BaseModel):
    """The organisation's settings of the module."""

    model_config = ConfigDict(extra="ignore")

    fund: Annotated[str, StringConstraints(strip_whitespace=True, max_length=60)] = Field("", title=N_("Fund the repairs are charged to"))
    ceiling_currency: Currency = Field("USD", title=N_("Currency of the ceiling"))
    ceiling: Decimal | None = Field(None, title=N_("Budget ceiling per home"))
    expense_account: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] = Field(
        "Expenses:Programme:Housing", title=N_("Expense account"))
    pay_from_usd: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] = Field(
        "Assets:Bank:USD", title=N_("Pay dollars from"))
    pay_from_khr: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] = Field(
        "Assets:Cash:KHR", title=N_("Pay riel from"))

    @field_validator("ceiling", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return amount_input(value)

    @field_validator("ceiling")
    @classmethod
    def _ceiling(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        return check_amount(value, info.data.get("ceiling_currency"), zero=False)

    @field_validator("expense_account")
    @classmethod
    def _expense(cls, value: str) -> str:
        if not re.fullmatch(r"Expenses(:[A-Z][A-Za-z0-9-]*)+", value):
            raise ValueError(N_("Enter an account such as Expenses:Programme:Housing."))
        return value

    @field_validator("pay_from_usd", "pay_from_khr")
    @classmethod
    def _asset(cls, value: str) -> str:
        if not re.fullmatch(r"(Assets|Liabilities)(:[A-Z][A-Za-z0-9-]*)+", value):
            raise ValueError(N_("Enter an account such as Assets:Bank:USD."))
        return value


# --- timeline payloads -----------------------------------------------------------------------------


class AssessedEvent(BaseModel):
    """Payload of ``housing.assessed``."""

    assessment_id: int
    urgency: Urgency
    household: int
    photos: int = 0


class RepairEvent(BaseModel):
    """Payload of ``housing.repair_proposed``."""

    repair_id: int
    repair_type: RepairType
    planned_on: date


class QuoteEvent(BaseModel):
    """Payload of ``housing.quote_received``, ``housing.quote_approved`` and ``housing.quote_sent_back``."""

    repair_id: int
    quote_id: int
    supplier: str
    amount: str  # decimal text
    currency: Currency
    reason: str = ""


class PaymentEvent(BaseModel):
    """Payload of ``housing.payment_made`` and ``housing.payment_reversed``."""

    repair_id: int
    payment_id: int
    kind: PaymentKind
    amount: str  # decimal text
    currency: Currency
    txn_id: int
    reason: str = ""


class ProgressEvent(BaseModel):
    """Payload of ``housing.progress``."""

    repair_id: int
    percent: int | None = None
    photos: int = 0


class CompletedEvent(BaseModel):
    """Payload of ``housing.completed``."""

    repair_id: int
    signed_by_id: int


class CancelledEvent(BaseModel):
    """Payload of ``housing.cancelled``."""

    repair_id: int
    reason: str
