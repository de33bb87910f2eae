"""Inputs of the module's forms and the payloads of its timeline events.

Validation messages are English gettext message ids (marked with ``N_``); core's ``parse``
translates them. Choice values get their labels through ``option_label`` (see ``LABELS``).
Amounts are parsed from the form's text as ``Decimal`` (never float) and checked against the
currency's minor unit: cents for USD, whole riel for KHR.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from core.plugin_api import N_

BusinessType = Literal[
    "motorbike_repair", "tailoring", "grocery_stall", "pig_raising", "hairdressing",
    "electronics_repair", "agriculture", "food_stall", "other",
]
Currency = Literal["USD", "KHR"]
Method = Literal["cash", "bank"]
Asset = Literal["equipment", "stock"]
YesNo = Literal["yes", "no"]

DIGITS = {"USD": 2, "KHR": 0}
"""Decimal places of the currencies a grant may use (the ledger's minor units)."""

LABELS = {
    "motorbike_repair": N_("Motorbike repair"),
    "tailoring": N_("Tailoring"),
    "grocery_stall": N_("Grocery stall"),
    "pig_raising": N_("Pig raising"),
    "hairdressing": N_("Hairdressing"),
    "electronics_repair": N_("Electronics repair"),
    "agriculture": N_("Agriculture"),
    "food_stall": N_("Food stall"),
    "other": N_("Other"),
    "submitted": N_("Submitted"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "partly_disbursed": N_("Partly disbursed"),
    "disbursed": N_("Fully disbursed"),
    "repaying": N_("Repaying"),
    "repaid": N_("Repaid"),
    "written_off": N_("Written off"),
    "cash": N_("Cash"),
    "bank": N_("Bank"),
    "equipment": N_("Equipment"),
    "stock": N_("Stock"),
    "tranche": N_("Tranche"),
    "purchase": N_("Purchase in kind"),
    "repayment": N_("Repayment"),
    "write_off": N_("Write-off"),
    "write_off_reversal": N_("Write-off reversed"),
    "yes": N_("Yes"),
    "no": N_("No"),
}
"""English labels of the module's choice values, marked here so that extraction finds them."""

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)]
Required120 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _decimal(value: Any) -> Any:
    """Text to ``Decimal`` exactly (thousands separators allowed); never through float."""
    if isinstance(value, str):
        text = value.strip().replace(",", "").replace(" ", "")
        if not re.fullmatch(r"-?\d+(\.\d+)?", text):
            raise ValueError(N_("Enter an amount such as 1250 or 12.50."))
        try:
            return Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern above keeps this out
            raise ValueError(N_("Enter an amount such as 1250 or 12.50.")) from None
    if isinstance(value, float):
        raise ValueError(N_("Enter an amount such as 1250 or 12.50."))
    return value


def check_amount(value: Decimal, currency: str | None, *, zero: bool = False) -> Decimal:
    """``value`` when positive (or zero, with ``zero``) and exact in ``currency``'s minor unit."""
    if value < 0 or (value == 0 and not zero):
        raise ValueError(N_("Enter an amount more than zero.") if not zero else N_("Enter zero or more."))
    if value > Decimal("1000000000000"):
        raise ValueError(N_("This amount is too large."))
    if currency in DIGITS:
        scaled = value.scaleb(DIGITS[currency])
        if scaled != scaled.to_integral_value():
            raise ValueError(N_("US dollars have at most 2 decimal places.") if currency == "USD" else N_("Riel are whole numbers."))
    return value


Amount = Annotated[Decimal, Field(allow_inf_nan=False)]


class CostItemIn(BaseModel):
    """One start-up cost: what, how much, in which currency."""

    model_config = ConfigDict(extra="ignore")

    description: Required120 = Field(title=N_("Item"))
    currency: Currency = Field(title=N_("Currency"))
    amount: Amount = Field(title=N_("Amount"))

    @field_validator("amount", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return _decimal(value)

    @field_validator("amount")
    @classmethod
    def _amount(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        return check_amount(value, info.data.get("currency"))


class PlanIn(BaseModel):
    """A business plan as typed into its form (the cost items come as ``items.N.*`` rows)."""

    model_config = ConfigDict(extra="ignore")

    business_type: BusinessType = Field(title=N_("Type of business"))
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)] = Field(title=N_("Description"))
    village: Text = Field("", title=N_("Village"))
    commune: Text = Field("", title=N_("Commune"))
    district: Text = Field("", title=N_("District"))
    province: Text = Field("", title=N_("Province"))
    items: list[CostItemIn] = Field(title=N_("Start-up costs"))
    expected_income_currency: Currency = Field(title=N_("Currency"))
    expected_income: Amount = Field(title=N_("Expected monthly income"))
    contribution_currency: Currency = Field(title=N_("Currency"))
    contribution: Amount = Field(Decimal(0), title=N_("Own contribution"))
    certificate_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] = Field("", title=N_("Training certificate number"))

    @field_validator("expected_income", "contribution", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        value = _blank_to_none(value)
        return Decimal(0) if value is None else _decimal(value)

    @field_validator("items")
    @classmethod
    def _items(cls, value: list[CostItemIn]) -> list[CostItemIn]:
        if not value:
            raise ValueError(N_("List at least one start-up cost."))
        return value

    @field_validator("expected_income")
    @classmethod
    def _income(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        return check_amount(value, info.data.get("expected_income_currency"), zero=True)

    @field_validator("contribution")
    @classmethod
    def _contribution(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        return check_amount(value, info.data.get("contribution_currency"), zero=True)


class RejectIn(BaseModel):
    """Why the plan is rejected."""

    model_config = ConfigDict(extra="ignore")

    reason: Reason = Field(title=N_("Reason"))


class TrancheIn(BaseModel):
    """A tranche as typed: ``share`` is an amount (``300``) or a percentage (``60%``)."""

    model_config = ConfigDict(extra="ignore")

    share: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)] = Field(title=N_("Amount or percentage"))
    condition: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)] = Field(title=N_("Condition"))

    @field_validator("share")
    @classmethod
    def _share(cls, value: str) -> str:
        text = value.replace(" ", "")
        number = text[:-1] if text.endswith("%") else text
        parsed = _decimal(number)
        if parsed <= 0:
            raise ValueError(N_("Enter an amount more than zero."))
        if text.endswith("%") and parsed > 100:
            raise ValueError(N_("Enter a percentage between 0 and 100."))
        return text


class InstalmentIn(BaseModel):
    """A due date and amount of the repayment schedule."""

    model_config = ConfigDict(extra="ignore")

    due_on: date = Field(title=N_("Due date"))
    amount: Amount = Field(title=N_("Amount"))

    @field_validator("amount", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return _decimal(value)

    @field_validator("amount")
    @classmethod
    def _amount(cls, value: Decimal) -> Decimal:
        return check_amount(value, None)


class ApproveIn(BaseModel):
    """The approval: amount and fund, the tranches (``tranches.N.*`` rows) and optionally a
    repayable part with its schedule (``instalments.N.*`` rows). The sums are checked by the
    service, which knows the currency's minor unit."""

    model_config = ConfigDict(extra="ignore")

    currency: Currency = Field(title=N_("Currency"))
    amount: Amount = Field(title=N_("Grant amount"))
    fund: Required120 = Field(title=N_("Fund"))
    tranches: list[TrancheIn] = Field(title=N_("Tranches"))
    repayable: Amount = Field(Decimal(0), title=N_("Repayable part (interest-free loan)"))
    instalments: list[InstalmentIn] = Field(default_factory=list, title=N_("Repayment schedule"))

    @field_validator("amount", "repayable", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        value = _blank_to_none(value)
        return Decimal(0) if value is None else _decimal(value)

    @field_validator("amount")
    @classmethod
    def _amount(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        return check_amount(value, info.data.get("currency"))

    @field_validator("repayable")
    @classmethod
    def _repayable(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        check_amount(value, info.data.get("currency"), zero=True)
        amount = info.data.get("amount")
        if amount is not None and value > amount:
            raise ValueError(N_("The repayable part cannot be more than the grant."))
        return value

    @field_validator("tranches")
    @classmethod
    def _tranches(cls, value: list[TrancheIn]) -> list[TrancheIn]:
        if not value:
            raise ValueError(N_("Give at least one tranche."))
        return value


class PaymentIn(BaseModel):
    """A payment out of (or into) the bank or cash box: the amount in the grant's currency,
    paid in ``currency`` (converted at the day's recorded rate when it differs)."""

    model_config = ConfigDict(extra="ignore")

    paid_on: date = Field(title=N_("Date"))
    method: Method = Field(title=N_("Payment method"))
    currency: Currency = Field(title=N_("Paid in"))
    amount: Amount | None = Field(None, title=N_("Amount (grant currency)"))

    @field_validator("amount", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        value = _blank_to_none(value)
        return None if value is None else _decimal(value)

    @field_validator("amount")
    @classmethod
    def _amount(cls, value: Decimal | None) -> Decimal | None:
        return None if value is None else check_amount(value, None)


class DisburseIn(PaymentIn):
    """The next tranche: a blank amount pays the tranche's scheduled amount."""


class PurchaseIn(PaymentIn):
    """Something bought in kind on the person's behalf."""

    description: Required120 = Field(title=N_("What was bought"))
    supplier: Text = Field("", title=N_("Supplier"))
    asset: Asset = Field(title=N_("Record as"))

    @field_validator("amount")
    @classmethod
    def _required(cls, value: Decimal | None) -> Decimal | None:
        if value is None:
            raise ValueError(N_("This field is required."))
        return value


class RepaymentIn(PaymentIn):
    """A repayment of the loan."""

    @field_validator("amount")
    @classmethod
    def _required(cls, value: Decimal | None) -> Decimal | None:
        if value is None:
            raise ValueError(N_("This field is required."))
        return value


class WriteOffIn(BaseModel):
    """Writing off what is still owed, with the reason."""

    model_config = ConfigDict(extra="ignore")

    written_on: date = Field(title=N_("Date"))
    reason: Reason = Field(title=N_("Reason"))


class MonthIn(BaseModel):
    """A month's figures of the business, in the grant's currency."""

    model_config = ConfigDict(extra="ignore")

    month: date = Field(title=N_("Month"))
    sales: Amount = Field(title=N_("Sales"))
    costs: Amount = Field(title=N_("Costs (cash spent)"))
    drawings: Amount = Field(title=N_("Drawings"))
    stock: Amount = Field(title=N_("Stock at the end of the month"))
    still_trading: YesNo = Field(title=N_("Still trading"))
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = Field("", title=N_("Note"))

    @field_validator("month", mode="before")
    @classmethod
    def _month(cls, value: Any) -> Any:
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}", value.strip()):
            return value.strip() + "-01"
        return value

    @field_validator("month")
    @classmethod
    def _first(cls, value: date) -> date:
        return value.replace(day=1)

    @field_validator("sales", "costs", "drawings", "stock", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        value = _blank_to_none(value)
        return Decimal(0) if value is None else _decimal(value)

    @field_validator("sales", "costs", "drawings", "stock")
    @classmethod
    def _amounts(cls, value: Decimal) -> Decimal:
        return check_amount(value, None, zero=True)


class CorrectIn(BaseModel):
    """Why a record is corrected (the reason goes on the reversal entry)."""

    model_config = ConfigDict(extra="ignore")

    reason: Reason = Field(title=N_("Reason"))


# --- timeline payloads -----------------------------------------------------------------------------


class PlanEvent(BaseModel):
    """Payload of ``grants.plan_submitted``."""

    grant_id: int = Field(title=N_("Grant"))
    business_type: BusinessType = Field(title=N_("Type of business"))


class _GrantEvent(BaseModel):
    grant_id: int = Field(title=N_("Grant"))


class _MoneyOfGrantEvent(_GrantEvent):
    amount: str = Field(title=N_("Amount"))
    currency: Currency = Field(title=N_("Currency"))


class RejectedEvent(_GrantEvent):
    """Payload of ``grants.plan_rejected``."""

    reason: str = Field(title=N_("Reason"))


class ApprovedEvent(_GrantEvent):
    """Payload of ``grants.approved``."""

    amount: str = Field(title=N_("Grant amount"))
    currency: Currency = Field(title=N_("Currency"))
    fund: str = Field(title=N_("Fund"))


class MoneyEvent(_MoneyOfGrantEvent):
    """Payload of ``grants.tranche_disbursed``, ``grants.purchase_recorded`` and
    ``grants.repayment_recorded``."""

    receipt: str = Field(title=N_("Receipt"))


class WriteOffEvent(_MoneyOfGrantEvent):
    """Payload of ``grants.written_off`` and ``grants.write_off_reversed``."""

    reason: str = Field(title=N_("Reason"))


class MonthEvent(_GrantEvent):
    """Payload of ``grants.business_month``."""

    month: str = Field(title=N_("Month"))
    still_trading: YesNo = Field(title=N_("Still trading"))
