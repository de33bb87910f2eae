"""A visit and its subsidy's journal entry are one transaction: a failure between the visit's
rows and the entry leaves neither written."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from core.models import Role
from ledger.api import LedgerError
from plugins.family_visits import services
from tests.plugins.family_visits.conftest import counts, day_in, send, visit_form


@pytest.mark.parametrize(("error", "status"), [(LedgerError("The general book refused it."), 422), (RuntimeError("the server fell over"), 500)])
def test_a_failed_posting_leaves_neither_the_visit_nor_the_entry(planned, client_for, db: Session, monkeypatch, error, status) -> None:  # noqa: ANN001
    calls: list[int] = []
    real = services.post

    def post(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        raise error

    before = counts(db)
    monkeypatch.setattr(services, "post", post)
    manager = client_for(Role.case_manager, "a")
    response = send(manager, f"/family-visits/cases/{planned.case.id}/visits", visit_form(planned, day_in(1)))
    assert response.status_code == status and calls == [1]
    if status == 422:
        assert str(error) in response.text
    assert counts(db) == before  # no visit, no visitor, no journal entry, no timeline event
    monkeypatch.setattr(services, "post", real)
    assert send(manager, f"/family-visits/cases/{planned.case.id}/visits", visit_form(planned, day_in(1))).status_code == 303
    after = counts(db)
    assert (after[1], after[2], after[3]) == (before[1] + 1, before[2] + 1, before[3] + 1)
