"""Reports: enrolments, drop-outs and certification rates per course and cohort, drop-out
reasons, and the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from sqlalchemy.orm import Session

from core.models import Role
from plugins.training import services
from plugins.training.schemas import AssessmentIn, DropOutIn


def test_figures_per_course_and_cohort_with_reasons_and_csv(client_for, ctx_for, make_case, make_cohort, db: Session) -> None:
    cohort = make_cohort("a", sessions=2)
    ctx = ctx_for(Role.programme_officer, "a")
    cohort = services.get_cohort(ctx, cohort.id)
    enrolments = [services.enrol(ctx, make_case("a", name), cohort) for name in ("Sok Dara", "Keo Sina", "Chea Vanna")]
    services.drop_out(ctx, enrolments[0], DropOutIn(reason="health", dropped_on=date.today()))
    for session in services.sessions_of(ctx, cohort):
        services.mark_attendance(ctx, session, enrolments[1], True)
    services.record_assessment(ctx, enrolments[1], AssessmentIn(practical_score=80, theory_score=70))
    services.certify(ctx, enrolments[1])
    db.commit()

    client = client_for(Role.viewer, "a")
    page = client.get("/training/reports")
    assert page.status_code == 200
    cohort_row = page.text.split('id="report-cohorts"')[1].split("</table>")[0]
    cells = [c.split("</td>")[0] for c in cohort_row.split("<td>")[2:]]
    assert cells == ["3", "1", "1", "1", "33%"]  # enrolled, in progress, dropped out, certified, rate
    assert "Health" in page.text.split('id="report-reasons"')[1]

    export = client.get("/training/reports/cohorts.csv")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Course" and rows[1][0] == "Motorbike repair" and rows[1][4:] == ["3", "1", "1", "33"]
    assert client_for(Role.viewer, "b").get("/training/reports/cohorts.csv").text.count("\n") == 1  # b sees only its header


def test_excel_export_holds_the_csv_rows(world, client_for, ctx_for, make_case, make_cohort, db: Session) -> None:
    from openpyxl import load_workbook

    cohort = make_cohort("a", sessions=1)
    ctx = ctx_for(Role.programme_officer, "a")
    cohort = services.get_cohort(ctx, cohort.id)
    enrolments = [services.enrol(ctx, make_case("a", name), cohort) for name in ("Sok Dara", "Keo Sina")]
    services.drop_out(ctx, enrolments[0], DropOutIn(reason="family", dropped_on=date.today()))
    make_cohort("a", sessions=1)  # a second cohort without students: an empty rate
    db.commit()

    client = client_for(Role.viewer, "a")
    assert 'href="/training/reports/cohorts.xlsx"' in client.get("/training/reports").text
    export = client.get("/training/reports/cohorts.xlsx")
    assert export.status_code == 200
    assert export.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="training-cohorts.xlsx"' in export.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(export.content), read_only=True).active
    assert sheet is not None
    xlsx_rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    csv_rows = list(csv.reader(io.StringIO(client.get("/training/reports/cohorts.csv").content.decode("utf-8-sig"))))
    assert len(csv_rows) == 3 and xlsx_rows == csv_rows
    enrolled = sorted(row[4] for row in sheet.iter_rows(min_row=2, values_only=True))
    assert enrolled == [0, 2] and all(isinstance(n, int) for n in enrolled)  # numbers stay numbers

    # In Khmer the header is the CSV's translated header too; organisation b sees only the header.
    from core.models import User

    user = db.get(User, world.users[("b", Role.viewer)])
    assert user is not None
    user.locale = "km"
    db.commit()
    km = client_for(Role.viewer, "b")
    sheet_b = load_workbook(io.BytesIO(km.get("/training/reports/cohorts.xlsx").content), read_only=True).active
    assert sheet_b is not None
    rows_b = [list(row) for row in sheet_b.iter_rows(values_only=True)]
    assert len(rows_b) == 1 and rows_b[0][0] != "Course"
    assert rows_b == list(csv.reader(io.StringIO(km.get("/training/reports/cohorts.csv").content.decode("utf-8-sig"))))


def test_certified_people_working_at_follow_up(client_for, ctx_for, make_case, make_cohort, db: Session) -> None:
    from core.services import events

    today = date.today()
    cohort = make_cohort("a", sessions=1)
    ctx = ctx_for(Role.programme_officer, "a")
    cohort = services.get_cohort(ctx, cohort.id)
    names = ("Sok Dara", "Keo Sina", "Chea Vanna", "Lim Bora", "Heng Srey")
    cases = [make_case("a", name) for name in names]
    enrolments = [services.enrol(ctx, case, cohort) for case in cases]
    (session,) = services.sessions_of(ctx, cohort)
    for enrolment in enrolments[:4]:  # the fifth is never certified
        services.mark_attendance(ctx, session, enrolment, True)
        services.record_assessment(ctx, enrolment, AssessmentIn(practical_score=80, theory_score=80))
        services.certify(ctx, enrolment)
    db.commit()

    recorder = ctx_for(Role.case_manager, "a")

    def visit(case, days_ago: int, work: str | None = None, corrects_id: int | None = None):
        payload = {"place": "home", "wellbeing": "good"} | ({"work": work} if work else {})
        return events.record_event(recorder, case, "core.follow_up_visit", today - timedelta(days=days_ago), payload=payload, corrects_id=corrects_id)

    visit(cases[0], 0, "employed")  # counts
    visit(cases[1], 3, "own_business")  # before the certificate (issued today): not looked at
    visit(cases[1], 0, "looking")  # the latest since: not working
    wrong = visit(cases[2], 0, "not_working")
    visit(cases[2], 0, "own_business", corrects_id=wrong.id)  # the correction decides: counts
    # cases[3]: certified, never visited since. cases[4]: visited working, but not certified.
    visit(cases[4], 0, "employed")
    db.commit()

    (figures,) = services.follow_up_figures(ctx_for(Role.viewer, "a"))
    assert (figures.certified, figures.visited, figures.working) == (4, 3, 2)

    page = client_for(Role.viewer, "a").get("/training/reports")
    table = page.text.split('id="report-follow-up"')[1].split("</table>")[0]
    assert [c.split("</td>")[0] for c in table.split("<td>")[1:]] == ["Motorbike repair", "4", "3", "2"]
    assert "Employed or running a business" in page.text
    # Another organisation sees none of it.
    assert all(f.certified == 0 for f in services.follow_up_figures(ctx_for(Role.viewer, "b")))
