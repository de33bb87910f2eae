"""Fixtures for the example third-party module ``savings`` (``pip install -e tests/example_plugin``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from core.context import Context
from core.models import Case, Role
from core.schemas import CaseIn, PersonIn
from core.services import cases, persons
from core.services.admin import set_module_for_org
from tests.conftest import World


@pytest.fixture
def make_case(db: Session, ctx_for: Callable[..., Context]) -> Callable[[str], Case]:
    """``make_case("b")``: a committed case of that organisation's case manager."""

    def make(org: str = "a") -> Case:
        ctx = ctx_for(Role.case_manager, org)
        person = persons.create_person(ctx, PersonIn(name=f"Sok Dara {org.upper()}"))
        case = cases.create_case(ctx, CaseIn(person_id=person.id, case_manager_id=ctx.user.id))
        db.commit()
        return case

    return make


@pytest.fixture
def savings_for(db: Session, world: World) -> Callable[[str, bool], None]:
    """``savings_for("a", False)``: switch the module on or off for an organisation, as its
    administrator does on the modules page."""

    def switch(org: str, enabled: bool) -> None:
        set_module_for_org(db, world.org_ids[org], "savings", enabled)
        db.commit()

    return switch
