"""Isolation: an organisation without the module gets 404 on every page; another organisation
with the module gets 404 for the first one's cases and records and never sees their data."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Membership, Role, User
from plugins.release_support.models import ReleaseRecord
from tests.plugins.release_support.conftest import RELEASED, counts, fresh, record_form, send


def test_an_organisation_without_the_module_gets_404_everywhere(app, make_case, books, client_for, db: Session) -> None:  # noqa: ANN001
    books("a")
    case = make_case("a")
    assert send(client_for(Role.case_manager, "a"), f"/release-support/cases/{case.id}/records", record_form()).status_code == 303
    record = fresh(db).scalar(select(ReleaseRecord))
    before = counts(db)
    client = client_for(Role.admin, "b")
    seen = 0
    for route in app.routes:
        if not route.path.startswith("/release-support"):
            continue
        url = route.path.replace("{case_id:int}", str(case.id)).replace("{record_id:int}", str(record.id))
        for method in route.methods - {"OPTIONS", "HEAD"}:
            response = client.get(url) if method == "GET" else send(client, url, {**record_form(), "reason": "x", "reversed_on": RELEASED.isoformat()})
            assert response.status_code == 404, f"{method} {url}: {response.status_code}"
            assert "Sok Dara" not in response.text
            seen += 1
    assert seen >= 13
    assert 'href="/release-support"' not in client.get("/").text  # no menu item
    assert counts(db) == before


def test_a_second_organisation_with_the_module_sees_404_for_the_firsts_records(make_case, books, client_for, db: Session, registry) -> None:  # noqa: ANN001
    from core.services.admin import create_organisation

    stock = books("a")
    case = make_case("a")
    assert send(client_for(Role.case_manager, "a"), f"/release-support/cases/{case.id}/records", record_form()).status_code == 303
    record = fresh(db).scalar(select(ReleaseRecord))
    org = create_organisation(db, "org-c", "Organisation C", sorted(registry.modules))
    admin = db.scalar(select(User).where(User.email == "admin@a.test"))
    db.add(Membership(user_id=admin.id, org_id=org.id, role=Role.admin))
    db.commit()
    client = client_for(Role.admin, "a")
    assert send(client, "/organisation", {"org_id": org.id}).status_code in (302, 303)
    before = counts(db)
    for url in ("", "/tab"):
        response = client.get(f"/release-support/cases/{case.id}{url}")
        assert response.status_code == 404 and "Sok Dara" not in response.text, url
    assert send(client, f"/release-support/cases/{case.id}/records", record_form()).status_code == 404
    assert send(client, f"/release-support/cases/{case.id}/checklist", {"step": "collected", "done_on": RELEASED.isoformat()}).status_code == 404
    assert send(client, f"/release-support/records/{record.id}/reverse", {"reversed_on": RELEASED.isoformat(), "reason": "x"}).status_code == 404
    # the first organisation's stock items cannot be received into or drawn from here
    assert send(client, "/release-support/stock/receipts", {"item": stock.soap.id, "received_on": RELEASED.isoformat(), "quantity": "1",
                                                           "unit_cost": "1"}).status_code == 422
    for url in ("/release-support", "/release-support/stock", "/release-support/export.csv", "/release-support/settings", "/"):
        page = client.get(url)
        assert page.status_code == 200 and "Sok Dara" not in page.text and "Mosquito net" not in page.text, url
    assert counts(db) == before
