"""Each money action is one transaction: a failure between the domain change and its journal
entries (or between the two books' entries) leaves neither written."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Role
from ledger.api import LedgerError
from plugins.grants import services
from plugins.grants.models import Grant
from tests.conftest import post_form
from tests.plugins.grants.conftest import TODAY, approve_form, plan_form
from tests.plugins.grants.test_life import counts, fresh


def _fail_on(monkeypatch: pytest.MonkeyPatch, call: int, error: Exception) -> list[int]:
    """Make the ``call``-th posting of the module fail with ``error`` (after the domain rows and
    any earlier entry are flushed)."""
    calls: list[int] = []
    real = services.post

    def post(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == call:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "post", post)
    return calls


@pytest.mark.parametrize(("call", "error", "status"), [
    (1, LedgerError("The general book refused it."), 422),  # the general book's entry, after the movement row
    (2, LedgerError("The business book refused it."), 422),  # the microbusiness's entry, after the general one
    (2, RuntimeError("the server fell over"), 500),
])
def test_a_failed_posting_leaves_neither_the_movement_nor_any_entry(client_for, make_case, books, db: Session, monkeypatch, call, error, status) -> None:  # noqa: ANN001
    case = make_case("a")
    books("a")
    post_form(client_for(Role.case_manager, "a"), f"/grants/cases/{case.id}/plans", plan_form())
    grant = fresh(db).scalar(select(Grant))
    assert post_form(client_for(Role.programme_officer, "a"), f"/grants/{grant.id}/approve", approve_form()).status_code == 303
    finance = client_for(Role.finance, "a")
    before = counts(db)
    calls = _fail_on(monkeypatch, call, error)
    response = post_form(finance, f"/grants/{grant.id}/disburse", {"paid_on": TODAY, "method": "bank", "currency": "USD"})
    assert response.status_code == status and len(calls) == call
    if status == 422:
        assert str(error) in response.text
    assert counts(db) == before  # no movement, no journal entry, no timeline event
    monkeypatch.undo()
    assert post_form(finance, f"/grants/{grant.id}/disburse", {"paid_on": TODAY, "method": "bank", "currency": "USD"}).status_code == 303
    assert counts(db)[1] == before[1] + 1


def test_a_failed_month_posting_leaves_no_record(client_for, make_case, books, db: Session, monkeypatch) -> None:  # noqa: ANN001
    case = make_case("a")
    books("a")
    post_form(client_for(Role.case_manager, "a"), f"/grants/cases/{case.id}/plans", plan_form())
    grant = fresh(db).scalar(select(Grant))
    post_form(client_for(Role.programme_officer, "a"), f"/grants/{grant.id}/approve", approve_form())
    before = counts(db)
    _fail_on(monkeypatch, 1, LedgerError("No."))
    figures = {"month": TODAY.strftime("%Y-%m"), "sales": "10", "costs": "5", "drawings": "", "stock": "", "still_trading": "yes"}
    assert post_form(client_for(Role.case_manager, "a"), f"/grants/{grant.id}/months", figures).status_code == 422
    assert counts(db) == before
