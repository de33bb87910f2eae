"""Every refusal of the module answers 422 with the message at its field and writes nothing:
approval above the ceiling per home, payments before approval, beyond the approved quote,
without an invoice, from a restricted fund without the money, on a closed case."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from core.models import CaseStatus, Role
from ledger.api import get_fund
from plugins.housing import services
from ledger.api import LedgerError
from plugins.housing.schemas import ApproveIn, AssessmentIn, PaymentIn, RepairIn
from tests.conftest import post_form
from tests.plugins.housing.conftest import (
    PDF,
    TODAY,
    add_quote,
    assessment_form,
    counts,
    fresh,
    payment_form,
    pdf,
    photo,
    quote_form,
    refused,
    send,
)


def test_approval_above_the_ceiling_per_home_is_refused_naming_the_ceiling(home, ctx_for, client_for, db: Session) -> None:  # noqa: ANN001
    worker, officer = ctx_for(Role.case_manager, "a"), client_for(Role.programme_officer, "a")
    quote = add_quote(worker, home.repair, amount="1200.00")
    db.commit()
    before = counts(db)
    refused(post_form(officer, f"/housing/quotes/{quote.id}/approve", {}), "above the organisation&#39;s ceiling of $1,000.00 per home", "decision")
    assert counts(db) == before
    # a second repair of the same home: 700 USD approved, then 1,300,000 riel (317.07 USD at 4100) would pass 1,000 USD
    other = services.propose_repair(worker, home.family.case, RepairIn(repair_type="water", description="A well",
                                                                               planned_on=TODAY + timedelta(days=9)))
    fine = add_quote(worker, other, amount="700.00")
    riel = add_quote(worker, home.repair, amount="1300000", currency="KHR", supplier="Kandal Roofing")
    db.commit()
    assert post_form(officer, f"/housing/quotes/{fine.id}/approve", {}).status_code == 303
    refused(post_form(officer, f"/housing/quotes/{riel.id}/approve", {}), "$1,017.07", "decision")
    assert fresh(db).get(services.Quote, riel.id).status == "pending"
    # the same in riel that fits: 1,200,000 riel = 292.68 USD
    fits = add_quote(worker, home.repair, amount="1200000", currency="KHR", supplier="Kandal Roofing")
    db.commit()
    assert post_form(officer, f"/housing/quotes/{fits.id}/approve", {}).status_code == 303
    assert fresh(db).get(services.Quote, riel.id).status == "not_chosen"
    refused(post_form(officer, f"/housing/quotes/{riel.id}/approve", {}), "Only a quote waiting for a decision", "decision")
    # no ceiling set: nothing can be approved; a quote sent back needs its reason
    third = services.propose_repair(worker, home.family.case, RepairIn(repair_type="floor", description="Floor", planned_on=TODAY))
    quote = add_quote(worker, third, amount="10.00")
    services.settings(ctx_for(Role.admin, "a")).ceiling_minor = None
    db.commit()
    before = counts(db)
    refused(post_form(officer, f"/housing/quotes/{quote.id}/approve", {}), "No budget ceiling per home is set", "decision")
    refused(post_form(officer, f"/housing/quotes/{quote.id}/send-back", {"reason": ""}), "This field is required", "reason")
    assert counts(db) == before


def test_payments_are_refused_before_approval_beyond_the_quote_and_without_an_invoice(home, ctx_for, client_for, db: Session) -> None:  # noqa: ANN001
    finance = client_for(Role.finance, "a")
    url = f"/housing/repairs/{home.repair.id}/payments"
    quote = add_quote(ctx_for(Role.case_manager, "a"), home.repair)
    db.commit()
    before = counts(db)
    refused(send(finance, url, payment_form(), [pdf()]), "No quote is approved for this repair yet", "amount")
    services.approve_quote(ctx_for(Role.programme_officer, "a"), quote, ApproveIn())
    db.commit()
    before = counts(db)
    refused(send(finance, url, payment_form(amount="600.01"), [pdf()]), "more than what is left to pay of the approved quote: $600.00 of $600.00", "amount")
    refused(send(finance, url, payment_form(), []), "Attach the supplier&#39;s invoice", "invoice")
    refused(send(finance, url, payment_form(), [pdf(), pdf("second.pdf")]), "one invoice per payment", "invoice")
    refused(send(finance, url, payment_form(paid_on=(TODAY + timedelta(days=1)).isoformat()), [pdf()]), "cannot be in the future", "paid_on")
    refused(send(finance, url, payment_form(paid_on=(TODAY - timedelta(days=1)).isoformat()), [pdf()]), "a payment cannot be dated before its approval", "paid_on")
    refused(send(finance, url, payment_form(amount="abc"), [pdf()]), "Enter an amount such as", "amount")
    refused(send(finance, url, payment_form(amount="1.001"), [pdf()]), "at most 2 decimal places", "amount")
    assert counts(db) == before
    assert send(finance, url, payment_form(amount="500.00"), [pdf()]).status_code == 303
    refused(send(finance, url, payment_form(amount="100.01"), [pdf()]), "$100.00 of $600.00", "amount")
    assert send(finance, url, payment_form(amount="100.00"), [photo("receipt.jpg", "invoice")]).status_code == 303
    assert send(finance, url, payment_form(amount="0.01"), [pdf()]).status_code == 422  # nothing left to pay


def test_no_fund_no_pay_from_account_or_a_failed_posting_write_nothing(approved, ctx_for, client_for, db: Session, monkeypatch) -> None:  # noqa: ANN001
    finance = client_for(Role.finance, "a")
    url = f"/housing/repairs/{approved.repair.id}/payments"
    row = services.settings(ctx_for(Role.admin, "a"))
    row.pay_from_usd = "Assets:Bank:Other"
    db.commit()
    before = counts(db)
    refused(send(finance, url, payment_form(), [pdf()]), "The general book has no account Assets:Bank:Other", "method")
    row = services.settings(ctx_for(Role.admin, "a"))
    row.pay_from_usd, row.fund_code = "Assets:Bank:USD", None
    db.commit()
    refused(send(finance, url, payment_form(), [pdf()]), "No fund is chosen for housing repairs", "amount")
    services.settings(ctx_for(Role.admin, "a")).fund_code = "Reintegration"
    db.commit()
    before = counts(db)

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise LedgerError("The general book refused it.")

    monkeypatch.setattr(services, "post", broken)
    refused(send(finance, url, payment_form(), [pdf()]), "The general book refused it.")
    assert counts(db) == before  # neither the payment, nor its invoice, nor an entry, nor an event
    monkeypatch.undo()
    # through the service with bytes, the same payment goes through: one more of each
    services.pay(ctx_for(Role.finance, "a"), fresh(db).get(services.Repair, approved.repair.id),
                 PaymentIn(kind="advance", amount=Decimal("100.00"), paid_on=TODAY, method="cash"), [("inv.pdf", PDF)])
    db.commit()
    after = counts(db)
    assert [b - a for a, b in zip(before, after)] == [0, 0, 0, 1, 0, 1, 1, 1, 1]


def test_a_restricted_fund_without_the_money_refuses_the_payment(make_family, books, ctx_for, client_for, db: Session, world) -> None:  # noqa: ANN001
    books("a", income="100.00")
    family = make_family("a")
    worker = ctx_for(Role.case_manager, "a")
    services.assess(worker, family.case, AssessmentIn(**assessment_form(family)))
    repair = services.propose_repair(worker, family.case, RepairIn(repair_type="roof", description="Roof", planned_on=TODAY))
    services.approve_quote(ctx_for(Role.programme_officer, "a"), add_quote(worker, repair, amount="300.00"), ApproveIn())
    db.commit()
    before = counts(db)
    refused(send(client_for(Role.finance, "a"), f"/housing/repairs/{repair.id}/payments", payment_form(amount="150.00"), [pdf()]),
            "Fund Reintegration has 100.00 USD left", "amount")
    assert counts(db) == before
    assert get_fund(db, world.org_ids["a"], "Reintegration").restricted


def test_progress_completion_and_a_closed_case(approved, ctx_for, client_for, db: Session) -> None:  # noqa: ANN001
    url = f"/housing/repairs/{approved.repair.id}"
    worker = client_for(Role.case_manager, "a")
    done = {"completed_on": TODAY.isoformat(), "signed_by": approved.family.mother.id, "completion_note": ""}
    before = counts(db)
    refused(send(worker, f"{url}/complete", done, []), "Attach a photo or scan of the family&#39;s signed sign-off", "signoff_file")
    refused(send(worker, f"{url}/complete", {**done, "signed_by": approved.family.stranger.id}, [photo("s.jpg", "signoff_file")]),
            "linked to them", "signed_by")
    refused(send(worker, f"{url}/complete", {**done, "signed_by": ""}, [photo("s.jpg", "signoff_file")]), "Choose who signed", "signed_by")
    refused(send(worker, f"{url}/progress", {"progress_on": TODAY.isoformat(), "percent": "120", "progress_note": "x"}, []), "", "percent")
    assert counts(db) == before
    assert send(worker, f"{url}/complete", done, [photo("s.jpg", "signoff_file")]).status_code == 303
    refused(send(worker, f"{url}/progress", {"progress_on": TODAY.isoformat(), "progress_note": "more"}, []), "until the repair is completed")
    refused(post_form(worker, f"{url}/cancel", {"cancel_reason": "x"}), "it cannot be cancelled")
    refused(send(worker, f"{url}/quotes", quote_form(), [pdf("q.pdf", "quote_file")]), "no more quotes are taken")

    # a closed case takes no assessment, quote, payment or progress
    other = services.propose_repair(ctx_for(Role.case_manager, "a"), approved.family.case,
                                    RepairIn(repair_type="water", description="A well", planned_on=TODAY))
    services.approve_quote(ctx_for(Role.programme_officer, "a"), add_quote(ctx_for(Role.case_manager, "a"), other, amount="100.00"), ApproveIn())
    db.commit()
    url = f"/housing/repairs/{other.id}"
    case = fresh(db).get(services.Case, approved.family.case.id)
    case.status, case.closed_on = CaseStatus.closed, TODAY
    db.commit()
    finance = client_for(Role.finance, "a")
    before = counts(db)
    refused(send(finance, f"{url}/payments", payment_form(), [pdf()]), "This case is closed")
    refused(send(worker, f"{url}/progress", {"progress_on": TODAY.isoformat(), "progress_note": "x"}, []), "This case is closed")
    refused(send(worker, f"{url}/quotes", quote_form(), [pdf("q.pdf", "quote_file")]), "This case is closed")
    refused(send(worker, f"/housing/cases/{case.id}/assess", {"assessed_on": TODAY.isoformat(), "roof": "tiles", "walls": "wood", "floor": "wood",
                                                              "broken": "x", "urgency": "low"}, []), "This case is closed")
    assert counts(db) == before
    assert "payment-form" not in finance.get(url).text
