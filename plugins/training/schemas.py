"""Inputs of the module's forms and the payloads of its timeline events.

Validation messages are English gettext message ids (marked with ``N_``); core's ``parse``
translates them. Choice values get their labels through ``option_label`` (see ``LABELS``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from core.plugin_api import N_

Trade = Literal[
    "motor_mechanics", "electronics_repair", "electrical_installation", "air_conditioning_repair",
    "tailoring", "hairdressing", "computing", "agriculture", "literacy", "other",
]
Location = Literal["prison", "community"]
DropReason = Literal["released_or_transferred", "found_work", "health", "family", "lost_interest", "lost_contact", "other"]

LABELS = {
    "motor_mechanics": N_("Motor mechanics"),
    "electronics_repair": N_("Electronics repair"),
    "electrical_installation": N_("Electrical installation"),
    "air_conditioning_repair": N_("Air conditioning repair"),
    "tailoring": N_("Tailoring"),
    "hairdressing": N_("Hairdressing"),
    "computing": N_("Computing"),
    "agriculture": N_("Agriculture"),
    "literacy": N_("Literacy"),
    "other": N_("Other"),
    "prison": N_("Prison"),
    "community": N_("Community"),
    "released_or_transferred": N_("Released or transferred"),
    "found_work": N_("Found work"),
    "health": N_("Health"),
    "family": N_("Family"),
    "lost_interest": N_("Lost interest"),
    "lost_contact": N_("Lost contact"),
    "enrolled": N_("Enrolled"),
    "dropped_out": N_("Dropped out"),
    "completed": N_("Completed"),
}
"""English labels of the module's choice values: the humanised value, as ``option_label`` shows it,
marked here so that extraction finds it."""

Text120 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


class CourseIn(BaseModel):
    """A course as typed into its form. ``location`` comes before ``prison``, which it requires."""

    model_config = ConfigDict(extra="ignore")

    trade: Trade = Field(title=N_("Trade"))
    title: Text120 = Field(title=N_("Title"))
    certifying_body: Text120 = Field(title=N_("Certifying body"))
    hours: int = Field(title=N_("Hours"))
    pass_mark: int = Field(title=N_("Pass mark (0-100)"))
    attendance_threshold: int = Field(title=N_("Attendance needed (0-100)"))
    location: Location = Field(title=N_("Where it runs"))
    prison: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = Field("", title=N_("Prison"))

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: int) -> int:
        if not 1 <= value <= 5000:
            raise ValueError(N_("Enter a number of hours between 1 and 5000."))
        return value

    @field_validator("pass_mark", "attendance_threshold")
    @classmethod
    def _percent(cls, value: int) -> int:
        if not 0 <= value <= 100:
            raise ValueError(N_("Enter a percentage between 0 and 100."))
        return value

    @field_validator("prison")
    @classmethod
    def _prison(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("location") == "prison" and not value:
            raise ValueError(N_("Name the prison where the course runs."))
        if info.data.get("location") == "community":
            return ""
        return value


class CohortIn(BaseModel):
    """A cohort as typed into its form; the course is checked against the organisation's."""

    model_config = ConfigDict(extra="ignore")

    course_id: int = Field(title=N_("Course"))
    trainer: Text120 = Field(title=N_("Trainer"))
    starts_on: date = Field(title=N_("Start date"))
    ends_on: date = Field(title=N_("End date"))
    capacity: int = Field(title=N_("Places"))

    @field_validator("ends_on")
    @classmethod
    def _after_start(cls, value: date, info: ValidationInfo) -> date:
        starts = info.data.get("starts_on")
        if starts is not None and value < starts:
            raise ValueError(N_("The end date cannot be before the start date."))
        return value

    @field_validator("capacity")
    @classmethod
    def _capacity(cls, value: int) -> int:
        if not 1 <= value <= 500:
            raise ValueError(N_("Enter a number of places between 1 and 500."))
        return value


class SessionIn(BaseModel):
    """A session added to a cohort; the service checks the date falls within the cohort's."""

    model_config = ConfigDict(extra="ignore")

    held_on: date = Field(title=N_("Date"))
    topic: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = Field("", title=N_("Topic"))


class EnrolIn(BaseModel):
    """The cohort a case joins."""

    model_config = ConfigDict(extra="ignore")

    cohort_id: int = Field(ge=1, le=2**63 - 1, title=N_("Cohort"))  # beyond: no row, and SQLite cannot compare it


class DropOutIn(BaseModel):
    """Why and when a student left the cohort."""

    model_config = ConfigDict(extra="ignore")

    reason: DropReason = Field(title=N_("Reason"))
    dropped_on: date = Field(title=N_("Date"))
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = Field("", title=N_("Note"))


class AssessmentIn(BaseModel):
    """Practical and theory scores in percent; a blank score is not yet assessed."""

    model_config = ConfigDict(extra="ignore")

    practical_score: int | None = Field(None, title=N_("Practical score (0-100)"))
    theory_score: int | None = Field(None, title=N_("Theory score (0-100)"))

    @field_validator("practical_score", "theory_score", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @field_validator("practical_score", "theory_score")
    @classmethod
    def _percent(cls, value: int | None) -> int | None:
        if value is not None and not 0 <= value <= 100:
            raise ValueError(N_("Enter a percentage between 0 and 100."))
        return value


# --- timeline payloads -----------------------------------------------------------------------------


class EnrolledEvent(BaseModel):
    """Payload of ``training.enrolled``."""

    enrolment_id: int = Field(title=N_("Enrolment"))
    course: str = Field(title=N_("Course"))
    starts_on: date = Field(title=N_("Start date"))


class DroppedOutEvent(BaseModel):
    """Payload of ``training.dropped_out``."""

    enrolment_id: int = Field(title=N_("Enrolment"))
    course: str = Field(title=N_("Course"))
    reason: DropReason = Field(title=N_("Reason"))


class CompletedEvent(BaseModel):
    """Payload of ``training.completed``."""

    enrolment_id: int = Field(title=N_("Enrolment"))
    course: str = Field(title=N_("Course"))
    attendance: int = Field(title=N_("Attendance rate"))
    practical_score: int = Field(title=N_("Practical score (0-100)"))
    theory_score: int = Field(title=N_("Theory score (0-100)"))


class CertifiedEvent(BaseModel):
    """Payload of ``training.certified`` (the verification code stays off the timeline)."""

    certificate_id: int = Field(title=N_("Certificate"))
    number: str = Field(title=N_("Certificate number"))
    course: str = Field(title=N_("Course"))
