"""A module that loaded but fails while answering a request (its hook or its route raises) gives
the user core's error page, never a traceback; the pages of organisations that have not enabled
it are untouched."""

from __future__ import annotations

from typing import Any

import litestar
import pytest

from core.plugin_api import CaseTab, Ctx, Module, Role, hookimpl
from core.plugins import PluginRegistry, get_plugin_manager


@litestar.get("/faulty", opt={"permission": "cases.view"}, sync_to_thread=True)
def faulty_page(ctx: Ctx) -> Any:
    raise RuntimeError("the module's route is broken")


class Faulty:
    @hookimpl
    def register_module(self) -> Module:
        return Module(label="Faulty", route_handlers=[faulty_page])

    @hookimpl
    def register_case_tabs(self) -> list[CaseTab]:
        raise RuntimeError("the module's hook is broken")


@pytest.fixture
def registry() -> PluginRegistry:
    """Every installed module plus ``faulty`` (organisation ``a`` enables it, ``b`` does not)."""
    return get_plugin_manager(extra_plugins=[("faulty", Faulty())])


@pytest.mark.parametrize("path", ["/cases/{case_id}", "/faulty"])
def test_a_failing_hook_or_route_gives_the_error_page(client_for, make_case, path: str) -> None:
    case = make_case("a")
    response = client_for(Role.admin, "a").get(path.format(case_id=case.id))
    assert response.status_code == 500
    assert "text/html" in response.headers["content-type"]
    assert "Something went wrong" in response.text
    assert "Traceback" not in response.text and "is broken" not in response.text


def test_an_organisation_without_the_module_is_not_affected(client_for, make_case) -> None:
    case = make_case("b")
    client = client_for(Role.admin, "b")
    assert client.get(f"/cases/{case.id}").status_code == 200
    assert client.get("/faulty").status_code == 404
