"""A closed case offers no new plan in the modules' case tabs (the tab still shows its history)."""

from __future__ import annotations

import pytest

from core.models import CaseStatus, Role
from core.schemas import StatusChangeIn
from core.services import cases
from tests.core.conftest import make_case, make_person  # noqa: F401 - fixtures

TABS = [
    ("/family-visits/cases/{id}/tab", "New visit plan"),
    ("/grants/cases/{id}/tab", "New business plan"),
]


@pytest.mark.parametrize(("url", "button"), TABS)
def test_the_new_plan_button_is_offered_on_an_open_case_only(url, button, make_case, ctx_for, client_for, db):  # noqa: F811
    case = make_case("a")
    client = client_for(Role.case_manager, "a")
    assert button in client.get(url.format(id=case.id)).text

    cases.change_status(ctx_for(Role.case_manager, "a"), cases.get_case(ctx_for(Role.case_manager, "a"), case.id),
                        StatusChangeIn(status=CaseStatus.closed, close_reason="withdrew"))
    db.commit()
    assert button not in client.get(url.format(id=case.id)).text
