"""Input schemas shared by the HTML forms and the JSON API, and output schemas of the API.

Validation messages are written in English as gettext message ids; the web layer translates them
(see :func:`core.web.forms.field_errors`).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, field_validator, model_serializer

from core.i18n import N_
from core.models import CaseStatus, CloseReason, Relation, Sex

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]

SENSITIVE_FIELDS: dict[str, frozenset[str]] = {"person": frozenset({"medical_notes"}), "case": frozenset({"offence"})}
"""The fields of a person's and a case's record that only holders of ``records.sensitive`` see or
set (docs/security.md "Access")."""


RecordId = Annotated[int, Field(ge=1, le=2**63 - 1)]
"""The id of a record named in a request: a row's id is a positive 64-bit integer, so a larger
number names nothing and is refused as input (SQLite cannot even compare it: it was a 500)."""


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


class _Input(BaseModel):
    model_config = ConfigDict(extra="ignore")

    @field_validator("*", mode="before")
    @classmethod
    def _blanks(cls, value: object, info) -> object:  # noqa: ANN001
        # An empty form field means "no value" for optional fields.
        field = cls.model_fields[info.field_name]
        return value if field.is_required() else _blank_to_none(value)


class PersonIn(_Input):
    name: Name = Field(title="Name (Latin script)")
    name_km: Text | None = Field(None, title="Name (Khmer script)")
    sex: Sex | None = Field(None, title="Sex")
    date_of_birth: date | None = Field(None, title="Date of birth")
    id_number: Text | None = Field(None, title="ID number")
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = Field(
        None, title="Phone"
    )
    village: Text | None = Field(None, title="Village")
    commune: Text | None = Field(None, title="Commune")
    district: Text | None = Field(None, title="District")
    province: Text | None = Field(None, title="Province")
    # Sensitive: set only by holders of ``records.sensitive``; left as it is when not sent.
    medical_notes: LongText | None = Field(None, title="Medical notes")

    @field_validator("date_of_birth")
    @classmethod
    def _not_future(cls, value: date | None) -> date | None:
        if value is not None and value > date.today():
            raise ValueError(N_("The date of birth cannot be in the future."))
        if value is not None and value.year < 1900:
            raise ValueError(N_("Enter a date after 1900."))
        return value


class PersonLinkIn(_Input):
    relative_id: RecordId = Field(title="Family member")
    relation: Relation = Field(title="Relation")


class CaseIn(_Input):
    person_id: RecordId = Field(title="Person")
    programme: Text = Field("", title="Programme")
    case_manager_id: RecordId | None = Field(None, title="Case manager")
    prison: Text | None = Field(None, title="Prison")
    prisoner_number: Text | None = Field(None, title="Prisoner number")
    sentence_start: date | None = Field(None, title="Sentence start")
    sentence_end: date | None = Field(None, title="Sentence end")
    expected_release: date | None = Field(None, title="Expected release")
    # Sensitive: set only by holders of ``records.sensitive``; left as it is when not sent.
    offence: LongText | None = Field(None, title="Offence")


class CaseEditIn(CaseIn):
    person_id: RecordId | None = Field(None, title="Person")  # type: ignore[assignment]


class StatusChangeIn(_Input):
    status: CaseStatus = Field(title="New status")
    actual_release: date | None = Field(None, title="Release date")
    close_reason: CloseReason | None = Field(None, title="Reason for closing")
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = Field(
        "", title="Note"
    )


class EventIn(_Input):
    kind: str = Field(title="Kind")
    occurred_on: date = Field(title="Date")
    summary: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] = Field(
        "", title="Notes"
    )
    payload: dict[str, object] = Field(default_factory=dict)
    corrects_id: RecordId | None = None

    @field_validator("occurred_on")
    @classmethod
    def _not_future(cls, value: date) -> date:
        if value > date.today():
            raise ValueError(N_("The date cannot be in the future."))
        return value


class DataProtectionIn(_Input):
    """The data protection form: the roles (besides administrators) that see sensitive fields, and
    how many months after closing a case is anonymised (empty: never automatically). The range
    is checked by :func:`core.services.admin.set_data_protection`."""

    sensitive_roles: list[str] = Field(default_factory=list, title="Roles that see medical notes and offence details")
    retention_months: int | None = Field(None, title="Anonymise closed cases after (months)")

    @field_validator("sensitive_roles", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        # A form sends one checked box as a string, several as a list, none at all as nothing.
        if value is None:
            return []
        return [value] if isinstance(value, str) else value


class FollowUpPolicyIn(_Input):
    """The follow-up policy form (the ranges are checked by
    :func:`core.services.followups.set_policy`, which knows the unit)."""

    follow_up_interval: int = Field(title="Visit every")
    follow_up_interval_unit: Literal["days", "months"] = Field(title="Unit")
    follow_up_duration_months: int = Field(title="Follow-up lasts (months)")
    follow_up_escalate_days: int = Field(title="Escalate after (days overdue)")


class GoalIn(_Input):
    area: str = Field(title="Area")
    description: Name = Field(title="Goal")
    state: str = Field("not_started", title="State")
    next_step: Text | None = Field(None, title="Next step")


class GoalUpdateIn(_Input):
    """A goal's progress: its wording, state and next step (its area stays)."""

    description: Name = Field(title="Goal")
    state: str = Field(title="State")
    next_step: Text | None = Field(None, title="Next step")


class TokenIn(BaseModel):
    email: str
    password: str
    organisation: str | None = None


# --- API output --------------------------------------------------------------------------------


class _Withholding(BaseModel):
    """An output whose sensitive fields are left out (absent, not ``null``) for a reader who may
    not see them: build it with :meth:`for_reader`."""

    _withheld: frozenset[str] = PrivateAttr(default=frozenset())
    record_type: ClassVar[str] = ""

    @classmethod
    def for_reader(cls, values: Any, sees_sensitive: bool) -> Any:
        out = cls.model_validate(values)
        if not sees_sensitive:
            out._withheld = SENSITIVE_FIELDS[cls.record_type]
        return out

    @model_serializer(mode="wrap")
    def _leave_out_withheld(self, handler: Any) -> dict[str, Any]:
        data = handler(self)
        for name in self._withheld:
            data.pop(name, None)
        return data


class PersonOut(_Withholding):
    model_config = ConfigDict(from_attributes=True)
    record_type: ClassVar[str] = "person"
    id: int
    name: str
    name_km: str | None
    sex: str | None
    date_of_birth: date | None
    id_number: str | None
    phone: str | None
    village: str | None
    commune: str | None
    district: str | None
    province: str | None
    medical_notes: str | None = Field(
        None, description="Only for users whose role may see sensitive fields (records.sensitive); absent otherwise."
    )


class CaseOut(_Withholding):
    model_config = ConfigDict(from_attributes=True)
    record_type: ClassVar[str] = "case"
    id: int
    person_id: int
    person_name: str
    programme: str
    case_manager_id: int | None
    prison: str | None
    prisoner_number: str | None
    sentence_start: date | None
    sentence_end: date | None
    expected_release: date | None
    actual_release: date | None
    status: str
    close_reason: str | None
    opened_on: date
    offence: str | None = Field(
        None, description="Only for users whose role may see sensitive fields (records.sensitive); absent otherwise."
    )


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    case_id: int
    kind: str
    occurred_on: date
    summary: str
    payload: dict[str, object]
    recorded_by_id: int | None
    corrects_id: int | None


class GoalOut(BaseModel):
    """A goal of a case's release plan."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    case_id: int
    area: str
    description: str
    state: str
    next_step: str | None


class PlanAreaOut(BaseModel):
    """One area of a release plan: ``state`` is the least advanced goal's (``none``: no goal)."""

    area: str
    state: str
    done: bool


class ReadinessOut(BaseModel):
    """A case due for release (or whose expected date passed) and its plan by area."""

    case_id: int
    person_name: str
    expected_release: date
    days_left: int
    areas: list[PlanAreaOut]
    open_goals: list[dict[str, str]]


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    limit: int
    offset: int
    has_more: bool


class ApiError(BaseModel):
    """The body of every refusal the JSON API answers (4xx): ``detail`` a sentence for the user;
    ``errors`` ``{field: message}`` for a refused record; ``extra`` Litestar's validation details."""

    status_code: int
    detail: str
    errors: dict[str, str] | None = None
    extra: list[dict[str, Any]] | dict[str, Any] | None = None
