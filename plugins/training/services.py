"""The training module's rules: catalogue, enrolment, attendance, assessment, certification and
the public verification of certificates.

Every query of staff pages is limited to ``ctx.org_id``. Services add and flush; the route
commits once, so an action and its timeline events are written together or not at all.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.plugin_api import ActionRefused, Case, CaseStatus, Context, Event, Organisation, Person, RecordNotFound, User, by_month, record_event
from core.plugin_api import gettext as _
from plugins.training.models import Attendance, Certificate, Cohort, Course, Enrolment, TrainingSession, VerifyAttempt
from plugins.training.schemas import (
    AssessmentIn,
    CertifiedEvent,
    CohortIn,
    CompletedEvent,
    CourseIn,
    DroppedOutEvent,
    DropOutIn,
    EnrolledEvent,
    SessionIn,
)

VIEW = "training.view"
MANAGE = "training.manage"
RECORD = "training.record"
CERTIFY = "training.certify"

ENROLLED = "training.enrolled"
DROPPED_OUT = "training.dropped_out"
COMPLETED = "training.completed"
CERTIFIED = "training.certified"

VERIFY_LIMIT_PER_MINUTE = 10
"""Look-ups one client address may make on ``/verify`` in a minute."""

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread on paper
CODE_LENGTH = 10


def _require(ctx: Context, permission: str) -> None:
    if not ctx.user.can(permission):
        raise ActionRefused(_("Your role does not allow this."))


# --- catalogue -------------------------------------------------------------------------------------


def courses(ctx: Context) -> list[Course]:
    return list(ctx.session.scalars(select(Course).where(Course.org_id == ctx.org_id).order_by(Course.title, Course.id)))


def get_course(ctx: Context, course_id: int) -> Course:
    """The course with this id in the current organisation, or :class:`RecordNotFound`."""
    course = ctx.session.scalar(select(Course).where(Course.id == course_id, Course.org_id == ctx.org_id))
    if course is None:
        raise RecordNotFound
    return course


def save_course(ctx: Context, data: CourseIn, course: Course | None = None) -> Course:
    """Create a course, or update ``course`` with ``data``."""
    _require(ctx, MANAGE)
    if course is None:
        course = Course(org_id=ctx.org_id)
        ctx.session.add(course)
    values = data.model_dump()
    values["prison"] = values["prison"] or None  # a community course has no prison
    for name, value in values.items():
        setattr(course, name, value)
    ctx.session.flush()
    return course


def cohorts(ctx: Context) -> list[Cohort]:
    query = select(Cohort).where(Cohort.org_id == ctx.org_id).order_by(Cohort.starts_on.desc(), Cohort.id.desc())
    return list(ctx.session.scalars(query))


def open_cohorts(ctx: Context) -> list[Cohort]:
    """Cohorts a case may still join: those not yet ended."""
    query = select(Cohort).where(Cohort.org_id == ctx.org_id, Cohort.ends_on >= ctx.today).order_by(Cohort.starts_on, Cohort.id)
    return list(ctx.session.scalars(query))


def get_cohort(ctx: Context, cohort_id: int) -> Cohort:
    cohort = ctx.session.scalar(select(Cohort).where(Cohort.id == cohort_id, Cohort.org_id == ctx.org_id))
    if cohort is None:
        raise RecordNotFound
    return cohort


def save_cohort(ctx: Context, data: CohortIn, cohort: Cohort | None = None) -> Cohort:
    """Create a cohort, or update ``cohort``; the course must be the organisation's and the
    places cannot drop below the students already enrolled."""
    _require(ctx, MANAGE)
    try:
        get_course(ctx, data.course_id)
    except RecordNotFound:
        raise ActionRefused(_("Choose one of the options."), "course_id") from None
    if cohort is not None and data.capacity < taken_places(ctx, cohort):
        raise ActionRefused(_("More students are already enrolled than this number of places."), "capacity")
    if cohort is None:
        cohort = Cohort(org_id=ctx.org_id)
        ctx.session.add(cohort)
    for name, value in data.model_dump().items():
        setattr(cohort, name, value)
    ctx.session.flush()
    ctx.session.expire(cohort, ["course"])
    return cohort


def sessions_of(ctx: Context, cohort: Cohort) -> list[TrainingSession]:
    query = (
        select(TrainingSession)
        .where(TrainingSession.org_id == ctx.org_id, TrainingSession.cohort_id == cohort.id)
        .order_by(TrainingSession.held_on, TrainingSession.id)
    )
    return list(ctx.session.scalars(query))


def get_session(ctx: Context, session_id: int) -> TrainingSession:
    row = ctx.session.scalar(select(TrainingSession).where(TrainingSession.id == session_id, TrainingSession.org_id == ctx.org_id))
    if row is None:
        raise RecordNotFound
    return row


def add_session(ctx: Context, cohort: Cohort, data: SessionIn) -> TrainingSession:
    """Add a session on a day within the cohort's dates."""
    _require(ctx, MANAGE)
    if not cohort.starts_on <= data.held_on <= cohort.ends_on:
        raise ActionRefused(_("The session must fall between the cohort's start and end dates."), "held_on")
    row = TrainingSession(org_id=ctx.org_id, cohort_id=cohort.id, held_on=data.held_on, topic=data.topic)
    ctx.session.add(row)
    ctx.session.flush()
    return row


# --- enrolment -------------------------------------------------------------------------------------


def taken_places(ctx: Context, cohort: Cohort) -> int:
    """Students holding a place: everyone enrolled but those who dropped out."""
    query = select(func.count()).select_from(Enrolment).where(
        Enrolment.org_id == ctx.org_id, Enrolment.cohort_id == cohort.id, Enrolment.status != "dropped_out"
    )
    return int(ctx.session.scalar(query) or 0)


def taken_by_cohort(ctx: Context) -> dict[int, int]:
    """:func:`taken_places` of every cohort of the organisation, in one query."""
    query = (
        select(Enrolment.cohort_id, func.count())
        .where(Enrolment.org_id == ctx.org_id, Enrolment.status != "dropped_out")
        .group_by(Enrolment.cohort_id)
    )
    return {cohort_id: int(n) for cohort_id, n in ctx.session.execute(query).all()}


def enrol(ctx: Context, case: Case, cohort: Cohort) -> Enrolment:
    """Give ``case`` a place in ``cohort`` and write ``training.enrolled`` on its timeline.

    :raises ActionRefused: the case is closed, the person already has an enrolment in this
        cohort (through any of their cases), or the cohort is full.
    """
    _require(ctx, RECORD)
    if case.status == CaseStatus.closed:
        raise ActionRefused(_("This case is closed: reopen it before enrolling the person."), "cohort_id")
    # Two officers filling the last place at once: on PostgreSQL the second waits for the first's
    # commit here and then counts its enrolment; SQLite lets only one writer through at a time.
    ctx.session.execute(select(Cohort.id).where(Cohort.id == cohort.id).with_for_update())
    already = ctx.session.scalar(
        select(Enrolment.id)
        .join(Case, Case.id == Enrolment.case_id)
        .where(Enrolment.org_id == ctx.org_id, Enrolment.cohort_id == cohort.id, Case.person_id == case.person_id)
    )
    if already is not None:
        raise ActionRefused(_("This person is already enrolled in this cohort."), "cohort_id")
    if taken_places(ctx, cohort) >= cohort.capacity:
        raise ActionRefused(_("This cohort is full: all %(n)s places are taken.", n=cohort.capacity), "cohort_id")
    enrolment = Enrolment(org_id=ctx.org_id, cohort_id=cohort.id, case_id=case.id, enrolled_on=ctx.today, status="enrolled")
    ctx.session.add(enrolment)
    ctx.session.flush()
    payload = EnrolledEvent(enrolment_id=enrolment.id, course=cohort.course.title, starts_on=cohort.starts_on)
    record_event(ctx, case, ENROLLED, ctx.today, summary=cohort.course.title, payload=payload, system=True)
    return enrolment


def get_enrolment(ctx: Context, enrolment_id: int) -> Enrolment:
    row = ctx.session.scalar(select(Enrolment).where(Enrolment.id == enrolment_id, Enrolment.org_id == ctx.org_id))
    if row is None:
        raise RecordNotFound
    return row


def case_of(ctx: Context, enrolment: Enrolment) -> Case:
    case = ctx.session.scalar(select(Case).where(Case.id == enrolment.case_id, Case.org_id == ctx.org_id))
    assert case is not None, "an enrolment's case is in its organisation"
    return case


def drop_out(ctx: Context, enrolment: Enrolment, data: DropOutIn) -> None:
    """End an enrolment early with a reason; frees the place and writes ``training.dropped_out``."""
    _require(ctx, RECORD)
    if enrolment.status != "enrolled":
        raise ActionRefused(_("Only a student still enrolled can drop out."))
    enrolment.status = "dropped_out"
    enrolment.dropped_on = data.dropped_on
    enrolment.drop_reason = data.reason
    enrolment.drop_note = data.note
    ctx.session.flush()
    payload = DroppedOutEvent(enrolment_id=enrolment.id, course=enrolment.cohort.course.title, reason=data.reason)
    record_event(ctx, case_of(ctx, enrolment), DROPPED_OUT, data.dropped_on, summary=data.note, payload=payload, system=True)


@dataclass(frozen=True)
class Student:
    """A row of a cohort's list: the enrolment, the person's name and their attendance."""

    enrolment: Enrolment
    name: str
    attended: int
    sessions: int

    @property
    def rate(self) -> int | None:
        """Attendance in whole percent of the cohort's sessions (``None`` before any session)."""
        return None if self.sessions == 0 else round(100 * self.attended / self.sessions)


def students(ctx: Context, cohort: Cohort) -> list[Student]:
    """The cohort's students with their attendance, in two queries whatever the cohort's size."""
    n_sessions = int(
        ctx.session.scalar(
            select(func.count()).select_from(TrainingSession).where(TrainingSession.org_id == ctx.org_id, TrainingSession.cohort_id == cohort.id)
        )
        or 0
    )
    present = (
        select(Attendance.enrolment_id, func.count().label("n"))
        .where(Attendance.org_id == ctx.org_id, Attendance.present.is_(True))
        .group_by(Attendance.enrolment_id)
        .subquery()
    )
    rows = ctx.session.execute(
        select(Enrolment, Person.name, func.coalesce(present.c.n, 0))
        .join(Case, Case.id == Enrolment.case_id)
        .join(Person, Person.id == Case.person_id)
        .outerjoin(present, present.c.enrolment_id == Enrolment.id)
        .where(Enrolment.org_id == ctx.org_id, Enrolment.cohort_id == cohort.id)
        .order_by(Person.name, Enrolment.id)
    ).all()
    return [Student(e, name, int(n), n_sessions) for e, name, n in rows]


def student(ctx: Context, enrolment: Enrolment) -> Student:
    return next(s for s in students(ctx, enrolment.cohort) if s.enrolment.id == enrolment.id)


# --- attendance and assessment ---------------------------------------------------------------------


def attendance_sheet(ctx: Context, session: TrainingSession) -> list[tuple[Enrolment, str, bool | None]]:
    """Every student of the session's cohort (drop-outs too, last) with ``present`` for that day
    (``None``: not recorded yet). Two queries, however many students and sessions."""
    marks = dict(
        ctx.session.execute(
            select(Attendance.enrolment_id, Attendance.present).where(Attendance.org_id == ctx.org_id, Attendance.session_id == session.id)
        ).all()
    )
    rows = ctx.session.execute(
        select(Enrolment, Person.name)
        .join(Case, Case.id == Enrolment.case_id)
        .join(Person, Person.id == Case.person_id)
        .where(Enrolment.org_id == ctx.org_id, Enrolment.cohort_id == session.cohort_id)
        .order_by((Enrolment.status == "dropped_out"), Person.name, Enrolment.id)
    ).all()
    return [(e, name, marks.get(e.id)) for e, name in rows]


def mark_attendance(ctx: Context, session: TrainingSession, enrolment: Enrolment, present: bool) -> None:
    """Record one student as present or absent on one session (changing an earlier mark)."""
    _require(ctx, RECORD)
    if enrolment.cohort_id != session.cohort_id:
        raise RecordNotFound
    if enrolment.status == "dropped_out":
        raise ActionRefused(_("This student dropped out."))
    row = ctx.session.scalar(
        select(Attendance).where(Attendance.org_id == ctx.org_id, Attendance.session_id == session.id, Attendance.enrolment_id == enrolment.id)
    )
    if row is None:
        ctx.session.add(Attendance(org_id=ctx.org_id, session_id=session.id, enrolment_id=enrolment.id, present=present))
    else:
        row.present = present
    ctx.session.flush()


def record_assessment(ctx: Context, enrolment: Enrolment, data: AssessmentIn) -> None:
    """Set the practical and theory scores (a blank clears a score)."""
    _require(ctx, RECORD)
    if enrolment.status == "dropped_out":
        raise ActionRefused(_("This student dropped out."))
    if certificate_of(ctx, enrolment) is not None:
        raise ActionRefused(_("A certificate was issued: the scores can no longer change."))
    enrolment.practical_score = data.practical_score
    enrolment.theory_score = data.theory_score
    ctx.session.flush()


# --- certification ---------------------------------------------------------------------------------


def certificate_of(ctx: Context, enrolment: Enrolment) -> Certificate | None:
    return ctx.session.scalar(select(Certificate).where(Certificate.org_id == ctx.org_id, Certificate.enrolment_id == enrolment.id))


def get_certificate(ctx: Context, certificate_id: int) -> Certificate:
    row = ctx.session.scalar(select(Certificate).where(Certificate.id == certificate_id, Certificate.org_id == ctx.org_id))
    if row is None:
        raise RecordNotFound
    return row


def missing_for_certificate(ctx: Context, enrolment: Enrolment) -> list[str]:
    """What stands between the student and a certificate, as translated sentences (empty: none)."""
    course = enrolment.cohort.course
    if enrolment.status == "dropped_out":
        return [_("The student dropped out.")]
    missing = []
    rate = student(ctx, enrolment).rate
    if rate is None:
        missing.append(_("No session was held yet."))
    elif rate < course.attendance_threshold:
        missing.append(_("Attendance is %(rate)s; the course needs %(needed)s.", rate=f"{rate}%", needed=f"{course.attendance_threshold}%"))
    # Percentages go in as values ("75%"): a translation may hold no literal "%" (tests/core/test_i18n.py).
    # Whole sentences for each part: word order differs in Khmer (docs/i18n.md).
    if enrolment.practical_score is None:
        missing.append(_("The practical score is not recorded yet."))
    elif enrolment.practical_score < course.pass_mark:
        missing.append(_("The practical score is %(score)s; the pass mark is %(mark)s.", score=f"{enrolment.practical_score}%", mark=f"{course.pass_mark}%"))
    if enrolment.theory_score is None:
        missing.append(_("The theory score is not recorded yet."))
    elif enrolment.theory_score < course.pass_mark:
        missing.append(_("The theory score is %(score)s; the pass mark is %(mark)s.", score=f"{enrolment.theory_score}%", mark=f"{course.pass_mark}%"))
    return missing


def new_verification_code() -> str:
    """A random code of :data:`CODE_LENGTH` characters, easy to read off paper (``secrets``)."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(CODE_LENGTH))


def certificate_number(enrolment: Enrolment, issued_on: date) -> str:
    """``HC-2026-000042``: unique because an enrolment gets at most one certificate."""
    return f"HC-{issued_on.year}-{enrolment.id:06d}"


def certify(ctx: Context, enrolment: Enrolment) -> Certificate:
    """Issue the certificate of a student who met the attendance threshold and the pass mark,
    and write ``training.completed`` and ``training.certified`` on the case's timeline.

    :raises ActionRefused: naming everything that is missing, or when already certified.
    """
    _require(ctx, CERTIFY)
    if certificate_of(ctx, enrolment) is not None:
        raise ActionRefused(_("This student already has a certificate."))
    missing = missing_for_certificate(ctx, enrolment)
    if missing:
        raise ActionRefused(_("This student cannot be certified yet: %(missing)s", missing=" ".join(missing)))
    case = case_of(ctx, enrolment)
    course = enrolment.cohort.course
    person = ctx.session.get(Person, case.person_id)
    assert person is not None
    rate = student(ctx, enrolment).rate or 0
    certificate = Certificate(
        org_id=ctx.org_id,
        enrolment_id=enrolment.id,
        number=certificate_number(enrolment, ctx.today),
        verification_code=new_verification_code(),
        holder_name=person.name,
        course_title=course.title,
        issued_on=ctx.today,
        issued_by_id=ctx.user.id,
    )
    ctx.session.add(certificate)
    enrolment.status = "completed"
    ctx.session.flush()
    completed = CompletedEvent(
        enrolment_id=enrolment.id, course=course.title, attendance=rate,
        practical_score=enrolment.practical_score or 0, theory_score=enrolment.theory_score or 0,
    )
    record_event(ctx, case, COMPLETED, ctx.today, summary=course.title, payload=completed, system=True)
    certified = CertifiedEvent(certificate_id=certificate.id, number=certificate.number, course=course.title)
    record_event(ctx, case, CERTIFIED, ctx.today, summary=course.title, payload=certified, system=True)
    return certificate


# --- the case tab ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseCourse:
    """One of the person's courses on the case tab."""

    student: Student
    cohort: Cohort
    certificate: Certificate | None


def courses_of_case(ctx: Context, case: Case) -> list[CaseCourse]:
    enrolments = ctx.session.scalars(
        select(Enrolment).where(Enrolment.org_id == ctx.org_id, Enrolment.case_id == case.id).order_by(Enrolment.enrolled_on.desc(), Enrolment.id.desc())
    ).all()
    certificates = {
        c.enrolment_id: c
        for c in ctx.session.scalars(select(Certificate).where(Certificate.org_id == ctx.org_id, Certificate.enrolment_id.in_([e.id for e in enrolments])))
    }
    return [CaseCourse(student(ctx, e), e.cohort, certificates.get(e.id)) for e in enrolments]


# --- reports ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortFigures:
    """Enrolments and how they ended, for one cohort (or, with ``cohort`` ``None``, one course)."""

    course: Course
    cohort: Cohort | None
    enrolled: int
    dropped_out: int
    certified: int

    @property
    def in_progress(self) -> int:
        return self.enrolled - self.dropped_out - self.certified

    @property
    def certification_rate(self) -> int | None:
        """Certified in whole percent of everyone enrolled (``None`` without enrolments)."""
        return None if self.enrolled == 0 else round(100 * self.certified / self.enrolled)


def figures(ctx: Context) -> tuple[list[CohortFigures], list[CohortFigures], list[tuple[str, int]]]:
    """Per cohort and per course: enrolled, dropped out, certified (a certificate completes an
    enrolment); and the drop-out reasons with their counts, most frequent first. Three queries."""
    counts: dict[int, dict[str, int]] = {}
    for cohort_id, status, n in ctx.session.execute(
        select(Enrolment.cohort_id, Enrolment.status, func.count()).where(Enrolment.org_id == ctx.org_id).group_by(Enrolment.cohort_id, Enrolment.status)
    ).all():
        counts.setdefault(cohort_id, {})[status] = int(n)
    by_cohort = []
    for cohort in cohorts(ctx):
        c = counts.get(cohort.id, {})
        by_cohort.append(CohortFigures(cohort.course, cohort, sum(c.values()), c.get("dropped_out", 0), c.get("completed", 0)))
    by_course = []
    for course in courses(ctx):
        rows = [f for f in by_cohort if f.course.id == course.id]
        by_course.append(CohortFigures(course, None, sum(f.enrolled for f in rows), sum(f.dropped_out for f in rows), sum(f.certified for f in rows)))
    reasons = ctx.session.execute(
        select(Enrolment.drop_reason, func.count())
        .where(Enrolment.org_id == ctx.org_id, Enrolment.status == "dropped_out")
        .group_by(Enrolment.drop_reason)
        .order_by(func.count().desc(), Enrolment.drop_reason)
    ).all()
    return by_cohort, by_course, [(reason or "other", int(n)) for reason, n in reasons]


FOLLOW_UP_VISIT = "core.follow_up_visit"  # core's event kind; its payload's ``work`` says what the person does
WORKING = frozenset({"employed", "own_business"})


@dataclass(frozen=True)
class FollowUpFigures:
    """Per course: certified persons, those with a follow-up visit on or after the day of their
    certificate, and those whose latest such visit says employed or running their own business."""

    course: Course
    certified: int
    visited: int
    working: int


def follow_up_figures(ctx: Context) -> list[FollowUpFigures]:
    """"Certified people employed or running a business at follow-up", per course.

    A person counts once per course (their first certificate in it). Their follow-up visits
    (``core.follow_up_visit``, on any of their cases in the organisation, and not since corrected
    by another visit) dated on or after the certificate are looked at; the latest one (by date,
    then by when it was recorded) decides, through its ``work`` field. Two queries.
    """
    certified_on: dict[tuple[int, int], date] = {}  # (course id, person id) -> first certificate
    for course_id, person_id, issued_on in ctx.session.execute(
        select(Cohort.course_id, Case.person_id, Certificate.issued_on)
        .join(Enrolment, Enrolment.id == Certificate.enrolment_id)
        .join(Cohort, Cohort.id == Enrolment.cohort_id)
        .join(Case, Case.id == Enrolment.case_id)
        .where(Certificate.org_id == ctx.org_id)
    ).all():
        key = (course_id, person_id)
        if key not in certified_on or issued_on < certified_on[key]:
            certified_on[key] = issued_on
    visits: dict[int, list[tuple[date, int, str | None]]] = {}  # person id -> (date, id, work)
    corrected: set[int] = set()
    if certified_on:
        rows = ctx.session.execute(
            select(Case.person_id, Event.id, Event.occurred_on, Event.payload, Event.corrects_id)
            .join(Case, Case.id == Event.case_id)
            .where(Event.org_id == ctx.org_id, Event.kind == FOLLOW_UP_VISIT, Case.person_id.in_({p for _c, p in certified_on}))
        ).all()
        for person_id, event_id, occurred_on, payload, corrects_id in rows:
            visits.setdefault(person_id, []).append((occurred_on, event_id, (payload or {}).get("work")))
            if corrects_id is not None:
                corrected.add(corrects_id)
    totals: dict[int, list[int]] = {}  # course id -> [certified, visited, working]
    for (course_id, person_id), issued_on in certified_on.items():
        counts = totals.setdefault(course_id, [0, 0, 0])
        counts[0] += 1
        since = [v for v in visits.get(person_id, []) if v[0] >= issued_on and v[1] not in corrected]
        if since:
            counts[1] += 1
            if max(since)[2] in WORKING:
                counts[2] += 1
    return [FollowUpFigures(course, *totals.get(course.id, [0, 0, 0])) for course in courses(ctx)]


# --- public verification ---------------------------------------------------------------------------


def allow_verification(session: Session, ip: str, now: float | None = None) -> bool:
    """Count a look-up from ``ip`` in the current minute; ``False`` once over the limit.

    The counter is a row per address and minute in the shared database, bumped with one atomic
    ``UPDATE`` (or created), so the limit holds across every app server. Commits on its own:
    a refused or failed look-up still counts.
    """
    minute = int((time.time() if now is None else now) // 60)
    ip = ip[:64]
    bumped = session.execute(
        update(VerifyAttempt).where(VerifyAttempt.ip == ip, VerifyAttempt.minute == minute).values(count=VerifyAttempt.count + 1)
    ).rowcount
    if not bumped:
        try:
            with session.begin_nested():
                session.add(VerifyAttempt(ip=ip, minute=minute, count=1))
        except IntegrityError:  # another server created the row a moment ago
            session.execute(
                update(VerifyAttempt).where(VerifyAttempt.ip == ip, VerifyAttempt.minute == minute).values(count=VerifyAttempt.count + 1)
            )
    session.execute(delete(VerifyAttempt).where(VerifyAttempt.minute < minute - 5))
    count = session.scalar(select(VerifyAttempt.count).where(VerifyAttempt.ip == ip, VerifyAttempt.minute == minute))
    session.commit()
    return (count or 0) <= VERIFY_LIMIT_PER_MINUTE


def verify(session: Session, number: str, code: str) -> Certificate | None:
    """The certificate with this number and code, else ``None`` (the same for a wrong number or
    a wrong code). Not limited to one organisation: the page is public and numbers are unique."""
    number, code = number.strip().upper(), code.strip().upper().replace(" ", "").replace("-", "")
    if not number or not code:
        return None
    certificate = session.scalar(select(Certificate).where(Certificate.number == number))
    if certificate is None:
        secrets.compare_digest(code.encode(), b"X" * CODE_LENGTH)  # about the same work either way
        return None
    return certificate if secrets.compare_digest(code.encode(), certificate.verification_code.encode()) else None


# --- demo data -------------------------------------------------------------------------------------

DEMO_COURSES = (
    ("motor_mechanics", "Motorbike repair", "Ministry of Labour and Vocational Training", 240, 60, 80, "prison", "Correctional Centre 1"),
    ("tailoring", "Tailoring", "Ministry of Labour and Vocational Training", 200, 60, 75, "prison", "Correctional Centre 2"),
    ("computing", "Computer basics", "National Employment Agency", 120, 50, 70, "community", None),
)


def add_demo_training(session: Session, organisation: Organisation, cases: list[Case], staff: dict[str, User], today: date) -> None:
    """Three courses, a finished and a running cohort of each, with attendance, scores and
    certificates (deterministic: no randomness)."""
    recorder = staff.get("programme_officer") or staff.get("admin")
    open_cases = [c for c in cases if c.status != CaseStatus.closed]
    names = dict(session.execute(select(Person.id, Person.name).where(Person.org_id == organisation.id)).all())
    offset = 0
    for index, (trade, title, body, hours, mark, threshold, location, prison) in enumerate(DEMO_COURSES):
        course = Course(org_id=organisation.id, trade=trade, title=title, certifying_body=body, hours=hours, pass_mark=mark,
                        attendance_threshold=threshold, location=location, prison=prison)
        session.add(course)
        session.flush()
        for finished in (True, False):
            starts = today - timedelta(days=120 + 10 * index) if finished else today - timedelta(days=14)
            cohort = Cohort(org_id=organisation.id, course_id=course.id, trainer=("Chan Sophal", "Keo Sreymom", "Lim Vuthy")[index],
                            starts_on=starts, ends_on=starts + timedelta(days=60), capacity=12)
            session.add(cohort)
            session.flush()
            days = [starts + timedelta(days=7 * w) for w in range(8)]
            held = [TrainingSession(org_id=organisation.id, cohort_id=cohort.id, held_on=d, topic=f"Week {w + 1}") for w, d in enumerate(days) if d <= today]
            session.add_all(held)
            session.flush()
            members = open_cases[offset : offset + 6]
            offset += 6
            for n, case in enumerate(members):
                enrolment = Enrolment(org_id=organisation.id, cohort_id=cohort.id, case_id=case.id, enrolled_on=starts, status="enrolled")
                session.add(enrolment)
                session.flush()
                _demo_event(session, case, ENROLLED, starts, recorder, title, EnrolledEvent(enrolment_id=enrolment.id, course=title, starts_on=starts))
                if n == 5:  # one drop-out per cohort
                    enrolment.status, enrolment.dropped_on, enrolment.drop_reason = "dropped_out", starts + timedelta(days=10), "found_work"
                    _demo_event(session, case, DROPPED_OUT, starts + timedelta(days=10), recorder, title,
                                DroppedOutEvent(enrolment_id=enrolment.id, course=title, reason="found_work"))
                    continue
                for k, s in enumerate(held):
                    session.add(Attendance(org_id=organisation.id, session_id=s.id, enrolment_id=enrolment.id, present=(k + n) % 7 != 0 or n < 2))
                if not finished:
                    continue
                enrolment.practical_score, enrolment.theory_score = 85 - 7 * n, 80 - 8 * n
                passed = min(enrolment.practical_score, enrolment.theory_score) >= mark
                attended = sum(1 for k in range(len(held)) if (k + n) % 7 != 0 or n < 2)
                if passed and 100 * attended / len(held) >= threshold:
                    issued = cohort.ends_on
                    enrolment.status = "completed"
                    cert = Certificate(org_id=organisation.id, enrolment_id=enrolment.id, number=certificate_number(enrolment, issued),
                                       verification_code=new_verification_code(), holder_name=names.get(case.person_id, ""),
                                       course_title=title, issued_on=issued, issued_by_id=recorder.id if recorder else None)
                    session.add(cert)
                    session.flush()
                    _demo_event(session, case, COMPLETED, issued, recorder, title, CompletedEvent(
                        enrolment_id=enrolment.id, course=title, attendance=round(100 * attended / len(held)),
                        practical_score=enrolment.practical_score, theory_score=enrolment.theory_score))
                    _demo_event(session, case, CERTIFIED, issued, recorder, title, CertifiedEvent(certificate_id=cert.id, number=cert.number, course=title))
    session.flush()


def _demo_event(session: Session, case: Case, kind: str, on: date, recorder: User | None, summary: str, payload: object) -> None:
    session.add(Event(org_id=case.org_id, case_id=case.id, kind=kind, occurred_on=on, recorded_by_id=recorder.id if recorder else None,
                      summary=summary, payload=payload.model_dump(mode="json")))  # type: ignore[attr-defined]


# --- report indicators (the programme dashboard) ---------------------------------------------------


def certificates_by_month(ctx: Context, first: date, last: date) -> dict[date, int]:
    """Certificates issued per month from ``first`` to ``last``, by their date of issue. One query."""
    return by_month(ctx.session.execute(  # type: ignore[return-value]
        select(Certificate.issued_on, func.count())
        .where(Certificate.org_id == ctx.org_id, Certificate.issued_on >= first, Certificate.issued_on <= last)
        .group_by(Certificate.issued_on)
    ).all())
