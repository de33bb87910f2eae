"""The whole path through the pages: the settings, the assessment with photos, repairs proposed,
quotes sent back and approved, an advance and a final payment with invoices posted to the ledger,
progress, the family's sign-off; the timeline, the repair's history and the beancount export."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from beancount import loader
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Event, Organisation, Role
from ledger.api import JournalTransaction
from ledger.export import write_org
from plugins.housing import services
from plugins.housing.models import Assessment, HousingAttachment, HousingSettings, Payment, Quote, Repair
from tests.conftest import post_form
from tests.plugins.housing.conftest import (
    ASSESSED,
    TODAY,
    assessment_form,
    fresh,
    payment_form,
    pdf,
    photo,
    quote_form,
    refused,
    send,
)


def entry(db: Session, txn_id: int) -> dict[tuple[str, str], int]:
    txn = db.get(JournalTransaction, txn_id)
    assert txn is not None
    return {(p.account.name, p.currency): p.amount_minor for p in txn.postings}


def test_the_admin_sets_the_fund_the_ceiling_and_the_accounts_then_the_home_is_assessed_first(client_for, books, make_family, db: Session, world) -> None:  # noqa: ANN001
    books("a", fund=None, ceiling=None)
    admin = client_for(Role.admin, "a")
    page = admin.get("/housing/settings")
    assert page.status_code == 200 and "Reintegration" in page.text and "Expenses:Programme:Housing" in page.text
    good = {"fund": "Reintegration", "ceiling": "1,500.00", "ceiling_currency": "USD", "expense_account": "Expenses:Programme:Housing",
            "pay_from_usd": "Assets:Bank:USD", "pay_from_khr": "Assets:Cash:KHR"}
    refused(post_form(admin, "/housing/settings", {**good, "fund": "Nope"}), "Choose one of the options", "fund")
    refused(post_form(admin, "/housing/settings", {**good, "ceiling": "10.001"}), "at most 2 decimal places", "ceiling")
    refused(post_form(admin, "/housing/settings", {**good, "expense_account": "Assets:Bank"}), "Expenses:Programme:Housing", "expense_account")
    refused(post_form(admin, "/housing/settings", {**good, "pay_from_khr": "Cash"}), "Assets:Bank:USD", "pay_from_khr")
    assert post_form(admin, "/housing/settings", good).status_code == 303
    row = fresh(db).get(HousingSettings, world.org_ids["a"])
    assert (row.fund_code, row.ceiling_minor, row.ceiling_currency, row.pay_from_khr) == ("Reintegration", 150000, "USD", "Assets:Cash:KHR")
    for role in (Role.case_manager, Role.finance, Role.programme_officer, Role.viewer, Role.auditor):
        assert client_for(role, "a").get("/housing/settings").status_code == 403
        assert post_form(client_for(role, "a"), "/housing/settings", good).status_code == 403

    # repairs come after the assessment, and are planned after it
    family = make_family("a")
    worker = client_for(Role.case_manager, "a")
    repair = {"repair_type": "roof", "description": "Roof", "planned_on": TODAY.isoformat()}
    refused(post_form(worker, f"/housing/cases/{family.case.id}/repairs", repair), "Assess the family home first")
    refused(send(worker, f"/housing/cases/{family.case.id}/assess", assessment_form(family, household=[family.stranger.id]), []),
            "linked to them", "household")
    refused(send(worker, f"/housing/cases/{family.case.id}/assess", assessment_form(family, assessed_on=(TODAY + timedelta(days=1)).isoformat()), []),
            "cannot be in the future", "assessed_on")
    assert send(worker, f"/housing/cases/{family.case.id}/assess", assessment_form(family), []).status_code == 303
    refused(post_form(worker, f"/housing/cases/{family.case.id}/repairs", {**repair, "planned_on": (ASSESSED - timedelta(days=1)).isoformat()}),
            "cannot be before the assessment", "planned_on")
    refused(post_form(worker, f"/housing/cases/{family.case.id}/repairs", {**repair, "repair_type": "pool"}), "Choose one of the options", "repair_type")


def test_from_the_assessment_to_the_familys_sign_off(make_family, books, client_for, ctx_for, db: Session, world, tmp_path: Path) -> None:  # noqa: ANN001, PLR0915
    books("a")
    family = make_family("a")
    case_id = family.case.id
    worker, officer, finance = client_for(Role.case_manager, "a"), client_for(Role.programme_officer, "a"), client_for(Role.finance, "a")

    # 1. the social worker assesses the home: household, structure, what is broken, photos
    form = worker.get(f"/housing/cases/{case_id}/assess")
    assert form.status_code == 200 and family.mother.name in form.text and family.stranger.name not in form.text
    assert 'enctype="multipart/form-data"' in form.text
    response = send(worker, f"/housing/cases/{case_id}/assess", assessment_form(family), [photo("roof.jpg"), photo("kitchen.jpg")])
    assert response.status_code == 303, response.text[:2000]
    assessment = fresh(db).scalar(select(Assessment))
    assert {m.person_id for m in assessment.household} == {family.case.person_id, family.mother.id}
    assert {m.relation for m in assessment.household} == {"self", "parent"}
    assert (assessment.roof, assessment.urgency) == ("thatch", "high")

    # 2. repairs proposed item by item
    planned = (TODAY + timedelta(days=20)).isoformat()
    response = post_form(worker, f"/housing/cases/{case_id}/repairs", {"repair_type": "roof", "description": "Metal sheet roof", "planned_on": planned})
    assert response.status_code == 303
    repair_id = int(response.headers["location"].rsplit("/", 1)[1])
    assert post_form(worker, f"/housing/cases/{case_id}/repairs",
                     {"repair_type": "sanitation", "description": "A latrine", "planned_on": planned}).status_code == 303
    page = worker.get(f"/housing/cases/{case_id}")
    assert page.status_code == 200 and "Metal sheet roof" in page.text and "A latrine" in page.text
    tab = worker.get(f"/housing/cases/{case_id}/tab", headers={"HX-Request": "true"})
    assert tab.status_code == 200 and "<html" not in tab.text and 'id="case-repairs"' in tab.text and "A latrine" in tab.text
    assert len(re.findall(r'<img src="/files/[\w-]+" loading="lazy"', page.text)) == 4  # the assessment's photos, in the tab and below

    # 3. a first quote, sent back with a reason; a second one, approved
    url = f"/housing/repairs/{repair_id}"
    assert send(worker, f"{url}/quotes", quote_form(amount="900.00"), [pdf("quote-a.pdf", "quote_file")]).status_code == 303
    first = fresh(db).scalar(select(Quote))
    assert fresh(db).get(Repair, repair_id).status == "quoted"
    assert post_form(officer, f"/housing/quotes/{first.id}/send-back", {"reason": "Too dear: ask Sok Builders too."}).status_code == 303
    assert fresh(db).get(Repair, repair_id).status == "sent_back"
    assert send(worker, f"{url}/quotes", quote_form(supplier="Sok Builders", amount="600.00"), [photo("quote-b.jpg", "quote_file")]).status_code == 303
    second = fresh(db).scalar(select(Quote).where(Quote.supplier == "Sok Builders"))
    assert fresh(db).get(Repair, repair_id).status == "quoted"
    assert post_form(officer, f"/housing/quotes/{second.id}/approve", {"note": ""}).status_code == 303
    repair = fresh(db).get(Repair, repair_id)
    assert (repair.status, repair.approved_quote_id) == ("approved", second.id)
    assert (db.get(Quote, first.id).status, db.get(Quote, first.id).reason) == ("sent_back", "Too dear: ask Sok Builders too.")

    # 4. an advance paid with its invoice: a balanced entry charged to the fund, the invoice attached
    assert send(finance, f"{url}/payments", payment_form(), [pdf("advance.pdf")]).status_code == 303
    advance = fresh(db).scalar(select(Payment))
    assert fresh(db).get(Repair, repair_id).status == "in_progress"
    assert entry(db, advance.txn_id) == {("Expenses:Programme:Housing", "USD"): 24000, ("Assets:Bank:USD", "USD"): -24000}
    txn = db.get(JournalTransaction, advance.txn_id)
    assert {k: txn.meta[k] for k in ("plugin", "case_id", "fund", "repair_id")} == {"plugin": "housing", "case_id": case_id, "fund": "Reintegration",
                                                                                   "repair_id": repair_id}
    assert f"housing-{repair_id}" in txn.links and txn.payee == "Sok Builders"

    # 5. progress with a photo, the final payment (an invoice photographed), the family's sign-off
    assert send(worker, f"{url}/progress", {"progress_on": TODAY.isoformat(), "percent": "50", "progress_note": "Half the sheets are on."},
                [photo("works.jpg", "progress_photos")]).status_code == 303
    assert send(finance, f"{url}/payments", payment_form(kind="completion", amount="360.00", reference="TRF-2"),
                [photo("invoice.jpg", "invoice")]).status_code == 303
    assert send(worker, f"{url}/complete", {"completed_on": TODAY.isoformat(), "signed_by": family.mother.id, "completion_note": "Dry at last."},
                [photo("signed.jpg", "signoff_file")]).status_code == 303
    repair = fresh(db).get(Repair, repair_id)
    assert (repair.status, repair.completed_on, repair.signed_by_id) == ("completed", TODAY, family.mother.id)
    assert services.paid_minor(ctx_for(Role.viewer, "a"), repair) == 60000

    # the timeline shows each step
    kinds = list(db.scalars(select(Event.kind).where(Event.case_id == case_id, Event.kind.like("housing.%")).order_by(Event.id)))
    assert kinds == [services.ASSESSED, services.REPAIR_PROPOSED, services.REPAIR_PROPOSED, services.QUOTE_RECEIVED, services.QUOTE_SENT_BACK,
                     services.QUOTE_RECEIVED, services.QUOTE_APPROVED, services.PAYMENT_MADE, services.PROGRESS, services.PAYMENT_MADE,
                     services.COMPLETED]
    timeline = worker.get(f"/cases/{case_id}/timeline")
    assert timeline.status_code == 200 and "Repair completed" in timeline.text and "Repair quote sent back" in timeline.text

    # the repair page holds the whole history, thumbnails and the documents
    page = worker.get(url)
    assert page.status_code == 200
    for text in ("Too dear: ask Sok Builders too.", "Sok Builders", "Half the sheets are on.", "Completed and signed off by the family.",
                 "advance.pdf", "quote-a.pdf", "signed.jpg"):
        assert text in page.text, text
    assert len(re.findall(r'<img src="/files/[\w-]+" loading="lazy"', page.text)) == 2  # progress + sign-off photos
    assert "payment-form" not in worker.get(url).text and "payment-form" in finance.get(url).text
    roles = {link.role for link in db.scalars(select(HousingAttachment))}
    assert roles == {"photo", "quote", "invoice", "signoff"}

    # the export carries each payment with its invoice as a document entry; beancount loads it
    org = db.get(Organisation, world.org_ids["a"])
    paths = write_org(db, org, tmp_path)
    general = next(p for p in paths if "general" in p.name and p.suffix == ".beancount")
    entries, errors, _options = loader.load_file(str(general))
    assert errors == []
    paid = [e for e in entries if getattr(e, "meta", {}).get("plugin") == "housing"]
    assert len(paid) == 2 and all(int(e.meta["case_id"]) == case_id and f"housing-{repair_id}" in e.links for e in paid)
    documents = [e for e in entries if type(e).__name__ == "Document"]
    assert len(documents) == 2 and all(f"housing-{repair_id}" in d.links and d.account == "Expenses:Programme:Housing" for d in documents)
    assert all((general.parent / d.filename).exists() for d in documents) or all(Path(d.filename).exists() for d in documents)


def test_finance_reverses_a_wrong_payment_and_the_repair_can_then_be_cancelled(approved, client_for, db: Session) -> None:  # noqa: ANN001
    url = f"/housing/repairs/{approved.repair.id}"
    finance, worker = client_for(Role.finance, "a"), client_for(Role.case_manager, "a")
    assert send(finance, f"{url}/payments", payment_form(amount="600.00"), [pdf()]).status_code == 303
    payment = fresh(db).scalar(select(Payment))
    refused(post_form(worker, f"{url}/cancel", {"cancel_reason": "The family moved."}), "reverses them before", "cancel_reason")
    reverse = {"reversed_on": TODAY.isoformat(), "reverse_reason": "Paid to the wrong supplier account."}
    assert post_form(finance, f"/housing/payments/{payment.id}/reverse", reverse).status_code == 303
    payment = fresh(db).get(Payment, payment.id)
    assert payment.reversal_txn_id and entry(db, payment.reversal_txn_id) == {("Expenses:Programme:Housing", "USD"): -60000,
                                                                               ("Assets:Bank:USD", "USD"): 60000}
    refused(post_form(finance, f"/housing/payments/{payment.id}/reverse", reverse), "already reversed")
    assert "Paid to the wrong supplier account." in worker.get(url).text
    assert post_form(worker, f"{url}/cancel", {"cancel_reason": "The family moved."}).status_code == 303
    repair = fresh(db).get(Repair, approved.repair.id)
    assert (repair.status, repair.cancel_reason) == ("cancelled", "The family moved.")
    refused(send(finance, f"{url}/payments", payment_form(), [pdf()]), "This repair is cancelled")
