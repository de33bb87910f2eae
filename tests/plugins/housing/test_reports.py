"""The reports (repairs by status and type, cost per home, days from assessment to completion,
CSV and Excel), the overdue list on the dashboard and the list's filters."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

from openpyxl import load_workbook
from sqlalchemy.orm import Session

from core.models import Role
from plugins.housing import services
from plugins.housing.models import Repair
from plugins.housing.schemas import ApproveIn, AssessmentIn, CancelIn, CompleteIn, PaymentIn, RepairIn
from tests.plugins.housing.conftest import ASSESSED, PDF, TODAY, add_quote, assessment_form, jpeg

DECIDED = ASSESSED + timedelta(days=4)


def repair(ctx_for, family, kind: str, planned: date, quote: tuple[str, str] | None = None,  # noqa: ANN001
           paid: tuple[str, ...] = (), completed: date | None = None) -> Repair:
    worker, officer, finance = ctx_for(Role.case_manager, "a"), ctx_for(Role.programme_officer, "a"), ctx_for(Role.finance, "a")
    worker.today = officer.today = finance.today = DECIDED
    item = services.propose_repair(worker, family.case, RepairIn(repair_type=kind, description=f"{kind} work", planned_on=planned))  # type: ignore[arg-type]
    if quote:
        services.approve_quote(officer, add_quote(worker, item, *quote), ApproveIn())
    for n, amount in enumerate(paid):
        finance.today = TODAY
        services.pay(finance, item, PaymentIn(kind="advance" if n == 0 else "completion", amount=Decimal(amount), paid_on=DECIDED, method="cash"),
                     [(f"inv-{n}.pdf", PDF)])
    if completed:
        worker.today = TODAY
        services.complete(worker, item, CompleteIn(completed_on=completed, signed_by=family.mother.id), [("signed.jpg", jpeg())])
    return item


def test_figures_by_status_and_type_cost_per_home_and_time_to_completion(make_family, books, ctx_for, client_for, db: Session) -> None:  # noqa: ANN001
    books("a", income="5000.00", ceiling="2000.00")
    one, two = make_family("a", "Sok Dara"), make_family("a", "Chan Vanna")
    assert "No housing repair is past its planned date." in client_for(Role.case_manager, "a").get("/").text
    for family in (one, two):
        worker = ctx_for(Role.case_manager, "a")
        worker.today = ASSESSED
        services.assess(worker, family.case, AssessmentIn(**assessment_form(family)))
    roof = repair(ctx_for, one, "roof", TODAY, ("600.00", "USD"), ("240.00", "360.00"), completed=ASSESSED + timedelta(days=20))
    water = repair(ctx_for, one, "water", TODAY - timedelta(days=5), ("1230000", "KHR"), ("500000",))
    repair(ctx_for, two, "sanitation", TODAY, ("300.00", "USD"), ("300.00",), completed=TODAY)
    later = repair(ctx_for, two, "other", TODAY + timedelta(days=10))
    walls = repair(ctx_for, two, "walls", TODAY - timedelta(days=2))
    services.cancel(ctx_for(Role.case_manager, "a"), walls, CancelIn(cancel_reason="Not needed"))
    repair(ctx_for, two, "floor", TODAY, ("150.00", "USD"), ("150.00",), completed=ASSESSED + timedelta(days=5))
    db.commit()

    data = services.report(ctx_for(Role.viewer, "a"))
    assert data.counts == {("completed", "roof"): 1, ("in_progress", "water"): 1, ("completed", "sanitation"): 1, ("proposed", "other"): 1,
                           ("cancelled", "walls"): 1, ("completed", "floor"): 1}
    assert (data.count("completed"), data.count(None, "roof"), data.count()) == (3, 1, 6)
    homes = {h.case.id: h for h in data.homes}
    assert (homes[one.case.id].approved, homes[one.case.id].paid) == ({"USD": 60000, "KHR": 1230000}, {"USD": 60000, "KHR": 500000})
    assert (homes[two.case.id].approved, homes[two.case.id].paid, homes[two.case.id].repairs, homes[two.case.id].completed) == (
        {"USD": 45000}, {"USD": 45000}, 4, 2)
    assert sorted(data.durations.days) == [5, 20, 30]
    assert (data.durations.median, data.durations.mean) == (Decimal("20"), Decimal("18.3"))
    assert {t: d.days for t, d in data.durations_by_type.items()} == {"roof": [20], "sanitation": [30], "floor": [5]}

    viewer = client_for(Role.viewer, "a")
    page = viewer.get("/housing/reports")
    assert page.status_code == 200 and 'data-status="completed"' in page.text and "Cost per home" in page.text and "18.3" in page.text
    response = viewer.get("/housing/reports/repairs.csv")
    assert response.status_code == 200 and response.text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert len(rows) == 7
    by_id = {r[0]: r for r in rows[1:]}
    assert by_id[str(roof.id)][5:10] == ["Completed", ASSESSED.isoformat(), TODAY.isoformat(), (ASSESSED + timedelta(days=20)).isoformat(), "20"]
    assert by_id[str(roof.id)][12:] == ["600.00", "600.00", "USD"]
    assert by_id[str(water.id)][10] == "yes" and by_id[str(water.id)][12:] == ["1230000", "500000", "KHR"]
    assert by_id[str(later.id)][10] == "" and by_id[str(walls.id)][10] == ""
    workbook = load_workbook(io.BytesIO(viewer.get("/housing/reports/repairs.xlsx").content))
    assert len(workbook.sheetnames) == 3
    sheet = {r[0]: r for r in workbook.worksheets[0].iter_rows(min_row=2, values_only=True)}
    assert Decimal(str(sheet[roof.id][13])) == Decimal("600")
    totals = {r[0]: r for r in workbook.worksheets[1].iter_rows(values_only=True)}
    assert totals["Completed"][-1] == 3 and totals["Total"][-1] == 6

    # overdue: the dashboard panel and the list's filters
    dashboard = viewer.get("/")
    assert 'id="housing-overdue"' in dashboard.text and f'data-repair="{water.id}"' in dashboard.text
    assert f'data-repair="{later.id}"' not in dashboard.text and f'data-repair="{walls.id}"' not in dashboard.text
    overdue = viewer.get("/housing?overdue=1").text
    assert f'data-repair="{water.id}"' in overdue and f'data-repair="{roof.id}"' not in overdue
    assert viewer.get("/housing?status=completed").text.count('data-repair="') == 3
    assert viewer.get("/housing?repair_type=roof").text.count('data-repair="') == 1
    assert viewer.get("/housing").text.count('data-repair="') == 6
    assert "Overdue" in viewer.get(f"/housing/repairs/{water.id}").text
