"""Isolation and roles: an organisation without the module gets 404 on every page, another
organisation's ids answer 404, and each role gets 403 where its permissions end."""

from __future__ import annotations

import re

from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Membership, Role, User
from core.services.admin import create_organisation
from plugins.housing.models import Payment, Quote
from tests.conftest import login, post_form
from tests.plugins.housing.conftest import counts, fresh, payment_form, pdf, send

PARAM = re.compile(r"\{(\w+):int\}")


def _ids(db: Session, approved) -> dict[str, int]:  # noqa: ANN001
    fresh(db)
    return {"case_id": approved.family.case.id, "repair_id": approved.repair.id, "quote_id": db.scalar(select(Quote.id)),
            "payment_id": db.scalar(select(Payment.id))}


def _walk(app, client: TestClient, ids: dict[str, int]) -> int:  # noqa: ANN001
    seen = 0
    for route in app.routes:
        if not route.path.startswith("/housing"):
            continue
        url = PARAM.sub(lambda m: str(ids[m.group(1)]), route.path)
        for method in route.methods - {"OPTIONS", "HEAD"}:
            response = client.get(url) if method == "GET" else post_form(client, url, {"reason": "x", "cancel_reason": "x", "fund": ""})
            assert response.status_code == 404, f"{method} {url}: {response.status_code}"
            assert "Sok Dara" not in response.text
            seen += 1
    return seen


def test_other_organisations_get_404_for_every_record(app, approved, client_for, db: Session, registry, world) -> None:  # noqa: ANN001
    assert send(client_for(Role.finance, "a"), f"/housing/repairs/{approved.repair.id}/payments", payment_form(), [pdf()]).status_code == 303
    before = counts(db)
    assert _walk(app, client_for(Role.admin, "b"), _ids(db, approved)) >= 20
    assert "/housing" not in client_for(Role.admin, "b").get("/").text
    assert counts(db) == before

    # a second organisation that runs the module gets 404 for the first's records
    org = create_organisation(db, "org-c", "Organisation C", sorted(registry.modules))
    user = User(email="admin@c.test", name="Admin C", password_hash=db.get(User, world.users[("a", Role.admin)]).password_hash)
    db.add(user)
    db.flush()
    db.add(Membership(user_id=user.id, org_id=org.id, role=Role.admin))
    db.commit()
    client = TestClient(app, raise_server_exceptions=False)
    login(client, "admin@c.test")
    before = counts(db)
    ids = _ids(db, approved)
    for route in app.routes:
        if not route.path.startswith("/housing") or not PARAM.search(route.path):
            continue
        url = PARAM.sub(lambda m: str(ids[m.group(1)]), route.path)
        for method in route.methods - {"OPTIONS", "HEAD"}:
            response = client.get(url) if method == "GET" else post_form(client, url, {"reason": "x", "cancel_reason": "x"})
            assert response.status_code == 404, f"{method} {url}: {response.status_code}"
            assert "Sok Dara" not in response.text
    for url in ("/housing", "/housing?overdue=1", "/housing/reports", "/housing/reports/repairs.csv", "/"):
        page = client.get(url)
        assert page.status_code == 200 and "Sok Dara" not in page.text and "Metal sheet roof" not in page.text, url
    assert counts(db) == before


def test_each_role_does_its_own_part(approved, client_for, db: Session) -> None:  # noqa: ANN001
    repair = f"/housing/repairs/{approved.repair.id}"
    case = f"/housing/cases/{approved.family.case.id}"
    for role in Role:
        client = client_for(role, "a")
        for url in ("/housing", repair, case, f"{case}/tab", "/housing/reports", "/housing/reports/repairs.xlsx"):
            assert client.get(url).status_code == 200, (role, url)
    # who may not: assess / approve / pay / settings
    no_assess = (Role.finance, Role.auditor, Role.viewer)
    no_approve = (Role.case_manager, Role.finance, Role.auditor, Role.viewer)
    no_pay = (Role.case_manager, Role.programme_officer, Role.auditor, Role.viewer)
    before = counts(db)
    for role in no_assess:
        client = client_for(role, "a")
        assert client.get(f"{case}/assess").status_code == 403, role
        assert post_form(client, f"{case}/repairs", {"repair_type": "roof", "description": "x", "planned_on": "2030-01-01"}).status_code == 403
        assert post_form(client, f"{repair}/cancel", {"cancel_reason": "x"}).status_code == 403
        assert send(client, f"{repair}/progress", {"progress_note": "x"}, []).status_code == 403
    quote_id = fresh(db).scalar(select(Quote.id))
    for role in no_approve:
        assert post_form(client_for(role, "a"), f"/housing/quotes/{quote_id}/send-back", {"reason": "x"}).status_code == 403, role
    for role in no_pay:
        assert send(client_for(role, "a"), f"{repair}/payments", payment_form(), [pdf()]).status_code == 403, role
    for role in set(Role) - {Role.admin}:
        assert client_for(role, "a").get("/housing/settings").status_code == 403, role
    assert counts(db) == before
    viewer = client_for(Role.viewer, "a").get(repair).text
    for form in ("quote-form", "payment-form", "progress-form", "complete-form", "cancel-form"):
        assert f'id="{form}"' not in viewer, form
    auditor = client_for(Role.auditor, "a").get(repair).text
    assert 'id="payment-form"' not in auditor and "Journal entry" in auditor
