"""Isolation: an organisation without the module gets 404 on every page; another organisation
with the module gets 404 for the first one's cases, partners, referrals, meetings and costs, and
never sees their data; a partner or case id of the first cannot be used in its forms."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Membership, Role, User
from plugins.community.models import Meeting, MeetingCost, Referral
from tests.plugins.community.conftest import TODAY, counts, fresh, refused, send


def _records(make_case, make_partner, consent, books, client_for, db):
    books("a")
    case = make_case("a")
    consent(case)
    partner = make_partner()
    manager, officer = client_for(Role.case_manager, "a"), client_for(Role.programme_officer, "a")
    assert send(manager, f"/community/cases/{case.id}/referrals", {"partner": partner.id, "purpose": "health", "referred_on": TODAY.isoformat()}).status_code == 303
    held = (TODAY - timedelta(days=1)).isoformat()
    assert send(officer, "/community/meetings", {"held_on": held, "place": "Office", "facilitator": "Vanna", "topic": "Secret topic"}).status_code == 303
    meeting = fresh(db).scalar(select(Meeting))
    assert send(officer, f"/community/meetings/{meeting.id}/attendance", {"case": case.id}).status_code == 303
    assert send(officer, f"/community/meetings/{meeting.id}/costs", {"item": "refreshments", "paid_on": held, "currency": "KHR", "amount": "40000"}).status_code == 303
    fresh(db)
    return {"case_id": case.id, "partner_id": partner.id, "referral_id": db.scalar(select(Referral.id)), "meeting_id": meeting.id,
            "cost_id": db.scalar(select(MeetingCost.id))}


def _url(path: str, ids: dict[str, int]) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + ":int}", str(value))
    return path


FORM = {"partner": "1", "purpose": "health", "referred_on": TODAY.isoformat(), "status": "accepted", "on": TODAY.isoformat(), "feedback": "x",
        "case": "1", "held_on": TODAY.isoformat(), "place": "x", "facilitator": "x", "topic": "x", "item": "transport", "paid_on": TODAY.isoformat(),
        "currency": "KHR", "amount": "1000", "reversed_on": TODAY.isoformat(), "reason": "x", "kind": "church", "name": "Grace Church"}


def test_an_organisation_without_the_module_gets_404_everywhere(app, make_case, make_partner, consent, books, client_for, db: Session) -> None:
    ids = _records(make_case, make_partner, consent, books, client_for, db)
    before = counts(db)
    client = client_for(Role.admin, "b")
    seen = 0
    for route in app.routes:
        if not route.path.startswith("/community"):
            continue
        url = _url(route.path, ids)
        for method in route.methods - {"OPTIONS", "HEAD"}:
            response = client.get(url) if method == "GET" else send(client, url, FORM)
            assert response.status_code == 404, f"{method} {url}: {response.status_code}"
            assert "Sok Dara" not in response.text and "Grace Church" not in response.text
            seen += 1
    assert seen == 22  # every route of the module (a new one must be added to this test knowingly)
    assert 'href="/community"' not in client.get("/").text  # no menu item
    assert counts(db) == before


def test_a_second_organisation_with_the_module_sees_404_for_the_firsts_records(app, make_case, make_partner, consent, books, client_for, db: Session,
                                                                                registry) -> None:
    from core.services.admin import create_organisation

    ids = _records(make_case, make_partner, consent, books, client_for, db)
    org = create_organisation(db, "org-c", "Organisation C", sorted(registry.modules))
    admin = db.scalar(select(User).where(User.email == "admin@a.test"))
    db.add(Membership(user_id=admin.id, org_id=org.id, role=Role.admin))
    db.commit()
    client = client_for(Role.admin, "a")
    assert send(client, "/organisation", {"org_id": org.id}).status_code in (302, 303)
    before = counts(db)
    walked = 0
    for route in app.routes:
        if not route.path.startswith("/community") or "{" not in route.path:
            continue
        url = _url(route.path, ids)
        for method in route.methods - {"OPTIONS", "HEAD"}:
            response = client.get(url) if method == "GET" else send(client, url, FORM)
            assert response.status_code == 404, f"{method} {url}: {response.status_code}"
            assert "Sok Dara" not in response.text and "Grace Church" not in response.text and "Secret topic" not in response.text
            walked += 1
    assert walked == 11
    # lists show nothing of the first organisation; its partner cannot be chosen here
    for url in ("/community", "/community/partners", "/community/referrals", "/community/meetings", "/community/reports", "/"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert "Sok Dara" not in page.text and "Grace Church" not in page.text and "Secret topic" not in page.text, url
    assert send(client, "/community/meetings", {"held_on": TODAY.isoformat(), "place": "C office", "facilitator": "C", "topic": "C"}).status_code == 303
    mine = fresh(db).scalar(select(Meeting).where(Meeting.org_id == org.id))
    refused(send(client, f"/community/meetings/{mine.id}/attendance", {"case": ids["case_id"]}), "Choose one of the options.", "case")
    assert counts(db)[:2] == before[:2]
