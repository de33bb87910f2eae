"""Modules that cannot be loaded are reported in ``registry.failures``; the app starts without them
and still serves every page, including those of the modules that did load."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest
from pluggy import PluginValidationError

from core.models import Role
from core.plugin_api import ALL_ROLES, EventKind, Module, Permission, hookimpl
from core.plugins import ENTRY_POINT_GROUP, PluginRegistry, get_plugin_manager
from homecoming_savings import hooks as savings_hooks


class WrongModuleType:
    @hookimpl
    def register_module(self) -> dict[str, str]:
        return {"label": "Not a Module"}


class NoRegisterModule:
    @hookimpl
    def register_menu_items(self) -> list[object]:
        return []


class MisspeltHook:
    @hookimpl
    def register_module(self) -> Module:
        return Module(label="Misspelt")

    @hookimpl
    def register_menu_item(self) -> list[object]:  # the hook is register_menu_items
        return []


class WrongArgument:
    @hookimpl
    def register_module(self) -> Module:
        return Module(label="Wrong argument")

    @hookimpl
    def register_case_tabs(self, kase: object) -> list[object]:  # the spec names it ``case``
        return []


class ForeignEventKind:
    @hookimpl
    def register_module(self) -> Module:
        return Module(label="Foreign event kind")

    @hookimpl
    def register_event_kinds(self) -> list[EventKind]:
        return [EventKind("core.sneaky", "Sneaky")]


class ForeignPermission:
    @hookimpl
    def register_module(self) -> Module:
        return Module(label="Foreign permission")

    @hookimpl
    def register_permissions(self) -> list[Permission]:
        return [Permission("admin.modules", "Everybody administers", ALL_ROLES)]


BROKEN = {
    "fails_import": EntryPoint("fails_import", "tests.plugins.example.broken_import", ENTRY_POINT_GROUP),
    "not_installed": EntryPoint("not_installed", "homecoming_no_such_package.hooks", ENTRY_POINT_GROUP),
    "wrong_module_type": WrongModuleType(),
    "no_register_module": NoRegisterModule(),
    "misspelt_hook": MisspeltHook(),
    "wrong_argument": WrongArgument(),
    "foreign_event_kind": ForeignEventKind(),
    "foreign_permission": ForeignPermission(),
    "savings_again": savings_hooks,  # the same hooks module under a second name
}
EXPECTED = {
    "fails_import": "import failed: RuntimeError: this module is broken on purpose",
    "not_installed": "import failed: ModuleNotFoundError",
    "wrong_module_type": "TypeError: register_module() must return a core.plugin_api.Module",
    "no_register_module": "TypeError: register_module() must return a core.plugin_api.Module",
    "misspelt_hook": f"{PluginValidationError.__name__}: unknown hook 'register_menu_item'",
    "wrong_argument": "PluginValidationError",
    "foreign_event_kind": "ValueError: event kind 'core.sneaky' must start with 'foreign_event_kind.'",
    "foreign_permission": "ValueError: permission 'admin.modules' must start with 'foreign_permission.'",
    "savings_again": "the same hooks are already loaded as module 'savings'",
}


@pytest.fixture
def registry() -> PluginRegistry:
    """Every installed module plus the broken ones (overrides conftest's for this file)."""
    return get_plugin_manager(extra_plugins=BROKEN.items())


def test_each_broken_module_is_reported_and_left_out(registry: PluginRegistry) -> None:
    errors = {f.name: f.error for f in registry.failures}
    assert set(errors) == set(EXPECTED)
    for name, expected in EXPECTED.items():
        assert errors[name].startswith(expected), (name, errors[name])
    assert set(registry.modules) >= {"savings", "training"} and not set(registry.modules) & set(BROKEN)
    assert "core.sneaky" not in registry.event_kinds
    assert registry.permissions["admin.modules"].roles == frozenset({Role.admin})


def test_a_refused_module_leaves_the_loaded_ones_whole(registry: PluginRegistry) -> None:
    # "savings_again" is the savings hooks object: refusing it must not unregister "savings".
    assert "register_menu_items" in registry.hook_names_of("savings")
    hrefs = [item.href for item in registry.hooks_for({"savings"}).menu_items(organisation=None)]
    assert "/savings" in hrefs
    assert registry.pm.check_pending() is None  # no hook implementation of a refused module is left


def test_the_app_starts_and_serves_pages_without_them(client_for, make_case) -> None:
    case = make_case("a")
    client = client_for(Role.admin, "a")
    for path in ("/", "/cases", f"/cases/{case.id}", "/savings", f"/savings/cases/{case.id}"):
        assert client.get(path).status_code == 200, path
    admin = client.get("/admin").text
    assert all(name in admin for name in EXPECTED)
