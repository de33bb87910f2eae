"""An organisation that has not enabled the module sees none of it: its pages answer 404."""

from __future__ import annotations

import pytest

from core.plugin_api import Role


@pytest.fixture
def hc_modules() -> list[str]:
    return []


def test_the_pages_answer_404_and_the_menu_and_tab_are_gone(hc_client, hc_case) -> None:  # noqa: ANN001
    case = hc_case("Sok Dara")
    client = hc_client(Role.admin)
    for url in ("/schooling", f"/schooling/cases/{case.id}", f"/schooling/cases/{case.id}/tab", "/schooling/settings"):
        assert client.get(url).status_code == 404, url
    assert client.post_form(f"/schooling/cases/{case.id}/enrolments", {"school": "Hope"}).status_code == 404
    assert 'href="/schooling"' not in client.get("/").text
    assert 'data-tab="schooling"' not in client.get(f"/cases/{case.id}").text
