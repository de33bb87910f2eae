"""The module's pages: the catalogue, a cohort with its sessions and students, the attendance
sheet of a session, a student's results and certificate, the case tab and the public check of a
certificate.

Handlers are thin, like core's: read the input, call a service, commit once, then redirect
(post/redirect/get) or re-render the form with field-level messages.
"""

from __future__ import annotations

from typing import Any, get_args

import litestar
from litestar import Request, Response
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from core.plugin_api import (
    PUBLIC, ActionRefused, Case, Context, Ctx, Db, Form, PdfUnavailable, RecordNotFound, act, format_date, get_case, parse,
    pdf_language, render, render_pdf, see_other, table_download,
)
from core.plugin_api import gettext as _
from plugins.training import services
from plugins.training.models import Cohort, Course, Enrolment
from plugins.training.schemas import LABELS, AssessmentIn, CohortIn, CourseIn, DropOutIn, DropReason, EnrolIn, Location, SessionIn, Trade

AnyRequest = Request[Any, Any, Any]


def _choices(literal: Any) -> list[tuple[str, str]]:
    return [(value, _(LABELS[value])) for value in get_args(literal)]


# --- catalogue -------------------------------------------------------------------------------------


@litestar.get("/training", opt={"permission": services.VIEW}, sync_to_thread=True, name="training-overview")
def overview(ctx: Ctx) -> Template:
    """Courses and cohorts of the organisation."""
    return render(
        ctx, "training/overview.html", courses=services.courses(ctx), cohorts=services.cohorts(ctx),
        taken=services.taken_by_cohort(ctx), can_manage=ctx.user.can(services.MANAGE),
    )


def _course_form(ctx: Context, course: Course | None, values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Template:
    return render(
        ctx, "training/course_form.html", status_code, course=course, values=values, errors=errors,
        trades=_choices(Trade), locations=_choices(Location),
    )


COURSE_FIELDS = tuple(CourseIn.model_fields)


@litestar.get("/training/courses/new", opt={"permission": services.MANAGE}, sync_to_thread=True, name="training-course-new")
def course_new(ctx: Ctx) -> Template:
    return _course_form(ctx, None, {"location": "prison", "pass_mark": 60, "attendance_threshold": 80}, {})


@litestar.post("/training/courses", opt={"permission": services.MANAGE}, sync_to_thread=True, status_code=303, name="training-course-create")
def course_create(ctx: Ctx, data: Form) -> Response[Any]:
    return act(ctx, lambda: services.save_course(ctx, parse(CourseIn, data)), "/training",
               lambda errors: _course_form(ctx, None, data, errors, 422))


@litestar.get("/training/courses/{course_id:int}/edit", opt={"permission": services.MANAGE}, sync_to_thread=True, name="training-course-edit")
def course_edit(ctx: Ctx, course_id: FromPath[int]) -> Template:
    course = services.get_course(ctx, course_id)
    return _course_form(ctx, course, {name: getattr(course, name) for name in COURSE_FIELDS}, {})


@litestar.post("/training/courses/{course_id:int}", opt={"permission": services.MANAGE}, sync_to_thread=True, status_code=303, name="training-course-update")
def course_update(ctx: Ctx, course_id: FromPath[int], data: Form) -> Response[Any]:
    course = services.get_course(ctx, course_id)
    return act(ctx, lambda: services.save_course(ctx, parse(CourseIn, data), course), "/training",
               lambda errors: _course_form(ctx, services.get_course(ctx, course_id), data, errors, 422))


def _cohort_form(ctx: Context, cohort: Cohort | None, values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Template:
    courses = [(str(c.id), c.title) for c in services.courses(ctx)]
    return render(ctx, "training/cohort_form.html", status_code, cohort=cohort, values=values, errors=errors, courses=courses)


@litestar.get("/training/cohorts/new", opt={"permission": services.MANAGE}, sync_to_thread=True, name="training-cohort-new")
def cohort_new(ctx: Ctx, course_id: FromQuery[int | None] = None) -> Template:
    return _cohort_form(ctx, None, {"course_id": course_id, "capacity": 20}, {})


@litestar.post("/training/cohorts", opt={"permission": services.MANAGE}, sync_to_thread=True, status_code=303, name="training-cohort-create")
def cohort_create(ctx: Ctx, data: Form) -> Response[Any]:
    return act(ctx, lambda: services.save_cohort(ctx, parse(CohortIn, data)), lambda cohort: f"/training/cohorts/{cohort.id}",
               lambda errors: _cohort_form(ctx, None, data, errors, 422))


@litestar.get("/training/cohorts/{cohort_id:int}/edit", opt={"permission": services.MANAGE}, sync_to_thread=True, name="training-cohort-edit")
def cohort_edit(ctx: Ctx, cohort_id: FromPath[int]) -> Template:
    cohort = services.get_cohort(ctx, cohort_id)
    return _cohort_form(ctx, cohort, {name: getattr(cohort, name) for name in CohortIn.model_fields}, {})


@litestar.post("/training/cohorts/{cohort_id:int}", opt={"permission": services.MANAGE}, sync_to_thread=True, status_code=303, name="training-cohort-update")
def cohort_update(ctx: Ctx, cohort_id: FromPath[int], data: Form) -> Response[Any]:
    cohort = services.get_cohort(ctx, cohort_id)
    return act(ctx, lambda: services.save_cohort(ctx, parse(CohortIn, data), cohort), f"/training/cohorts/{cohort_id}",
               lambda errors: _cohort_form(ctx, services.get_cohort(ctx, cohort_id), data, errors, 422))


def _cohort_page(ctx: Context, cohort: Cohort, values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Template:
    students = services.students(ctx, cohort)
    return render(
        ctx, "training/cohort.html", status_code, cohort=cohort, sessions=services.sessions_of(ctx, cohort), students=students,
        taken=sum(1 for s in students if s.enrolment.status != "dropped_out"), values=values, errors=errors,
        can_manage=ctx.user.can(services.MANAGE), labels=LABELS,
    )


@litestar.get("/training/cohorts/{cohort_id:int}", opt={"permission": services.VIEW}, sync_to_thread=True, name="training-cohort")
def cohort_detail(ctx: Ctx, cohort_id: FromPath[int]) -> Template:
    """A cohort: its course, sessions (with the form to add one) and students."""
    cohort = services.get_cohort(ctx, cohort_id)
    return _cohort_page(ctx, cohort, {"held_on": ctx.today.isoformat()}, {})


@litestar.post("/training/cohorts/{cohort_id:int}/sessions", opt={"permission": services.MANAGE}, sync_to_thread=True, status_code=303, name="training-session-create")
def session_create(ctx: Ctx, cohort_id: FromPath[int], data: Form) -> Response[Any]:
    cohort = services.get_cohort(ctx, cohort_id)
    return act(ctx, lambda: services.add_session(ctx, cohort, parse(SessionIn, data)), f"/training/cohorts/{cohort_id}",
               lambda errors: _cohort_page(ctx, services.get_cohort(ctx, cohort_id), data, errors, 422))


# --- attendance ------------------------------------------------------------------------------------


@litestar.get("/training/sessions/{session_id:int}", opt={"permission": services.VIEW}, sync_to_thread=True, name="training-session")
def session_page(ctx: Ctx, session_id: FromPath[int]) -> Template:
    """The attendance sheet of one session: every student with a present/absent toggle."""
    session = services.get_session(ctx, session_id)
    cohort = services.get_cohort(ctx, session.cohort_id)
    return render(
        ctx, "training/session.html", session=session, cohort=cohort, rows=services.attendance_sheet(ctx, session),
        can_record=ctx.user.can(services.RECORD), error="",
    )


@litestar.post(
    "/training/sessions/{session_id:int}/attendance/{enrolment_id:int}",
    opt={"permission": services.RECORD}, sync_to_thread=True, status_code=303, name="training-attendance",
)
def attendance_mark(request: AnyRequest, ctx: Ctx, session_id: FromPath[int], enrolment_id: FromPath[int], data: Form) -> Response[Any]:
    """Mark one student present (``present=1``) or absent (``present=0``). With htmx the row is
    answered and swapped in place; a plain form post goes back to the sheet."""
    session = services.get_session(ctx, session_id)
    enrolment = services.get_enrolment(ctx, enrolment_id)
    services.mark_attendance(ctx, session, enrolment, str(data.get("present", "")) == "1")
    ctx.session.commit()
    if request.htmx:  # type: ignore[attr-defined]
        (row,) = [r for r in services.attendance_sheet(ctx, session) if r[0].id == enrolment_id]
        return Template("training/_attendance_row.html", context={"session": session, "row": row, "can_record": True})
    return see_other(f"/training/sessions/{session_id}#student-{enrolment_id}")


@litestar.post(
    "/training/sessions/{session_id:int}/all-present",
    opt={"permission": services.RECORD}, sync_to_thread=True, status_code=303, name="training-all-present",
)
def all_present(ctx: Ctx, session_id: FromPath[int]) -> Response[Any]:
    """Mark every student not yet marked as present (then toggle the few who were absent)."""
    session = services.get_session(ctx, session_id)
    for enrolment, _name, present in services.attendance_sheet(ctx, session):
        if present is None and enrolment.status != "dropped_out":
            services.mark_attendance(ctx, session, enrolment, True)
    ctx.session.commit()
    return see_other(f"/training/sessions/{session_id}")


# --- a student: results, drop-out, certificate -----------------------------------------------------


def _enrolment_page(ctx: Context, enrolment: Enrolment, values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Template:
    return render(
        ctx, "training/enrolment.html", status_code, enrolment=enrolment, student=services.student(ctx, enrolment),
        case=services.case_of(ctx, enrolment), certificate=services.certificate_of(ctx, enrolment),
        missing=services.missing_for_certificate(ctx, enrolment), values=values, errors=errors,
        reasons=_choices(DropReason), labels=LABELS,
        can_record=ctx.user.can(services.RECORD), can_certify=ctx.user.can(services.CERTIFY),
    )


def _enrolment_values(enrolment: Enrolment, today: Any) -> dict[str, Any]:
    return {"practical_score": enrolment.practical_score, "theory_score": enrolment.theory_score, "dropped_on": today.isoformat()}


@litestar.get("/training/enrolments/{enrolment_id:int}", opt={"permission": services.VIEW}, sync_to_thread=True, name="training-enrolment")
def enrolment_page(ctx: Ctx, enrolment_id: FromPath[int]) -> Template:
    enrolment = services.get_enrolment(ctx, enrolment_id)
    return _enrolment_page(ctx, enrolment, _enrolment_values(enrolment, ctx.today), {})


def _enrolment_action(ctx: Context, enrolment_id: int, data: dict[str, Any], action: Any) -> Response[Any]:
    enrolment = services.get_enrolment(ctx, enrolment_id)

    def refused(errors: dict[str, str]) -> Response[Any]:
        again = services.get_enrolment(ctx, enrolment_id)
        return _enrolment_page(ctx, again, {**_enrolment_values(again, ctx.today), **data}, errors, 422)

    return act(ctx, lambda: action(enrolment), f"/training/enrolments/{enrolment_id}", refused)


@litestar.post("/training/enrolments/{enrolment_id:int}/assessment", opt={"permission": services.RECORD}, sync_to_thread=True, status_code=303, name="training-assessment")
def assessment(ctx: Ctx, enrolment_id: FromPath[int], data: Form) -> Response[Any]:
    """Record the practical and theory scores."""
    return _enrolment_action(ctx, enrolment_id, data, lambda e: services.record_assessment(ctx, e, parse(AssessmentIn, data)))


@litestar.post("/training/enrolments/{enrolment_id:int}/drop-out", opt={"permission": services.RECORD}, sync_to_thread=True, status_code=303, name="training-drop-out")
def drop_out(ctx: Ctx, enrolment_id: FromPath[int], data: Form) -> Response[Any]:
    """End the enrolment with a reason (``training.dropped_out`` on the timeline)."""
    return _enrolment_action(ctx, enrolment_id, data, lambda e: services.drop_out(ctx, e, parse(DropOutIn, data)))


@litestar.post("/training/enrolments/{enrolment_id:int}/certify", opt={"permission": services.CERTIFY}, sync_to_thread=True, status_code=303, name="training-certify")
def certify(ctx: Ctx, enrolment_id: FromPath[int]) -> Response[Any]:
    """Issue the certificate, or say everything that is missing for it."""
    return _enrolment_action(ctx, enrolment_id, {}, lambda e: services.certify(ctx, e))


@litestar.get("/training/certificates/{certificate_id:int}/pdf", opt={"permission": services.VIEW}, sync_to_thread=True, name="training-certificate-pdf")
def certificate_pdf(request: AnyRequest, ctx: Ctx, certificate_id: FromPath[int], lang: FromQuery[str] = "en") -> Response[Any]:
    """The certificate to print, in English (``lang=en``) or Khmer (``lang=km``); a page saying
    what is missing (503) when the server cannot draw PDFs."""
    certificate = services.get_certificate(ctx, certificate_id)
    enrolment = services.get_enrolment(ctx, certificate.enrolment_id)
    case = services.case_of(ctx, enrolment)
    language = pdf_language(lang)
    try:
        body = render_pdf(
            request, "training/certificate_pdf.html", language,
            certificate=certificate, course=enrolment.cohort.course, name_km=case.person.name_km,
            organisation=ctx.organisation.name, verify_url=f"{request.base_url}verify",
        )
    except PdfUnavailable:
        return render(ctx, "training/pdf_unavailable.html", 503, certificate=certificate, enrolment=enrolment)
    filename = f"{certificate.number}-{language}.pdf"
    return Response(body, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{filename}"'})


# --- reports -------------------------------------------------------------------------------------


@litestar.get("/training/reports", opt={"permission": services.VIEW}, sync_to_thread=True, name="training-reports")
def reports(ctx: Ctx) -> Template:
    """Enrolments, drop-outs and certification rates per course and cohort; drop-out reasons;
    certified people working at follow-up."""
    by_cohort, by_course, reasons = services.figures(ctx)
    follow_up = services.follow_up_figures(ctx)
    return render(ctx, "training/reports.html", by_cohort=by_cohort, by_course=by_course, reasons=reasons, follow_up=follow_up)


def _cohort_table(ctx: Context) -> tuple[list[str], list[list[Any]]]:
    """The per-cohort figures as a header and rows, shared by the CSV and the Excel export."""
    by_cohort, _by_course, _reasons = services.figures(ctx)
    header = [_("Course"), _("Start date"), _("End date"), _("Trainer"), _("Enrolled"), _("Dropped out"), _("Certified"), _("Certification rate")]
    rows: list[list[Any]] = []
    for f in by_cohort:
        assert f.cohort is not None
        rate = "" if f.certification_rate is None else f.certification_rate
        rows.append([f.course.title, f.cohort.starts_on.isoformat(), f.cohort.ends_on.isoformat(), f.cohort.trainer, f.enrolled, f.dropped_out, f.certified, rate])
    return header, rows


@litestar.get("/training/reports/cohorts.csv", opt={"permission": services.VIEW}, sync_to_thread=True, name="training-reports-csv")
def reports_csv(ctx: Ctx) -> Response[Any]:
    """The per-cohort figures as CSV (UTF-8 with a byte order mark, so that spreadsheet programs
    read Khmer correctly)."""
    return table_download("training-cohorts", *_cohort_table(ctx), "csv")


@litestar.get("/training/reports/cohorts.xlsx", opt={"permission": services.VIEW}, sync_to_thread=True, name="training-reports-xlsx")
def reports_xlsx(ctx: Ctx) -> Response[Any]:
    """The same per-cohort figures as the CSV, as an Excel workbook (the header in bold and
    frozen; numbers stay numbers, dates stay ISO text as in the CSV)."""
    return table_download("training-cohorts", *_cohort_table(ctx), "xlsx")


# --- the case tab ----------------------------------------------------------------------------------


def _case_page(request: AnyRequest, ctx: Context, case: Case, errors: dict[str, str], status_code: int = 200) -> Template:
    context = {
        "case": case,
        "courses": services.courses_of_case(ctx, case),
        "cohorts": [(str(c.id), f"{c.course.title} · {format_date(c.starts_on)} · {c.trainer}") for c in services.open_cohorts(ctx)],
        "can_record": ctx.user.can(services.RECORD),
        "labels": LABELS,
        "errors": errors,
    }
    if request.htmx and status_code == 200:  # type: ignore[attr-defined]
        return Template("training/_case.html", context=context)  # loaded into the case page's tab
    return render(ctx, "training/case.html", status_code, **context)


@litestar.get("/training/cases/{case_id:int}/tab", opt={"permission": services.VIEW}, sync_to_thread=True, name="training-case")
def case_tab(request: AnyRequest, ctx: Ctx, case_id: FromPath[int]) -> Template:
    """The person's courses with attendance rate and results, certificates, and enrolment."""
    return _case_page(request, ctx, get_case(ctx, case_id), {})


@litestar.post("/training/cases/{case_id:int}/enrolments", opt={"permission": services.RECORD}, sync_to_thread=True, status_code=303, name="training-enrol")
def enrol(request: AnyRequest, ctx: Ctx, case_id: FromPath[int], data: Form) -> Response[Any]:
    """Enrol the case in a cohort (refused when full, already enrolled or the case is closed)."""
    case = get_case(ctx, case_id)

    def enrol_in_chosen_cohort() -> None:
        choice = parse(EnrolIn, data)
        try:
            cohort = services.get_cohort(ctx, choice.cohort_id)
        except RecordNotFound:
            raise ActionRefused(_("Choose one of the options."), "cohort_id") from None
        services.enrol(ctx, case, cohort)

    return act(ctx, enrol_in_chosen_cohort, f"/training/cases/{case_id}/tab",
               lambda errors: _case_page(request, ctx, get_case(ctx, case_id), errors, 422))


# --- public verification ---------------------------------------------------------------------------


@litestar.get("/verify", opt={"permission": PUBLIC}, sync_to_thread=True, name="training-verify")
def verify(request: AnyRequest, db: Db, number: FromQuery[str] = "", code: FromQuery[str] = "") -> Template:
    """Anyone (an employer) checks a certificate by its number and code. Shows the holder's name,
    the course and the date only; a wrong number and a wrong code get the same answer. Look-ups
    are limited per client address and minute (``services.allow_verification``)."""
    context: dict[str, Any] = {"number": number, "code": code, "certificate": None, "checked": False}
    if not number and not code:
        return Template("training/verify.html", context=context)
    ip = request.client.host if request.client else "unknown"
    if not services.allow_verification(db, ip):
        return Template("training/verify.html", context={**context, "limited": True}, status_code=429)
    context.update(checked=True, certificate=services.verify(db, number, code))
    return Template("training/verify.html", context=context, status_code=200 if context["certificate"] else 404)


ROUTES = [
    overview, course_new, course_create, course_edit, course_update,
    cohort_new, cohort_create, cohort_edit, cohort_update, cohort_detail, session_create,
    session_page, attendance_mark, all_present,
    enrolment_page, assessment, drop_out, certify, certificate_pdf, reports, reports_csv, reports_xlsx,
    case_tab, enrol,
    verify,
]
