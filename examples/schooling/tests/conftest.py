"""The module's test set-up: only the fixtures of core's pytest plugin (``core.testing``, the
``hc_*`` fixtures), with the test organisation enabling this module alone.

Family links are recorded through core's own pages, as staff record them: a third-party module's
tests need nothing of core but its pytest plugin and its public API.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from core.plugin_api import Case, Role


@pytest.fixture
def hc_modules() -> list[str]:
    return ["schooling"]


@pytest.fixture
def add_relative(hc_client: Callable[..., object]) -> Callable[..., int]:
    """``add_relative(case, "Sok Mealea", relation="child")``: create a person on core's person
    form and link them to the case's person as that relation; returns the new person's id."""

    def add(case: Case, name: str, relation: str = "child") -> int:
        client = hc_client(Role.case_manager)
        created = client.post_form("/persons", {"name": name})  # type: ignore[attr-defined]
        assert created.status_code == 303, created.text[:500]
        person_id = int(re.fullmatch(r"/persons/(\d+)", created.headers["location"]).group(1))  # type: ignore[union-attr]
        linked = client.post_form(f"/persons/{case.person_id}/family", {"relative_id": person_id, "relation": relation})  # type: ignore[attr-defined]
        assert linked.status_code == 303, linked.text[:500]
        return person_id

    return add
