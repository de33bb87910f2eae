"""Core's reports: the recidivism report (page, CSV and Excel). Definitions: docs/outcomes.md."""

from __future__ import annotations

import io
from datetime import date
from functools import partial
from typing import Any

import litestar
from litestar import Response
from litestar.params import FromQuery
from litestar.response import Template
from openpyxl import Workbook
from openpyxl.styles import Font

from core.context import Context
from core.i18n import gettext as _
from core.services import outcomes
from core.web.charts import survival_chart
from core.web.deps import Ctx
from core.web.rendering import render
from core.web.tables import XLSX_MEDIA_TYPE, table_download

get = partial(litestar.get, sync_to_thread=True)


def _report(ctx: Context, on: str) -> outcomes.Report:
    """The report on ``on`` (``YYYY-MM-DD``): today when blank or not a date, never a future day
    (who is "eligible" depends on the day, and the future is not known yet)."""
    try:
        day = date.fromisoformat(on) if on else ctx.today
    except ValueError:
        day = ctx.today
    return outcomes.report_for(ctx, min(day, ctx.today))


def _value_label(row: outcomes.Figures) -> str:
    if row.group == "prison" and row.value is None:
        return _("Prison not recorded")
    if row.value == outcomes.PARTICIPANTS:
        return _("Took part")
    if row.value == outcomes.NON_PARTICIPANTS:
        return _("Did not take part")
    return row.value or ""


def _cohort_label(cohort: str) -> str:
    return _("All years") if cohort == outcomes.ALL else cohort


@get("/reports/recidivism", opt={"permission": "reports.view"})
def recidivism_page(ctx: Ctx, on: FromQuery[str] = "") -> Template:
    """Re-offending within 6 months of release and overall, by cohort, prison and module, with
    the survival curve and the definitions."""
    report = _report(ctx, on)
    modules = [(m, report.group(f"module:{m}")) for m in report.modules]
    return render(
        ctx,
        "reports/recidivism.html",
        report=report,
        cohorts=report.group("cohort"),
        prisons=report.group("prison"),
        modules=modules,
        chart=survival_chart(report.survival),
        module_labels={m: ctx.registry.modules[m].module.label for m in report.modules},
        definitions=_definitions(report),
        value_label=_value_label,
        cohort_label=_cohort_label,
        query=f"?on={report.on.isoformat()}",
    )


def _table(report: outcomes.Report) -> tuple[list[str], list[list[Any]]]:
    """The rows of the exports: the JSON keys as the header, then one line per row."""
    return list(outcomes.FIELDS), [[row.as_dict()[k] for k in outcomes.FIELDS] for row in report.rows]


@get("/reports/recidivism.csv", opt={"permission": "reports.view"})
def recidivism_csv(ctx: Ctx, on: FromQuery[str] = "") -> Response[Any]:
    """The figures as CSV (UTF-8 with a byte order mark, for spreadsheet programs): the columns
    of ``homecoming report recidivism --format csv``."""
    report = _report(ctx, on)
    header, rows = _table(report)
    return table_download(f"recidivism-{report.organisation}-{report.on.isoformat()}", header, rows, "csv")


@get("/reports/recidivism.xlsx", opt={"permission": "reports.view"})
def recidivism_xlsx(ctx: Ctx, on: FromQuery[str] = "") -> Response[Any]:
    """The figures, the survival curve's steps and the definitions, as an Excel workbook."""
    report = _report(ctx, on)
    header, rows = _table(report)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "recidivism"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for cell in [*sheet["G"][1:], *sheet["I"][1:]]:
        cell.number_format = "0.0%"
    sheet.freeze_panes = "A2"
    survival = workbook.create_sheet("survival")
    survival.append(["days_since_release", "survival", "at_risk", "events", "censored"])
    for p in report.survival:
        survival.append([p.t, round(p.survival, 6), p.at_risk, p.events, p.censored])
    for cell in survival[1]:
        cell.font = Font(bold=True)
    about = workbook.create_sheet("definitions")
    for line in _definitions(report):
        about.append([line])
    out = io.BytesIO()
    workbook.save(out)
    filename = f"recidivism-{report.organisation}-{report.on.isoformat()}.xlsx"
    return Response(out.getvalue(), media_type=XLSX_MEDIA_TYPE, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _definitions(report: outcomes.Report) -> list[str]:
    """The definitions the page shows, as lines for the workbook."""
    return [
        _("Report date: %(day)s.", day=report.on.isoformat()),
        _("Released: cases with a release date on or before the report date. Cohort: the year of release."),
        _("Re-offence: the first re-offence recorded on the case at the stage arrested, charged or convicted (a suspicion does not count), dated by the date of the offence (or, when that is not known, the day it was recorded), on or after release."),
        _("Eligible for the 6-month rate: released at least 6 calendar months before the report date (31 August + 6 months = 28 or 29 February)."),
        _("6-month rate: eligible people whose first re-offence fell within 6 calendar months of release, divided by the eligible people."),
        _("Overall rate: released people with a re-offence up to the report date, divided by all released people."),
        _("Took part in a module: at least one entry of that module on the case timeline."),
        _("Survival curve (Kaplan-Meier): the share still free of re-offence by days since release. A case stops being followed at the report date, at the end of the follow-up period (%(months)s months), or when it is closed for a reason other than re-offending (it is then counted as censored).", months=report.follow_up_months),
    ]


ROUTES = [recidivism_page, recidivism_csv, recidivism_xlsx]
