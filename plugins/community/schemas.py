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

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from core.plugin_api import N_
from ledger.api import amount_input, check_amount

Currency = Literal["USD", "KHR"]
PartnerKind = Literal["church", "pagoda", "commune_office", "employer", "health_centre", "other"]
Purpose = Literal["spiritual_support", "employment", "health", "local_follow_up"]
Answer = Literal["accepted", "declined", "completed"]
CostItem = Literal["refreshments", "transport"]

KINDS: tuple[str, ...] = ("church", "pagoda", "commune_office", "employer", "health_centre", "other")
PURPOSES: tuple[str, ...] = ("spiritual_support", "employment", "health", "local_follow_up")
STATUSES: tuple[str, ...] = ("sent", "accepted", "declined", "completed")
ITEMS: tuple[str, ...] = ("refreshments", "transport")

NEXT: dict[str, tuple[str, ...]] = {"sent": ("accepted", "declined"), "accepted": ("completed",), "declined": (), "completed": ()}
"""The steps a referral may take from each status: a partner answers a sent referral, and
completes one it accepted; declined and completed are final."""

LABELS = {
    "church": N_("Church"),
    "pagoda": N_("Pagoda"),
    "commune_office": N_("Commune office"),
    "employer": N_("Employer"),
    "health_centre": N_("Health centre"),
    "other": N_("Other"),
    "spiritual_support": N_("Spiritual support"),
    "employment": N_("Employment"),
    "health": N_("Health"),
    "local_follow_up": N_("Local follow-up"),
    "sent": N_("Sent"),
    "accepted": N_("Accepted"),
    "declined": N_("Declined"),
    "completed": N_("Completed"),
    "refreshments": N_("Refreshments"),
    "transport": N_("Participants' transport"),
}
"""English labels of the module's choice values, marked here so that extraction finds them."""

HUMANISED = (N_("Commune office"), N_("Health centre"), N_("Spiritual support"), N_("Local follow up"), N_("Transport"))
"""Choice values as core's ``option_label`` shows them on the timeline (the value humanised,
through gettext), marked so that the catalog translates them."""

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Account = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


class SettingsIn(BaseModel):
    """The organisation's settings of the module."""

    model_config = ConfigDict(extra="ignore")

    fund: Annotated[str, StringConstraints(strip_whitespace=True, max_length=60)] = Field("", title=N_("Fund meeting costs are charged to"))
    expense_account: Account = Field("Expenses:Programme:Community", title=N_("Expense account"))
    pay_from_usd: Account = Field("", title=N_("Pay US dollars from"))
    pay_from_khr: Account = Field("", title=N_("Pay riel from"))

    @field_validator("expense_account")
    @classmethod
    def _expense(cls, value: str) -> str:
        if not re.fullmatch(r"Expenses(:[A-Z][A-Za-z0-9-]*)+", value):
            raise ValueError(N_("Enter an expense account such as Expenses:Programme:Community."))
        return value


class PartnerIn(BaseModel):
    """A community partner as typed into the directory's form."""

    model_config = ConfigDict(extra="ignore")

    kind: PartnerKind = Field(title=N_("Kind"))
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=160)] = Field(title=N_("Name"))
    contact_person: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = Field("", title=N_("Contact person"))
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] = Field("", title=N_("Phone"))
    village: Text = Field("", title=N_("Village"))
    commune: Text = Field("", title=N_("Commune"))
    district: Text = Field("", title=N_("District"))
    province: Text = Field("", title=N_("Province"))
    helps_with: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] = Field("", title=N_("What they can help with"))
    agreement_signed: bool = Field(False, title=N_("Data-sharing agreement signed"))
    agreement_on: date | None = Field(None, title=N_("Date the agreement was signed"))

    @field_validator("agreement_on", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        if value and not re.fullmatch(r"\+?[0-9][0-9 ()-]{5,}", value):
            raise ValueError(N_("Enter a phone number: digits, spaces and dashes."))
        return value

    @model_validator(mode="after")
    def _agreement(self) -> PartnerIn:
        if not self.agreement_signed:  # a date without the box ticked means nothing yet
            self.agreement_on = None
        return self


class ReferralIn(BaseModel):
    """A case referred to a partner."""

    model_config = ConfigDict(extra="ignore")

    partner: int = Field(title=N_("Partner"))
    purpose: Purpose = Field(title=N_("Purpose"))
    referred_on: date = Field(title=N_("Date referred"))
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = Field("", title=N_("What the partner is asked to do"))


class AnswerIn(BaseModel):
    """The partner's answer, or the end of the work: the new status, its date and the feedback."""

    model_config = ConfigDict(extra="ignore")

    status: Answer = Field(title=N_("Status"))
    on: date = Field(title=N_("Date"))
    feedback: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] = Field("", title=N_("Partner's feedback"))


class MeetingIn(BaseModel):
    """A peer meeting planned or held."""

    model_config = ConfigDict(extra="ignore")

    held_on: date = Field(title=N_("Date"))
    place: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] = Field(title=N_("Place"))
    facilitator: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)] = Field(title=N_("Facilitator"))
    topic: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] = Field(title=N_("Topic"))
    reflections: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] = Field("", title=N_("Reflections"))


class AttendanceIn(BaseModel):
    """Someone who came: a former prisoner (``case``) or a family member (``person``) invited with
    the case of ``family_of``."""

    model_config = ConfigDict(extra="ignore")

    case: int | None = Field(None, title=N_("Former prisoner"))
    person: int | None = Field(None, title=N_("Family member"))
    reflection: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] = Field("", title=N_("Reflection"))

    @field_validator("case", "person", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return _blank_to_none(value)


class CostIn(BaseModel):
    """A cost of a meeting paid."""

    model_config = ConfigDict(extra="ignore")

    item: CostItem = Field(title=N_("Cost"))
    paid_on: date = Field(title=N_("Date paid"))
    currency: Currency = Field(title=N_("Currency"))
    amount: Decimal = Field(title=N_("Amount"))
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = Field("", title=N_("Note"))

    @field_validator("amount", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        parsed = amount_input(value)
        if parsed is None:
            raise ValueError(N_("Enter an amount more than zero."))
        return parsed

    @field_validator("amount")
    @classmethod
    def _amount(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        return check_amount(value, info.data.get("currency"), zero=False)  # type: ignore[return-value]


class ReverseIn(BaseModel):
    """A correction: the reversal's date and reason."""

    model_config = ConfigDict(extra="ignore")

    reversed_on: date = Field(title=N_("Date of the reversal"))
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)] = Field(title=N_("Reason"))


# --- timeline payloads -----------------------------------------------------------------------------


class ReferralEvent(BaseModel):
    """Payload of ``community.referred``."""

    referral_id: int
    partner: str = Field(title=N_("Partner"))
    kind: PartnerKind = Field(title=N_("Kind"))
    purpose: Purpose = Field(title=N_("Purpose"))


class AnswerEvent(BaseModel):
    """Payload of ``community.referral_accepted``, ``community.referral_declined`` and
    ``community.referral_completed``."""

    referral_id: int
    partner: str = Field(title=N_("Partner"))
    feedback: str = Field("", title=N_("Partner's feedback"))


class AttendedEvent(BaseModel):
    """Payload of ``community.meeting_attended``."""

    meeting_id: int
    topic: str = Field(title=N_("Topic"))
    place: str = Field("", title=N_("Place"))
