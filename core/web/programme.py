"""The reports index and the programme dashboard (page, CSV and Excel). Definitions: docs/programme.md."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

import litestar
from litestar import Response
from litestar.params import FromQuery
from litestar.response import Template

from core.context import Context
from core.i18n import format_date
from core.i18n import gettext as _
from core.services import programme
from core.web.charts import BarChart, bar_chart
from core.web.deps import Ctx
from core.web.rendering import render
from core.web.tables import table_download

get = partial(litestar.get, sync_to_thread=True)

HEADER = ["figure", "label", "period", "group", "subgroup", "currency", "value"]
"""The columns of the downloads: one row per figure and month (or per breakdown row)."""


def _month(value: str, today: date) -> date:
    """The last month shown, from ``YYYY-MM`` (or a full date); this month when blank or wrong."""
    try:
        return date.fromisoformat(f"{value.strip()[:7]}-01") if value.strip() else today
    except ValueError:
        return today


def _dashboard(ctx: Context, month: str) -> programme.Dashboard:
    return programme.dashboard(ctx, _month(month, ctx.today))


def _status_figures(board: programme.Dashboard) -> list[tuple[str, str, int]]:
    s = board.statuses
    return [
        ("cases.pre_release", _("In pre-release (referred or preparing for release)"), board.pre_release),
        ("cases.released", _("Released, follow-up not started"), s.get("released", 0)),
        ("cases.follow_up", _("In follow-up"), s.get("follow_up", 0)),
        ("cases.closed", _("Closed"), s.get("closed", 0)),
    ]


def _month_label(month: date) -> str:
    return format_date(month, "MMM yy")


def _charts(board: programme.Dashboard) -> dict[str, BarChart]:
    """The bar charts of the page, by the figure's key (spending: ``<key>:<currency>``)."""
    labels = [_month_label(m) for m in board.range.months]
    charts = {
        "core.releases": bar_chart(labels, [board.releases.values], whole=True),
        "core.visits_on_time": bar_chart(labels, [[m.share for m in board.on_time]], maximum=Decimal(1)),
    }
    for s in board.indicators:
        charts[s.key] = bar_chart(labels, [s.values], whole=s.currency is None)
    for b in board.breakdowns:
        for currency in b.currencies:
            rows = b.rows_in(currency)
            groups = list(dict.fromkeys(r.values[0] or "" for r in rows))
            stacks = list(dict.fromkeys((r.values[1] if len(r.values) > 1 else None) or "" for r in rows))
            series = [
                [sum((r.amount for r in rows if (r.values[0] or "") == g and ((r.values[1] if len(r.values) > 1 else None) or "") == st), Decimal(0)) for g in groups]
                for st in stacks
            ]
            charts[f"{b.key}:{currency}"] = bar_chart(
                [g or _("Not recorded") for g in groups], series, [st or _("No fund") for st in stacks]
            )
    return charts


@get("/reports", opt={"permission": "reports.view"})
def reports_index(ctx: Ctx) -> Template:
    """The reports the organisation can publish."""
    return render(ctx, "reports/index.html")


@get("/reports/programme", opt={"permission": "reports.view"})
def programme_page(ctx: Ctx, month: FromQuery[str] = "") -> Template:
    """People by status, releases, visits on time, the modules' figures month by month and
    spending by module and fund, for twelve months."""
    board = _dashboard(ctx, month)
    return render(
        ctx,
        "reports/programme.html",
        board=board,
        statuses=_status_figures(board),
        charts=_charts(board),
        month_label=_month_label,
        query=f"?month={board.range.last_month.strftime('%Y-%m')}",
    )


def _rows(ctx: Context, board: programme.Dashboard) -> list[list[Any]]:
    months = [m.strftime("%Y-%m") for m in board.range.months]
    span = f"{board.range.first.isoformat()}..{board.range.end.isoformat()}"
    rows: list[list[Any]] = [[key, label, ctx.today.isoformat(), "", "", "", n] for key, label, n in _status_figures(board)]
    rows += [["core.releases", _("People released"), m, "", "", "", v] for m, v in zip(months, board.releases.values)]
    for m, o in zip(months, board.on_time):
        rows += [
            ["core.visits_due", _("Follow-up visits due"), m, "", "", "", o.due],
            ["core.visits_on_time", _("Follow-up visits made on time"), m, "", "", "", o.on_time],
            ["core.visits_on_time_share", _("Share of follow-up visits made on time"), m, "", "", "", o.share],
        ]
    for s in board.indicators:
        rows += [[s.key, s.label, m, "", "", s.currency or "", v] for m, v in zip(months, s.values)]
    for b in board.breakdowns:
        for r in b.rows:
            values = [*r.values, None, None][:2]
            rows.append([b.key, b.label, span, values[0] or "", values[1] or "", r.currency, r.amount])
    return rows


def _download(ctx: Context, month: str, fmt: str) -> Response[bytes]:
    board = _dashboard(ctx, month)
    name = f"programme-{ctx.organisation.slug}-{board.range.last_month.strftime('%Y-%m')}"
    return table_download(name, HEADER, _rows(ctx, board), fmt)


@get("/reports/programme.csv", opt={"permission": "reports.view"})
def programme_csv(ctx: Ctx, month: FromQuery[str] = "") -> Response[bytes]:
    """The dashboard's figures as CSV: one row per figure and month (columns: ``HEADER``)."""
    return _download(ctx, month, "csv")


@get("/reports/programme.xlsx", opt={"permission": "reports.view"})
def programme_xlsx(ctx: Ctx, month: FromQuery[str] = "") -> Response[bytes]:
    """The dashboard's figures as an Excel workbook (the CSV's rows)."""
    return _download(ctx, month, "xlsx")


ROUTES = [reports_index, programme_page, programme_csv, programme_xlsx]
