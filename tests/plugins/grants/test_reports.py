"""Reports: per fund and period, survival at 6 and 12 months, cost per business still trading,
and the CSV and Excel exports."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from core.context import Context
from core.models import Role
from plugins.grants import services
from plugins.grants.schemas import ApproveIn, DisburseIn, MonthIn, PlanIn, RepaymentIn, WriteOffIn
from tests.plugins.grants.conftest import TODAY

T0 = TODAY - timedelta(days=390)


def _grant(ctx: Context, make_case: Callable, amount: str, repayable: str = "0", on: date = T0):  # noqa: ANN202
    ctx.today = on
    grant = services.create_plan(ctx, make_case("a", f"Person {amount}"), PlanIn.model_validate({
        "business_type": "grocery_stall", "description": "Stall", "expected_income": "100", "expected_income_currency": "USD",
        "contribution_currency": "USD", "items": [{"description": "Stock", "amount": amount, "currency": "USD"}],
    }))
    instalments = [{"due_on": on + timedelta(days=90), "amount": repayable}] if Decimal(repayable) else []
    services.approve(ctx, grant, ApproveIn.model_validate({
        "amount": amount, "currency": "USD", "fund": "Reintegration", "repayable": repayable, "instalments": instalments,
        "tranches": [{"share": "60%", "condition": "At start"}, {"share": "40%", "condition": "Later"}],
    }))
    return grant


def _pay(ctx: Context, grant, on: date, amount: str | None = None) -> None:  # noqa: ANN001
    ctx.today = on
    services.disburse(ctx, grant, DisburseIn(paid_on=on, method="bank", currency="USD", amount=Decimal(amount) if amount else None))


def _months(ctx: Context, grant, first: int, last: int, stop: int | None = None) -> None:  # noqa: ANN001
    for k in range(first, last + 1):
        month = services.add_months(T0, k).replace(day=1)
        ctx.today = min(services.month_end(month), TODAY)
        services.record_month(ctx, grant, MonthIn(month=month, sales=Decimal(100), costs=Decimal(50), drawings=Decimal(0), stock=Decimal(0),
                                                  still_trading="no" if k == stop else "yes"))


def test_figures_survival_cost_and_exports(client_for, ctx_for, make_case, books, db: Session) -> None:
    books("a", income="5000.00")
    ctx = ctx_for(Role.admin, "a")
    a = _grant(ctx, make_case, "300")
    _pay(ctx, a, T0)
    _pay(ctx, a, T0 + timedelta(days=30))
    _months(ctx, a, 1, 12)
    b = _grant(ctx, make_case, "200", repayable="100")
    _pay(ctx, b, T0)
    _pay(ctx, b, T0)
    _months(ctx, b, 1, 4, stop=4)
    ctx.today = T0 + timedelta(days=200)
    services.repay(ctx, b, RepaymentIn(paid_on=ctx.today, method="cash", currency="USD", amount=Decimal(50)))
    services.write_off(ctx, b, WriteOffIn(written_on=ctx.today, reason="Closed"))
    c = _grant(ctx, make_case, "400", on=TODAY - timedelta(days=60))
    _pay(ctx, c, TODAY - timedelta(days=50), "100")
    d = _grant(ctx, make_case, "100")
    _pay(ctx, d, T0, "100")
    db.commit()

    surviving, costs = services.survival(ctx_for(Role.viewer, "a"))
    assert [(s.months, s.due, s.trading, s.stopped, s.unknown, s.rate) for s in surviving] == [(6, 3, 1, 1, 1, 50), (12, 3, 1, 1, 1, 50)]
    assert [(c.currency, c.given, c.trading, c.cost) for c in costs] == [("USD", 70000, 1, Decimal("700.00"))]
    rows = services.fund_figures(ctx_for(Role.viewer, "a"), "quarter")
    assert sum(r.approved for r in rows) == 100000 and sum(r.given for r in rows) == 70000
    assert sum(r.repaid for r in rows) == 5000 and sum(r.written_off for r in rows) == 5000
    last = rows[-1]
    assert (last.fund, last.not_yet_given, last.loans_outstanding) == ("Reintegration", 30000, 0)

    client = client_for(Role.viewer, "a")
    page = client.get("/grants/reports?by=quarter")
    assert page.status_code == 200 and "$700.00" in page.text and 'data-months="6"' in page.text
    export = client.get("/grants/reports/funds.csv?by=quarter")
    assert export.status_code == 200 and export.content.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert table[0][:4] == ["Period", "Fund", "Currency", "Approved"] and len(table) == len(rows) + 1
    assert sum(Decimal(r[4]) for r in table[1:]) == Decimal("700.00")

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(client.get("/grants/reports/funds.xlsx?by=quarter").content))
    sheet = book.active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == table[0] and [str(v) for v in values[-1][:3]] == table[-1][:3]
    assert sum(Decimal(str(r[4])) for r in values[1:]) == Decimal("700")
    assert client_for(Role.viewer, "b").get("/grants/reports").status_code == 404  # b does not run grants
