"""Isolation and roles: another organisation's ids answer 404, an organisation without the
module gets 404 on every page, and roles without the permission get 403."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Membership, Role, User
from tests.conftest import post_form
from tests.plugins.family_visits.conftest import counts, day_in, plan_form, send, visit_form


def test_an_organisation_without_the_module_gets_404_everywhere(app, planned, client_for, db: Session) -> None:  # noqa: ANN001
    assert send(client_for(Role.case_manager, "a"), f"/family-visits/cases/{planned.case.id}/visits", visit_form(planned, day_in(1))).status_code == 303
    before = counts(db)
    client = client_for(Role.admin, "b")
    seen = 0
    for route in app.routes:
        if not route.path.startswith("/family-visits"):
            continue
        url = route.path.replace("{case_id:int}", str(planned.case.id))
        for method in route.methods - {"OPTIONS", "HEAD"}:
            response = client.get(url) if method == "GET" else post_form(client, url, {"fund": "", "members": "1"})
            assert response.status_code == 404, f"{method} {url}: {response.status_code}"
            assert "Sok Dara" not in response.text
            seen += 1
    assert seen >= 14
    assert counts(db) == before


def test_a_second_organisation_with_the_module_sees_404_for_the_firsts_cases(planned, client_for, db: Session, registry) -> None:  # noqa: ANN001
    from core.services.admin import create_organisation

    manager = client_for(Role.case_manager, "a")
    assert send(manager, f"/family-visits/cases/{planned.case.id}/visits", visit_form(planned, day_in(1))).status_code == 303
    org = create_organisation(db, "org-c", "Organisation C", sorted(registry.modules))
    admin = db.scalar(select(User).where(User.email == "admin@a.test"))
    db.add(Membership(user_id=admin.id, org_id=org.id, role=Role.admin))
    db.commit()
    client = client_for(Role.admin, "a")
    assert post_form(client, "/organisation", {"org_id": org.id}).status_code in (302, 303)
    before = counts(db)
    for url in ("", "/tab", "/plan"):
        response = client.get(f"/family-visits/cases/{planned.case.id}{url}")
        assert response.status_code == 404 and "Sok Dara" not in response.text, url
    assert send(client, f"/family-visits/cases/{planned.case.id}/plan", plan_form(planned)).status_code == 404
    assert send(client, f"/family-visits/cases/{planned.case.id}/visits", visit_form(planned, day_in(2))).status_code == 404
    for url in ("/family-visits", "/family-visits?due=1", "/family-visits/sheets?month=" + day_in(1).strftime("%Y-%m"), "/family-visits/reports", "/"):
        page = client.get(url)
        assert page.status_code == 200 and "Sok Dara" not in page.text, url
    xlsx = client.get("/family-visits/sheets/sheet.xlsx?month=" + day_in(1).strftime("%Y-%m"))
    assert xlsx.status_code == 200 and b"Sok Dara" not in xlsx.content
    assert counts(db) == before


def test_roles_without_the_permission_get_403(planned, client_for) -> None:  # noqa: ANN001
    for role in (Role.case_manager, Role.programme_officer, Role.viewer):
        client = client_for(role, "a")
        assert client.get(f"/family-visits/cases/{planned.case.id}").status_code == 200  # everyone sees the visits
        for url in ("/family-visits/sheets", "/family-visits/sheets/sheet.xlsx", "/family-visits/sheets/sheet.pdf", "/family-visits/settings"):
            assert client.get(url).status_code == 403, (role, url)
    for role in (Role.finance, Role.auditor, Role.admin):
        assert client_for(role, "a").get("/family-visits/sheets").status_code == 200, role
    viewer = client_for(Role.viewer, "a").get(f"/family-visits/cases/{planned.case.id}").text
    assert 'id="visit-form"' not in viewer and "Change the visit plan" not in viewer
