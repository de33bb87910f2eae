"""The module's tables, on core's shared metadata so that Alembic sees one schema.

Every table but ``training_verify_attempts`` carries ``org_id``; services filter on it. Scores,
pass marks and attendance thresholds are whole percentages (0-100).
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.plugin_api import Base


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Course(Base):
    """A course of the catalogue: a trade taught to a certifying body's standard."""

    __tablename__ = "training_courses"
    __table_args__ = (
        Index("ix_training_courses_org_title", "org_id", "title"),
        CheckConstraint("hours > 0", name="hours_positive"),
        CheckConstraint("pass_mark BETWEEN 0 AND 100", name="pass_mark_percent"),
        CheckConstraint("attendance_threshold BETWEEN 0 AND 100", name="attendance_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    trade: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(120))
    certifying_body: Mapped[str] = mapped_column(String(120))
    hours: Mapped[int] = mapped_column(Integer)
    pass_mark: Mapped[int] = mapped_column(Integer)
    attendance_threshold: Mapped[int] = mapped_column(Integer)
    location: Mapped[str] = mapped_column(String(20))  # "prison" or "community"
    prison: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


class Cohort(Base):
    """One run of a course: a trainer, dates, a number of places and its sessions."""

    __tablename__ = "training_cohorts"
    __table_args__ = (
        Index("ix_training_cohorts_org_start", "org_id", "starts_on"),
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("ends_on >= starts_on", name="dates_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    course_id: Mapped[int] = mapped_column(ForeignKey("training_courses.id"), index=True)
    trainer: Mapped[str] = mapped_column(String(120))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    capacity: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)

    course: Mapped[Course] = relationship(lazy="joined", innerjoin=True)


class TrainingSession(Base):
    """A day of a cohort's teaching, on which attendance is taken."""

    __tablename__ = "training_sessions"
    __table_args__ = (Index("ix_training_sessions_cohort_date", "cohort_id", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    cohort_id: Mapped[int] = mapped_column(ForeignKey("training_cohorts.id"))
    held_on: Mapped[date] = mapped_column(Date)
    topic: Mapped[str] = mapped_column(String(120), default="")


class Enrolment(Base):
    """A case's place in a cohort, with its assessment scores and how it ended."""

    __tablename__ = "training_enrolments"
    __table_args__ = (
        UniqueConstraint("cohort_id", "case_id", name="uq_training_enrolments_cohort_case"),
        Index("ix_training_enrolments_org_case", "org_id", "case_id"),
        CheckConstraint("practical_score IS NULL OR practical_score BETWEEN 0 AND 100", name="practical_percent"),
        CheckConstraint("theory_score IS NULL OR theory_score BETWEEN 0 AND 100", name="theory_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    cohort_id: Mapped[int] = mapped_column(ForeignKey("training_cohorts.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    enrolled_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="enrolled")  # enrolled, dropped_out, completed
    dropped_on: Mapped[date | None] = mapped_column(Date)
    drop_reason: Mapped[str | None] = mapped_column(String(40))
    drop_note: Mapped[str] = mapped_column(String(200), default="")
    practical_score: Mapped[int | None] = mapped_column(Integer)
    theory_score: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)

    cohort: Mapped[Cohort] = relationship(lazy="joined", innerjoin=True)


class Attendance(Base):
    """Whether a student was there on one session (no row: not recorded, counted as absent)."""

    __tablename__ = "training_attendance"
    __table_args__ = (
        UniqueConstraint("session_id", "enrolment_id", name="uq_training_attendance_session_enrolment"),
        Index("ix_training_attendance_enrolment", "enrolment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id"))
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("training_enrolments.id"))
    present: Mapped[bool] = mapped_column(Boolean)


class Certificate(Base):
    """A certificate issued for a completed enrolment.

    ``holder_name``, ``course_title`` and ``issued_on`` are what the public verification page
    shows, copied at issue so that the page needs nothing else about the person.
    """

    __tablename__ = "training_certificates"
    __table_args__ = (Index("ix_training_certificates_org", "org_id", "issued_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("training_enrolments.id"), unique=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    verification_code: Mapped[str] = mapped_column(String(20))
    holder_name: Mapped[str] = mapped_column(String(200))
    course_title: Mapped[str] = mapped_column(String(120))
    issued_on: Mapped[date] = mapped_column(Date)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


class VerifyAttempt(Base):
    """Look-ups on the public verification page per client address and minute.

    The counter lives in the shared database, not in a process, so the limit holds however many
    app servers answer. Rows older than a few minutes are deleted as new ones come.
    """

    __tablename__ = "training_verify_attempts"

    ip: Mapped[str] = mapped_column(String(64), primary_key=True)
    minute: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # Unix time // 60
    count: Mapped[int] = mapped_column(Integer, default=0)
