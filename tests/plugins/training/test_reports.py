"""Reports: enrolments, drop-outs and certification rates per course and cohort, drop-out
reasons, and the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import date

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
