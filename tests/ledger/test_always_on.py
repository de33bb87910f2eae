"""The ledger is an always-on built-in: every organisation has it, and it cannot be switched off."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from litestar import get

from core.cli import main
from core.models import Role
from core.plugin_api import ALL_ROLES, Module, Permission, hookimpl
from core.plugins import PluginRegistry, get_plugin_manager
from tests.conftest import post_form


@get("/always-probe", opt={"permission": "alwaysprobe.view"}, sync_to_thread=False)
def probe_page() -> str:
    return "always here"


class AlwaysOnProbe:
    @hookimpl
    def register_module(self) -> Module:
        return Module(label="Always probe", route_handlers=[probe_page], always_on=True)

    @hookimpl
    def register_permissions(self) -> list[Permission]:
        return [Permission("alwaysprobe.view", "See the probe", ALL_ROLES)]


@pytest.fixture
def registry() -> PluginRegistry:
    return get_plugin_manager(extra_plugins=[("alwaysprobe", AlwaysOnProbe())])


def test_always_on_modules_are_in_every_organisations_hooks(registry: PluginRegistry) -> None:
    assert registry.always_on == {"ledger", "alwaysprobe"}
    assert registry.hooks_for([]).enabled == {"ledger", "alwaysprobe"}
    assert "training" not in registry.hooks_for([]).enabled
    assert registry.hooks_for(["training"]).enabled == {"ledger", "alwaysprobe", "training"}


def test_always_on_routes_answer_for_an_organisation_that_never_enabled_them(client_for) -> None:
    response = client_for(Role.viewer, "b").get("/always-probe")
    assert response.status_code == 200 and response.text == "always here"


def test_the_admin_page_offers_no_switch_and_refuses_one(client_for) -> None:
    admin = client_for(Role.admin, "b")
    html = admin.get("/admin").text
    start = html.index('data-module="ledger"')
    row = html[start : html.index("</tr>", start)]
    assert "Always on" in row and "<form" not in row
    response = post_form(admin, "/admin/modules/ledger", {"enabled": "0"})
    assert response.status_code == 422
    assert "cannot be switched off" in response.text


def test_the_ledger_commands_are_on_the_console_script() -> None:
    result = CliRunner().invoke(main, ["ledger", "--help"])
    assert result.exit_code == 0
    assert all(word in result.output for word in ("export", "check", "verify"))
