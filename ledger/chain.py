"""The tamper-evidence chain: each journal row's SHA-256 over its canonical text and the previous
row's hash in the same book."""

from __future__ import annotations

import hashlib
import json
from typing import Any

GENESIS = "0" * 64


def canonical_text(
    *,
    book_id: int,
    seq: int,
    date: str,
    flag: str,
    payee: str | None,
    narration: str,
    meta: dict[str, Any],
    links: list[str],
    tags: list[str],
    reverses_id: int | None,
    created_by: int | None,
    postings: list[tuple[str, int, str, str | None, str | None]],
    prev_hash: str,
) -> str:
    """One JSON object, keys sorted, no spaces, non-ASCII kept: the same text on every database.

    ``postings`` are ``(account name, amount_minor, currency, price_rate, price_currency)`` in
    the order they were posted.
    """
    doc = {
        "v": 1,
        "book": book_id,
        "seq": seq,
        "date": date,
        "flag": flag,
        "payee": payee,
        "narration": narration,
        "meta": meta,
        "links": sorted(links),
        "tags": sorted(tags),
        "reverses": reverses_id,
        "created_by": created_by,
        "postings": [list(p) for p in postings],
        "prev": prev_hash,
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def transaction_hash(txn: Any, account_names: dict[int, str] | None = None) -> str:
    """Recompute the hash of a stored :class:`~ledger.models.JournalTransaction`."""
    postings = sorted(txn.postings, key=lambda p: p.id)
    return digest(
        canonical_text(
            book_id=txn.book_id,
            seq=txn.seq,
            date=txn.date.isoformat(),
            flag=txn.flag,
            payee=txn.payee,
            narration=txn.narration,
            meta=txn.meta or {},
            links=list(txn.links or []),
            tags=list(txn.tags or []),
            reverses_id=txn.reverses_id,
            created_by=txn.created_by,
            postings=[
                (
                    account_names[p.account_id] if account_names else p.account.name,
                    p.amount_minor,
                    p.currency,
                    p.price_rate,
                    p.price_currency,
                )
                for p in postings
            ],
            prev_hash=txn.prev_hash,
        )
    )
