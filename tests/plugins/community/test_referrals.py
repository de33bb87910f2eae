"""Partners and referrals through the HTTP interface: the directory, partners near a case's home
ranked commune, district, province; a referral sent with the person's consent, accepted and
completed with the partner's feedback, each step on the case timeline; then every refusal."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import CaseStatus, ConsentPurpose, Event, Person, Role
from plugins.community import services
from plugins.community.models import Partner, Referral
from tests.plugins.community.conftest import (
    OPENED,
    RELEASED,
    SIGNED,
    TODAY,
    counts,
    fresh,
    partner_form,
    refused,
    send,
)


def test_partner_nearby_refer_accept_complete_and_the_timeline(make_case, make_partner, consent, client_for, ctx_for, db: Session, world) -> None:
    case = make_case("a")
    consent(case)
    officer = client_for(Role.programme_officer, "a")

    # the directory: a partner added through the form, with its agreement
    assert send(officer, "/community/partners", partner_form(phone="012 345 678")).status_code == 303
    church = fresh(db).scalar(select(Partner).where(Partner.name == "Grace Church"))
    assert (church.kind, church.commune, church.agreement_signed, church.agreement_on, church.org_id) == (
        "church", "Kien Svay commune", True, SIGNED, world.org_ids["a"])
    # others: the same district, the same province, another province, and a district of the same
    # name in another province (not near)
    pagoda = make_partner(name="Wat Kien Svay Krau", kind="pagoda", commune="Kokir commune")
    office = make_partner(name="Kandal provincial office", kind="commune_office", commune="", district="Ta Khmau")
    make_partner(name="Siem Reap church", district="Puok", commune="Puok commune", province="Siem Reap")
    make_partner(name="Namesake pagoda", kind="pagoda", district="Kien Svay", commune="Kien Svay commune", province="Kampot")
    unsigned = make_partner(name="Health centre Kien Svay", kind="health_centre", agreement_signed=False)
    listing = officer.get("/community/partners?kind=pagoda")
    assert listing.status_code == 200 and "Wat Kien Svay Krau" in listing.text and "Grace Church" not in listing.text
    assert "Grace Church" in officer.get("/community/partners?q=encourage").text

    # partners near the home: the same commune first (signed before unsigned), then district, then province
    ctx = ctx_for(Role.case_manager, "a")
    person = db.get(Person, case.person_id)
    assert [(rank, p.name) for rank, p in services.nearby(ctx, person)] == [
        (0, "Grace Church"), (0, "Health centre Kien Svay"), (1, "Wat Kien Svay Krau"), (2, "Kandal provincial office")]
    manager = client_for(Role.case_manager, "a")
    page = manager.get(f"/community/cases/{case.id}")
    assert page.status_code == 200 and 'id="refer-form"' in page.text
    nearby = page.text.split('id="nearby"')[1].split("</table>")[0]
    positions = [nearby.index(f'data-partner="{x.id}" data-rank="{rank}"') for x, rank in ((church, 0), (unsigned, 0), (pagoda, 1), (office, 2))]
    assert positions == sorted(positions) and "Namesake pagoda" not in nearby and "Siem Reap church" not in nearby

    # refer: sent, on the timeline
    url = f"/community/cases/{case.id}/referrals"
    form = {"partner": church.id, "purpose": "spiritual_support", "referred_on": (TODAY - timedelta(days=5)).isoformat(), "note": "Visit on Sundays"}
    response = send(manager, url, form)
    assert response.status_code == 303
    referral = fresh(db).scalar(select(Referral))
    assert response.headers["location"] == f"/community/cases/{case.id}#referral-{referral.id}"
    assert (referral.status, referral.partner_id, referral.purpose, referral.note, referral.referred_by_id) == (
        "sent", church.id, "spiritual_support", "Visit on Sundays", world.users[("a", Role.case_manager)])
    referred = db.scalar(select(Event).where(Event.kind == services.REFERRED))
    assert referred.case_id == case.id and referred.occurred_on == TODAY - timedelta(days=5)
    assert referred.payload == {"referral_id": referral.id, "partner": "Grace Church", "kind": "church", "purpose": "spiritual_support"}

    # accepted, then completed with the partner's feedback; each step an event
    answer = f"/community/referrals/{referral.id}/answer"
    assert send(manager, answer, {"status": "accepted", "on": (TODAY - timedelta(days=3)).isoformat(), "feedback": "Will visit weekly"}).status_code == 303
    assert send(officer, answer, {"status": "completed", "on": TODAY.isoformat(), "feedback": "Comes to church with his mother"}).status_code == 303
    referral = fresh(db).get(Referral, referral.id)
    assert (referral.status, referral.answered_on, referral.completed_on) == ("completed", TODAY - timedelta(days=3), TODAY)
    assert referral.feedback == "Will visit weekly\nComes to church with his mother"
    kinds = [e.kind for e in db.scalars(select(Event).where(Event.case_id == case.id).order_by(Event.id))]
    assert kinds[-3:] == [services.REFERRED, services.ACCEPTED, services.COMPLETED]
    done = db.scalar(select(Event).where(Event.kind == services.COMPLETED))
    assert done.payload == {"referral_id": referral.id, "partner": "Grace Church", "feedback": "Comes to church with his mother"}
    timeline = manager.get(f"/cases/{case.id}")
    assert timeline.status_code == 200
    assert "Referred to a community partner" in timeline.text and "Referral completed" in timeline.text
    assert f"/community/cases/{case.id}/tab" in timeline.text  # the case tab

    # the case tab: a fragment for htmx, a full page without
    tab = manager.get(f"/community/cases/{case.id}/tab", headers={"HX-Request": "true"})
    assert tab.status_code == 200 and "<html" not in tab.text
    assert f'data-referral="{referral.id}" data-status="completed"' in tab.text and "Comes to church with his mother" in tab.text
    assert "<html" in manager.get(f"/community/cases/{case.id}/tab").text
    assert f'data-referral="{referral.id}"' in manager.get(f"/community/partners/{church.id}").text
    assert f'data-referral="{referral.id}"' in manager.get("/community/referrals?status=completed").text
    assert f'data-referral="{referral.id}"' not in manager.get("/community/referrals?status=sent").text

    # a later agreement: the directory's keeper signs the health centre up, then it can be referred to
    update = {**partner_form(name="Health centre Kien Svay", kind="health_centre"), "agreement_on": TODAY.isoformat()}
    assert send(officer, f"/community/partners/{unsigned.id}", update).status_code == 303
    assert fresh(db).get(Partner, unsigned.id).agreement_on == TODAY
    assert send(manager, url, {**form, "partner": unsigned.id, "purpose": "health", "referred_on": TODAY.isoformat()}).status_code == 303


def test_each_refusal_of_a_referral(make_case, make_partner, consent, client_for, db: Session, world) -> None:
    case = make_case("a")
    church = make_partner()
    unsigned = make_partner(name="Wat Thmei", kind="pagoda", agreement_signed=False)
    other_org = make_partner("b", name="B's church")
    manager = client_for(Role.case_manager, "a")
    url = f"/community/cases/{case.id}/referrals"
    form = {"partner": church.id, "purpose": "local_follow_up", "referred_on": TODAY.isoformat(), "note": ""}
    before = counts(db)

    # no consent recorded at all; consent to something else only
    refused(send(manager, url, form), "has not consented to share their information with partners", "partner")
    consent(case, purpose=ConsentPurpose.photos)
    refused(send(manager, url, form), "has not consented", "partner")
    # consent given, then withdrawn
    consent(case, withdrawn_on=TODAY - timedelta(days=1))
    refused(send(manager, url, form), "has not consented", "partner")
    # consent given after the referral's day: not consented on that day
    late = make_case("a", "Chan Vuthy")
    consent(late, given_on=TODAY - timedelta(days=2))
    refused(send(manager, f"/community/cases/{late.id}/referrals", {**form, "referred_on": (TODAY - timedelta(days=3)).isoformat()}),
            "has not consented", "partner")
    consent(case)  # consent given again
    # a partner without a data-sharing agreement
    refused(send(manager, url, {**form, "partner": unsigned.id}), "Wat Thmei has not signed a data-sharing agreement", "partner")
    # another organisation's partner, an unknown one, bad input
    refused(send(manager, url, {**form, "partner": other_org.id}), "Choose one of the options.", "partner")
    refused(send(manager, url, {**form, "referred_on": (TODAY + timedelta(days=1)).isoformat()}), "cannot be in the future", "referred_on")
    refused(send(manager, url, {**form, "referred_on": (SIGNED - timedelta(days=1)).isoformat()}), "was signed on", "referred_on")
    response = send(manager, url, {"partner": "x", "purpose": "money", "referred_on": "soon"})
    assert response.status_code == 422
    for name in ("partner", "purpose", "referred_on"):
        assert f'id="e-{name}"' in response.text, name
    assert counts(db)[:2] == before[:2]

    # the first referral goes; the same again while it is open is refused
    assert send(manager, url, form).status_code == 303
    refused(send(manager, url, form), "already has an open referral", "purpose")
    referral = fresh(db).scalar(select(Referral))

    # wrong steps: completed before accepted; an answer before the referral; a decline without feedback
    answer = f"/community/referrals/{referral.id}/answer"
    prefix = f"{referral.id}-"
    refused(send(manager, answer, {"status": "completed", "on": TODAY.isoformat(), "feedback": "done"}), "cannot become completed", prefix + "status")
    refused(send(manager, answer, {"status": "accepted", "on": (TODAY - timedelta(days=1)).isoformat()}), "comes on or after", prefix + "on")
    refused(send(manager, answer, {"status": "declined", "on": TODAY.isoformat(), "feedback": ""}), "Enter the partner", prefix + "feedback")
    refused(send(manager, answer, {"status": "sent", "on": TODAY.isoformat()}), "", prefix + "status")
    assert send(manager, answer, {"status": "declined", "on": TODAY.isoformat(), "feedback": "Nobody free"}).status_code == 303
    refused(send(manager, answer, {"status": "accepted", "on": TODAY.isoformat()}), "This referral is declined: it takes no further step.")
    assert fresh(db).get(Referral, referral.id).status == "declined"

    # a closed case is not referred; a viewer may not refer
    closed = make_case("a", "Kim Rithy", status=CaseStatus.closed)
    consent(closed)
    refused(send(manager, f"/community/cases/{closed.id}/referrals", form), "This case is closed")
    assert send(client_for(Role.viewer, "a"), url, form).status_code == 403


def test_partner_form_refusals(client_for, make_partner, db: Session) -> None:
    make_partner()
    officer = client_for(Role.programme_officer, "a")
    before = counts(db)
    refused(send(officer, "/community/partners", partner_form()), "already a partner with this name", "name")
    refused(send(officer, "/community/partners", partner_form(name="New", agreement_on="")), "Enter the date the agreement was signed", "agreement_on")
    refused(send(officer, "/community/partners", partner_form(name="New", agreement_on=(TODAY + timedelta(days=1)).isoformat())),
            "cannot be in the future", "agreement_on")
    response = send(officer, "/community/partners", partner_form(name="", kind="mosque", phone="call me"))
    assert response.status_code == 422
    for name in ("name", "kind", "phone"):
        assert f'id="e-{name}"' in response.text, name
    assert counts(db) == before
    # case managers use the directory but do not keep it
    assert send(client_for(Role.case_manager, "a"), "/community/partners", partner_form(name="New")).status_code == 403
    assert OPENED < RELEASED
