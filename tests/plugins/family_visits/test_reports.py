"""The reports: visits per month, the share of prisoners with a plan visited, the average
subsidy and the cost per visit; CSV and Excel hold the same table."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from openpyxl import load_workbook

from core.models import Role
from tests.plugins.family_visits.conftest import day_in, plan_form, send, visit_form


def test_monthly_figures(make_family, books, client_for) -> None:  # noqa: ANN001
    books("a")
    manager = client_for(Role.case_manager, "a")
    one = make_family("a", "Sok Dara")
    two = make_family("a", "Chan Vanna")
    for family in (one, two):
        assert send(manager, f"/family-visits/cases/{family.case.id}/plan", plan_form(family)).status_code == 303
    month = day_in(2).strftime("%Y-%m")
    assert send(manager, f"/family-visits/cases/{one.case.id}/visits", visit_form(one, day_in(2))).status_code == 303
    assert send(manager, f"/family-visits/cases/{one.case.id}/visits", visit_form(one, day_in(2, 9), payment="none")).status_code == 303
    assert send(manager, f"/family-visits/cases/{two.case.id}/visits", visit_form(two, day_in(2, 6), transport="20000", food="")).status_code == 303
    page = manager.get("/family-visits/reports")
    assert page.status_code == 200 and f'data-month="{month}"' in page.text
    response = manager.get("/family-visits/reports/months.csv")
    assert response.status_code == 200 and response.text.startswith("\ufeff")
    rows = {r[0]: r for r in csv.reader(io.StringIO(response.text.lstrip("\ufeff")))}
    # visits 3, subsidised 2, prisoners 2, visited 2, 100 %; riel: 60,000 paid, 30,000 average, 20,000 per visit
    assert rows[month][:6] == [month, "3", "2", "2", "2", "100"]
    assert rows[month][9:12] == ["60000", "30000", "20000"]
    three = day_in(3).strftime("%Y-%m")
    assert rows[three][:6] == [three, "0", "0", "2", "0", "0"]
    xlsx = manager.get("/family-visits/reports/months.xlsx")
    sheet = {r[0]: r for r in load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True)}
    assert Decimal(str(sheet[month][9])) == Decimal("60000") and sheet[month][5] == 100
