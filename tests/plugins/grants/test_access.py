"""Isolation and roles: another organisation's grant ids answer 404, an organisation without the
module gets 404 on every page, and roles without the permission get 403."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Role
from plugins.grants.models import Grant, MonthFigures
from tests.conftest import post_form
from tests.plugins.grants.conftest import TODAY, approve_form, plan_form
from tests.plugins.grants.test_life import counts, fresh


def _grant(client_for, make_case, db: Session) -> Grant:  # noqa: ANN001
    case = make_case("a", "Secret Sokha")
    post_form(client_for(Role.case_manager, "a"), f"/grants/cases/{case.id}/plans", plan_form(description="Secret business"))
    grant = fresh(db).scalar(select(Grant))
    assert post_form(client_for(Role.programme_officer, "a"), f"/grants/{grant.id}/approve", approve_form()).status_code == 303
    post_form(client_for(Role.case_manager, "a"), f"/grants/{grant.id}/months",
              {"month": TODAY.strftime("%Y-%m"), "sales": "1", "costs": "", "drawings": "", "stock": "", "still_trading": "yes"})
    return fresh(db).get(Grant, grant.id)


def test_another_organisations_grants_answer_404_and_an_org_without_the_module_too(app, client_for, make_case, books, db: Session) -> None:
    books("a")
    grant = _grant(client_for, make_case, db)
    month = fresh(db).scalar(select(MonthFigures.id))
    before = counts(db)
    ids = {"grant_id": grant.id, "case_id": grant.case_id, "month_id": month}
    for org in ("b",):  # b has not enabled grants: every page answers 404
        client = client_for(Role.admin, org)
        for route in app.routes:
            if not route.path.startswith("/grants"):
                continue
            url = route.path
            for name, value in ids.items():
                url = url.replace(f"{{{name}:int}}", str(value))
            for method in route.methods - {"OPTIONS", "HEAD"}:
                response = client.get(url) if method == "GET" else post_form(client, url, {"reason": "x", "amount": "1"})
                assert response.status_code == 404, f"{method} {url}: {response.status_code}"
                assert "Secret" not in response.text
    assert counts(db) == before


def test_a_second_organisation_with_the_module_sees_404_for_the_firsts_grants(app, client_for, make_case, books, db: Session, registry) -> None:  # noqa: ANN001
    from core.services.admin import create_organisation
    from core.models import Membership, User

    books("a")
    grant = _grant(client_for, make_case, db)
    # a third organisation that runs grants
    org = create_organisation(db, "org-c", "Organisation C", sorted(registry.modules))
    admin = db.scalar(select(User).where(User.email == "admin@a.test"))
    db.add(Membership(user_id=admin.id, org_id=org.id, role=Role.admin))
    db.commit()
    client = client_for(Role.admin, "a")
    assert post_form(client, "/organisation", {"org_id": org.id}).status_code in (302, 303)
    before = counts(db)
    for url in (f"/grants/{grant.id}", f"/grants/cases/{grant.case_id}/tab", f"/grants/cases/{grant.case_id}/new"):
        response = client.get(url)
        assert response.status_code == 404 and "Secret" not in response.text, url
    for action in ("reject", "approve", "disburse", "purchases", "repayments", "write-off", "write-off/reverse", "months"):
        assert post_form(client, f"/grants/{grant.id}/{action}", {"reason": "x"}).status_code == 404, action
    assert post_form(client, f"/grants/cases/{grant.case_id}/plans", plan_form()).status_code == 404
    page = client.get("/grants")
    assert page.status_code == 200 and "Secret" not in page.text and f'data-grant="{grant.id}"' not in page.text
    assert "Secret" not in client.get("/grants/reports").text
    assert counts(db) == before


def test_roles_without_the_permission_get_403(client_for, make_case, books, db: Session) -> None:
    books("a")
    grant = _grant(client_for, make_case, db)
    before = counts(db)
    forbidden = {
        Role.viewer: ["reject", "approve", "disburse", "purchases", "repayments", "write-off", "months"],
        Role.auditor: ["approve", "disburse", "months"],
        Role.case_manager: ["approve", "reject", "disburse", "purchases", "repayments", "write-off"],
        Role.finance: ["approve", "reject", "months"],
        Role.programme_officer: ["disburse", "purchases", "repayments", "write-off", "write-off/reverse"],
    }
    for role, actions in forbidden.items():
        client = client_for(role, "a")
        assert client.get(f"/grants/{grant.id}").status_code == 200  # everyone of the organisation sees the grant
        for action in actions:
            assert post_form(client, f"/grants/{grant.id}/{action}", {"reason": "x"}).status_code == 403, (role, action)
    for role in (Role.viewer, Role.finance, Role.auditor):
        assert client_for(role, "a").get(f"/grants/cases/{grant.case_id}/new").status_code == 403
        assert post_form(client_for(role, "a"), f"/grants/cases/{grant.case_id}/plans", plan_form()).status_code == 403
    viewer_page = client_for(Role.viewer, "a").get(f"/grants/{grant.id}").text
    assert 'id="disburse"' not in viewer_page and 'id="month"' not in viewer_page and "$500.00" in viewer_page
    assert counts(db) == before
