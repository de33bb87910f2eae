"""Consent (docs/privacy.md): recording what a person agreed to and when, withdrawing it without
deleting it, the person page's section and the JSON API; field-level refusals that write nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.errors import InvalidInput
from core.models import AuditEntry, Consent, ConsentPurpose, Role
from core.services import consent as consents
from core.services.consent import ConsentIn, WithdrawalIn
from tests.conftest import post_form
from tests.core.conftest import count, field_errors, fresh

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_consent_holds_from_the_day_given_until_withdrawn_and_stays_on_record(make_person, ctx_for, db):
    person = make_person("a")
    ctx = ctx_for(Role.case_manager, "a")
    given = ctx.today - timedelta(days=30)
    consent = consents.record_consent(ctx, person, ConsentIn(purpose="photos", method="signed", given_on=given, note="Form in the file"))
    db.commit()
    assert consents.has_consent(ctx, person.id, ConsentPurpose.photos)
    assert not consents.has_consent(ctx, person.id, "photos", on=given - timedelta(days=1))
    assert not consents.has_consent(ctx, person.id, "contact_family")

    withdrawn = ctx.today - timedelta(days=5)
    consents.withdraw_consent(ctx, person, consent, WithdrawalIn(withdrawn_on=withdrawn))
    db.commit()
    assert not consents.has_consent(ctx, person.id, "photos")
    assert consents.has_consent(ctx, person.id, "photos", on=withdrawn - timedelta(days=1))
    row = fresh(db).get(Consent, consent.id)
    assert (row.withdrawn_on, row.withdrawn_by_id, row.note) == (withdrawn, ctx.user.id, "Form in the file")
    assert row.withdrawn_at is not None

    # Given again: a new row; the withdrawn one stays.
    consents.record_consent(ctx, person, ConsentIn(purpose="photos", method="verbal", given_on=ctx.today))
    db.commit()
    assert consents.has_consent(ctx, person.id, "photos")
    assert [c.withdrawn_on for c in consents.consents_of(ctx, person.id)] == [None, withdrawn]


def test_recording_and_withdrawing_go_into_the_persons_audit_trail(make_person, ctx_for, db):
    person = make_person("a")
    ctx = ctx_for(Role.case_manager, "a")
    consent = consents.record_consent(ctx, person, ConsentIn(purpose="records", method="thumbprint", given_on=ctx.today))
    consents.withdraw_consent(ctx, person, consent, WithdrawalIn())
    db.commit()
    entries = [e.changes for e in fresh(db).query(AuditEntry).filter_by(record_type="person", record_id=person.id, action="changed").order_by(AuditEntry.id)]
    assert entries == [
        {f"consent {consent.id}.purpose": [None, "records"], f"consent {consent.id}.method": [None, "thumbprint"],
         f"consent {consent.id}.given_on": [None, ctx.today.isoformat()]},
        {f"consent {consent.id}.withdrawn_on": [None, ctx.today.isoformat()]},
    ]


def test_withdrawing_twice_before_given_or_in_the_future_is_refused(make_person, ctx_for, db):
    person = make_person("a")
    ctx = ctx_for(Role.case_manager, "a")
    given = ctx.today - timedelta(days=10)
    consent = consents.record_consent(ctx, person, ConsentIn(purpose="contact_family", method="signed", given_on=given))
    db.commit()
    for day, message in (
        (given - timedelta(days=1), "Consent cannot be withdrawn before the day it was given."),
        (ctx.today + timedelta(days=1), "The date cannot be in the future."),
    ):
        with pytest.raises(InvalidInput) as refused:
            consents.withdraw_consent(ctx, person, consent, WithdrawalIn(withdrawn_on=day))
        assert refused.value.errors == {"withdrawn_on": message}
        db.rollback()
    consents.withdraw_consent(ctx, person, consent, WithdrawalIn(withdrawn_on=given))
    db.commit()
    with pytest.raises(InvalidInput) as refused:
        consents.withdraw_consent(ctx, person, fresh(db).get(Consent, consent.id), WithdrawalIn())
    assert refused.value.errors == {"withdrawn_on": "This consent was already withdrawn."}
    db.rollback()
    assert fresh(db).get(Consent, consent.id).withdrawn_on == given


def test_the_person_page_loads_the_consent_section_which_lists_current_and_withdrawn(make_person, ctx_for, client_for, db):
    person = make_person("a")
    ctx = ctx_for(Role.case_manager, "a")
    old = consents.record_consent(ctx, person, ConsentIn(purpose="photos", method="signed", given_on=date(2024, 1, 5)))
    consents.record_consent(ctx, person, ConsentIn(purpose="contact_family", method="verbal", given_on=date(2024, 2, 1)))
    consents.withdraw_consent(ctx, person, old, WithdrawalIn(withdrawn_on=date(2024, 3, 1)))
    db.commit()
    client = client_for(Role.case_manager, "a")
    page = client.get(f"/persons/{person.id}")
    assert page.status_code == 200 and f'hx-get="/persons/{person.id}/consents"' in page.text
    section = client.get(f"/persons/{person.id}/consents", headers={"HX-Request": "true"})
    assert section.status_code == 200 and "<html" not in section.text
    current, past = section.text.split('data-consents="past"')
    assert "Contacting and visiting their family" in current and "Photographs" not in current
    assert "Photographs" in past
    assert f"/persons/{person.id}/consents/{old.id}/withdraw" not in section.text  # already withdrawn: no button
    assert "Record consent" in section.text
    assert "/export.json" not in section.text  # a case manager may not download everything

    viewer = client_for(Role.viewer, "a").get(f"/persons/{person.id}/consents")
    assert viewer.status_code == 200 and "Contacting and visiting their family" in viewer.text and "Record consent" not in viewer.text
    admin = client_for(Role.admin, "a").get(f"/persons/{person.id}/consents")
    assert f"/persons/{person.id}/export.json" in admin.text


def test_the_form_records_consent_and_withdraws_it(make_person, client_for, db):
    person = make_person("a")
    client = client_for(Role.case_manager, "a")
    response = post_form(client, f"/persons/{person.id}/consents", {"purpose": "share_with_partners", "method": "guardian", "given_on": "2025-06-01", "note": "Mother signed"})
    assert response.status_code == 303 and response.headers["location"] == f"/persons/{person.id}#consent"
    consent = fresh(db).query(Consent).one()
    assert (consent.purpose, consent.method, consent.given_on, consent.note) == ("share_with_partners", "guardian", date(2025, 6, 1), "Mother signed")
    response = post_form(client, f"/persons/{person.id}/consents/{consent.id}/withdraw", {"withdrawn_on": "2025-07-01"})
    assert response.status_code == 303
    assert fresh(db).get(Consent, consent.id).withdrawn_on == date(2025, 7, 1)
    again = post_form(client, f"/persons/{person.id}/consents/{consent.id}/withdraw", {"withdrawn_on": "2025-07-02"})
    assert again.status_code == 422 and "This consent was already withdrawn." in again.text
    assert fresh(db).get(Consent, consent.id).withdrawn_on == date(2025, 7, 1)


def test_a_bad_form_shows_each_message_at_its_field_and_writes_nothing(make_person, client_for, db):
    person = make_person("a")
    client = client_for(Role.case_manager, "a")
    before = (count(db, Consent), count(db, AuditEntry))
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    response = post_form(client, f"/persons/{person.id}/consents", {"purpose": "everything", "method": "", "given_on": "yesterday"})
    assert response.status_code == 422
    errors = field_errors(response.text)
    assert errors["purpose"] == "Choose one of the options."
    assert errors["method"] == "Choose one of the options."
    assert errors["given_on"].startswith("Enter a valid date")
    response = post_form(client, f"/persons/{person.id}/consents", {"purpose": "records", "method": "signed", "given_on": tomorrow})
    assert response.status_code == 422 and field_errors(response.text) == {"given_on": "The date cannot be in the future."}
    assert (count(db, Consent), count(db, AuditEntry)) == before


@pytest.mark.parametrize("role", [Role.programme_officer, Role.finance, Role.auditor, Role.viewer])
def test_only_case_work_roles_record_consent(make_person, client_for, db, role):
    person = make_person("a")
    response = post_form(client_for(role, "a"), f"/persons/{person.id}/consents", {"purpose": "records", "method": "signed", "given_on": "2025-01-01"})
    assert response.status_code == 403 and count(db, Consent) == 0


def test_another_organisations_person_and_consent_answer_404(make_person, ctx_for, client_for, api_for, db):
    person = make_person("a")
    ctx = ctx_for(Role.case_manager, "a")
    consent = consents.record_consent(ctx, person, ConsentIn(purpose="records", method="signed", given_on=ctx.today))
    db.commit()
    other = client_for(Role.admin, "b")
    assert other.get(f"/persons/{person.id}/consents").status_code == 404
    assert post_form(other, f"/persons/{person.id}/consents", {"purpose": "records", "method": "signed", "given_on": "2025-01-01"}).status_code == 404
    assert post_form(other, f"/persons/{person.id}/consents/{consent.id}/withdraw", {}).status_code == 404
    api = api_for(Role.admin, "b")
    assert api.get(f"/api/persons/{person.id}/consents").status_code == 404
    assert api.post(f"/api/persons/{person.id}/consents/{consent.id}/withdraw", json={}).status_code == 404
    # A consent of another person of the same organisation is not found under this one either.
    someone = make_person("a", name="Chan Thy")
    assert post_form(client_for(Role.case_manager, "a"), f"/persons/{someone.id}/consents/{consent.id}/withdraw", {}).status_code == 404
    assert count(db, Consent) == 1 and fresh(db).get(Consent, consent.id).withdrawn_on is None


def test_the_api_lists_records_and_withdraws_consent(make_person, api_for, db):
    person = make_person("a")
    api = api_for(Role.case_manager, "a")
    created = api.post(f"/api/persons/{person.id}/consents", json={"purpose": "photos", "method": "signed", "given_on": "2025-03-01"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["purpose"], body["method"], body["given_on"], body["active"], body["withdrawn_on"]) == ("photos", "signed", "2025-03-01", True, None)
    withdrawn = api.post(f"/api/persons/{person.id}/consents/{body['id']}/withdraw", json={"withdrawn_on": "2025-04-01"})
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_on"] == "2025-04-01" and withdrawn.json()["active"] is False
    again = api.post(f"/api/persons/{person.id}/consents/{body['id']}/withdraw", json={})
    assert again.status_code == 422 and again.json()["errors"] == {"withdrawn_on": "This consent was already withdrawn."}
    listed = api.get(f"/api/persons/{person.id}/consents")
    assert listed.status_code == 200 and [c["id"] for c in listed.json()] == [body["id"]]


def test_the_api_refuses_bad_consent_with_4xx_json_and_writes_nothing(make_person, api_for, db):
    person = make_person("a")
    api = api_for(Role.case_manager, "a")
    future = (date.today() + timedelta(days=2)).isoformat()
    response = api.post(f"/api/persons/{person.id}/consents", json={"purpose": "records", "method": "signed", "given_on": future})
    assert response.status_code == 422 and response.json()["errors"] == {"given_on": "The date cannot be in the future."}
    bad = api.post(f"/api/persons/{person.id}/consents", json={"purpose": "everything", "method": "signed", "given_on": "2025-01-01"})
    assert bad.status_code == 400 and "detail" in bad.json()
    assert api_for(Role.viewer, "a").post(f"/api/persons/{person.id}/consents", json={"purpose": "records", "method": "signed", "given_on": "2025-01-01"}).status_code == 403
    assert count(db, Consent) == 0
