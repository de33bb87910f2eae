"""Documents: the invoice or receipt behind a journal entry, exported beside the book.

A module that pays against an invoice stores the file with ``core.plugin_api.store_attachment``
and calls :func:`attach_document` in the same database transaction as the payment's ``post``.
The export writes each file into a folder beside the book and a beancount ``document`` directive
naming it (relative to the book's file, so the folder can be moved as a whole), with the entry's
links, so Fava and ``bean-query`` show the invoice with the payment.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date as Date
from decimal import Decimal
from pathlib import Path

from beancount.core import data
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.i18n import gettext as _
from core.models import Attachment, AttachmentContent
from ledger.models import Book, Document, JournalTransaction
from ledger.money import LedgerError


def attach_document(session: Session, transaction: JournalTransaction, attachment: Attachment, account: str | None = None) -> Document:
    """Record that ``attachment`` documents ``transaction`` (flushed, never committed).

    :param account: the account the ``document`` directive names; by default the account of the
        entry's first debit leg (the expense an invoice is for). It must be one of the entry's.
    :raises LedgerError: the attachment belongs to another organisation, or the account is not
        one of the entry's.
    """
    book = session.get(Book, transaction.book_id)
    if book is None or attachment.org_id != book.org_id:
        raise LedgerError(_("This file belongs to another organisation."))
    legs = transaction.postings
    names = [leg.account.name for leg in legs]
    if account is None:
        account = next((leg.account.name for leg in legs if leg.amount_minor > 0), names[0])
    elif account not in names:
        raise LedgerError(_("The account %(account)s is not one of this entry's.", account=account))
    document = Document(transaction_id=transaction.id, attachment_id=attachment.id, account=account)
    session.add(document)
    session.flush()
    return document


def documents_of(session: Session, transaction_ids: list[int]) -> dict[int, list[Attachment]]:
    """The attachments documenting each of ``transaction_ids`` (for the journal pages)."""
    out: dict[int, list[Attachment]] = {}
    if not transaction_ids:
        return out
    rows = session.execute(
        select(Document.transaction_id, Attachment)
        .join(Attachment, Attachment.id == Document.attachment_id)
        .where(Document.transaction_id.in_(transaction_ids))
        .order_by(Document.id)
    )
    for txn_id, attachment in rows:
        out.setdefault(txn_id, []).append(attachment)
    return out


@dataclass(frozen=True)
class ExportedDocument:
    directive: data.Document
    attachment_id: int
    path: str  # relative to the book's file


def book_documents(session: Session, book: Book, folder: str, year: int | None = None) -> list[ExportedDocument]:
    """The ``document`` directives of ``book`` (of one calendar year), naming files under
    ``folder`` (a path relative to the book's file)."""
    t = JournalTransaction
    query = (
        select(Document, t.date, t.links, Attachment.filename)
        .join(t, t.id == Document.transaction_id)
        .join(Attachment, Attachment.id == Document.attachment_id)
        .where(t.book_id == book.id)
        .order_by(t.date, t.seq, Document.id)
    )
    if year is not None:
        query = query.where(t.date >= Date(year, 1, 1), t.date <= Date(year, 12, 31))
    out = []
    for document, day, links, filename in session.execute(query):
        # The attachment's name is already a safe base name (core.services.attachments); the id
        # in front keeps two invoices of the same name apart.
        path = f"{folder}/{day.isoformat()}-{document.attachment_id}-{filename}"
        meta = data.new_metadata("<homecoming>", 0, {"transaction_id": Decimal(document.transaction_id)})
        directive = data.Document(meta, day, document.account, path, frozenset(), frozenset(links or ()))
        out.append(ExportedDocument(directive, document.attachment_id, path))
    return out


def contents(session: Session, documents: Sequence[ExportedDocument]) -> Iterator[tuple[ExportedDocument, bytes]]:
    """Each of ``documents`` with the bytes of its file."""
    ids = {d.attachment_id for d in documents}
    stored = dict(
        session.execute(select(AttachmentContent.attachment_id, AttachmentContent.data).where(AttachmentContent.attachment_id.in_(ids))).all()
    ) if ids else {}
    for document in documents:
        yield document, stored[document.attachment_id]


def write_files(session: Session, documents: Sequence[ExportedDocument], root: Path) -> list[Path]:
    """Write the file of each of ``documents`` under ``root`` (the folder of the book's file)."""
    paths = []
    for document, content in contents(session, documents):
        path = root / document.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        paths.append(path)
    return paths
