"""Documents: the invoice behind a payment travels with the export as a beancount ``document``."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from beancount import loader
from beancount.core import data
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from core.models import Organisation
from core.services.admin import create_organisation
from core.services.attachments import save_attachment
from ledger.api import Document, LedgerError, attach_document, credit, debit, post
from ledger.check import check_org
from ledger.export import write_org
from ledger.models import LedgerAppendOnlyError
from tests.ledger.conftest import Ledger

INVOICE = b"%PDF-1.4\n% an invoice from the builder\n%%EOF\n"


def pay(lg: Ledger, day: date = date(2026, 3, 2)):  # noqa: ANN201 - a JournalTransaction
    return post(lg.session, lg.book, day, "Roof repair, advance", [
        debit("Expenses:Programme:Training", D("120.00"), "USD"),
        credit("Assets:Bank:USD", D("120.00"), "USD"),
    ], meta={"case_id": lg.case_id, "plugin": "housing"}, links=["housing-4"])


def invoice(lg: Ledger, name: str = "invoice 12.pdf", org_id: int | None = None):  # noqa: ANN201 - an Attachment
    return save_attachment(lg.session, org_id or lg.org_id, filename=name, content=INVOICE, plugin="housing", allowed=("pdf",))


def test_an_invoice_is_written_beside_the_book_and_named_by_a_document_entry(ledger: Ledger, tmp_path: Path) -> None:
    txn = pay(ledger)
    document = attach_document(ledger.session, txn, invoice(ledger))
    ledger.session.commit()
    assert document.account == "Expenses:Programme:Training"  # the first debit leg's
    org = ledger.session.get(Organisation, ledger.org_id)
    (book,) = write_org(ledger.session, org, tmp_path)
    entries, errors, _ = loader.load_file(str(book))
    assert errors == []
    (doc,) = [e for e in entries if isinstance(e, data.Document)]
    assert (doc.date, doc.account, doc.links) == (date(2026, 3, 2), "Expenses:Programme:Training", frozenset({"housing-4"}))
    assert doc.meta["transaction_id"] == txn.id
    assert Path(doc.filename).is_absolute() and Path(doc.filename).read_bytes() == INVOICE
    assert Path(doc.filename).parent == tmp_path / (book.name.removesuffix(".beancount") + "-documents")
    assert Path(doc.filename).name.endswith("-invoice 12.pdf")
    # The book's own entry carries the same link: Fava shows the invoice with the payment.
    (payment,) = [e for e in entries if isinstance(e, data.Transaction)]
    assert payment.links & doc.links


def test_the_check_loads_the_export_with_its_documents(ledger: Ledger, tmp_path: Path) -> None:
    attach_document(ledger.session, pay(ledger), invoice(ledger))
    ledger.session.commit()
    org = ledger.session.get(Organisation, ledger.org_id)
    assert list(check_org(ledger.session, org).values()) == [[]]
    # Without its file, beancount's loader reports the document entry: the check would too.
    (book,) = write_org(ledger.session, org, tmp_path)
    for pdf in tmp_path.rglob("*.pdf"):
        pdf.unlink()
    _entries, errors, _ = loader.load_file(str(book))
    assert any("does not exist" in e.message for e in errors)


def test_a_year_export_carries_that_year_s_documents_only(ledger: Ledger, tmp_path: Path) -> None:
    attach_document(ledger.session, pay(ledger, date(2026, 3, 2)), invoice(ledger, "first.pdf"))
    attach_document(ledger.session, pay(ledger, date(2027, 1, 5)), invoice(ledger, "second.pdf"))
    ledger.session.commit()
    org = ledger.session.get(Organisation, ledger.org_id)
    (book,) = write_org(ledger.session, org, tmp_path, 2027)
    entries, errors, _ = loader.load_file(str(book))
    assert errors == []
    assert [Path(e.filename).name.split("-", 4)[-1] for e in entries if isinstance(e, data.Document)] == ["second.pdf"]


def test_refusals_write_nothing(ledger: Ledger) -> None:
    txn = pay(ledger)
    other = create_organisation(ledger.session, "org-other", "Other", [])
    with pytest.raises(LedgerError, match="another organisation"):
        attach_document(ledger.session, txn, invoice(ledger, org_id=other.id))
    with pytest.raises(LedgerError, match="not one of this entry"):
        attach_document(ledger.session, txn, invoice(ledger), account="Expenses:Fees")
    assert ledger.session.scalar(select(func.count()).select_from(Document)) == 0


def test_documents_are_append_only(ledger: Ledger) -> None:
    document = attach_document(ledger.session, pay(ledger), invoice(ledger))
    ledger.session.commit()
    document.account = "Assets:Bank:USD"
    with pytest.raises(LedgerAppendOnlyError):
        ledger.session.flush()
    ledger.session.rollback()
    # Below the ORM too: the database refuses.
    with pytest.raises(DatabaseError):
        ledger.session.execute(text("DELETE FROM ledger_documents"))
    ledger.session.rollback()
