"""The hook API is versioned and changes without breaking modules: a deprecated hook or argument
warns every module implementing it, naming the replacement, for a release before it goes; a module
needing a newer hook API is not loaded, with the reason."""

from __future__ import annotations

from pathlib import Path

import pluggy
import pytest
from click.testing import CliRunner

from core import default_hooks, hookspecs
from core.cli import main
from core.hookspecs import HOOKS_VERSION, deprecated, hookspec, version_tuple
from core.plugin_api import PROJECT, CaseTab, Module, hookimpl
from core.plugins import CORE, get_plugin_manager


class OldSpecs:
    """Hook specs as they would look in the release that deprecates something."""

    @hookspec(warn_on_impl=deprecated("register_widgets", "implement register_case_tabs instead", removed_in="1.0"))
    def register_widgets(self) -> list[object]:
        """Widgets (replaced by case tabs). .. versionadded:: 0.1"""

    @hookspec(warn_on_impl_args={"kase": deprecated("register_gadgets(kase)", "take case instead", removed_in="1.0")})
    def register_gadgets(self, case: object, kase: object) -> list[object]:
        """Gadgets; ``kase`` is the old name of ``case``. .. versionadded:: 0.1"""


def _plugin_manager() -> pluggy.PluginManager:
    """Built as core.plugins.get_plugin_manager builds it, plus the deprecated specs."""
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.add_hookspecs(OldSpecs)
    pm.register(default_hooks, name=CORE)
    return pm


class UsesDeprecatedHook:
    @hookimpl
    def register_module(self) -> Module:
        return Module(label="Old")

    @hookimpl
    def register_widgets(self) -> list[object]:
        return []


class UsesDeprecatedArgument:
    @hookimpl
    def register_gadgets(self, kase: object) -> list[object]:
        return []


class UsesCurrentArgument:
    @hookimpl
    def register_gadgets(self, case: object) -> list[object]:
        return []


def test_implementing_a_deprecated_hook_warns_with_its_replacement() -> None:
    pm = _plugin_manager()
    with pytest.warns(DeprecationWarning, match=r"register_widgets is deprecated .* 1\.0: implement register_case_tabs instead"):
        pm.register(UsesDeprecatedHook(), name="old")
    assert pm.hook.register_widgets() == [[]]  # it still works for the release that warns


def test_a_deprecated_argument_warns_only_modules_that_take_it(recwarn: pytest.WarningsRecorder) -> None:
    pm = _plugin_manager()
    pm.register(UsesCurrentArgument(), name="current")
    assert not [w for w in recwarn if issubclass(w.category, DeprecationWarning)]
    with pytest.warns(DeprecationWarning, match=r"register_gadgets\(kase\) is deprecated .*: take case instead"):
        pm.register(UsesDeprecatedArgument(), name="old")


class HasCaseTabs:
    @hookimpl
    def register_module(self) -> Module:
        return Module(label="Tabs")

    @hookimpl
    def register_case_tabs(self) -> list[CaseTab]:
        return []


def _deprecate_case_tabs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make core's own ``register_case_tabs`` spec deprecated, as a release about to remove it would."""

    @hookspec(warn_on_impl=deprecated("register_case_tabs", "implement register_case_pages instead", removed_in="1.0"))
    def register_case_tabs(case: object) -> list[CaseTab]:
        """Tabs. .. versionadded:: 0.1"""

    monkeypatch.setattr(hookspecs, "register_case_tabs", register_case_tabs)


def test_the_registry_keeps_each_modules_deprecation_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    _deprecate_case_tabs(monkeypatch)
    registry = get_plugin_manager(extra_plugins=[("tabs", HasCaseTabs())])
    assert "tabs" in registry.modules  # deprecated is not broken: the module loads
    (note,) = registry.modules["tabs"].warnings
    assert note.startswith("register_case_tabs is deprecated") and "register_case_pages" in note
    assert get_plugin_manager(extra_plugins=[("tabs", HasCaseTabs())]).modules["tabs"].warnings  # not once per process


def test_homecoming_plugins_shows_the_deprecations(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _deprecate_case_tabs(monkeypatch)
    result = CliRunner().invoke(main, ["--database-url", f"sqlite:///{tmp_path / 'h.db'}", "plugins"])
    assert result.exit_code == 0, result.output
    assert f"hooks {HOOKS_VERSION}" in result.output.splitlines()[0]
    assert "  deprecated: register_case_tabs is deprecated" in result.output  # training has a case tab


def test_a_module_needing_newer_hooks_is_not_loaded_and_says_why() -> None:
    newer = ".".join(str(n) for n in (version_tuple(HOOKS_VERSION)[0] + 1, 0))

    class FromTheFuture:
        @hookimpl
        def register_module(self) -> Module:
            return Module(label="Future", requires_hooks=newer)

    class Current:
        @hookimpl
        def register_module(self) -> Module:
            return Module(label="Current", requires_hooks=HOOKS_VERSION)

    registry = get_plugin_manager(extra_plugins=[("future", FromTheFuture()), ("current", Current())])
    errors = {f.name: f.error for f in registry.failures}
    assert errors["future"] == f"RuntimeError: it requires hooks {newer}; this Homecoming has hooks {HOOKS_VERSION}"
    assert "current" in registry.modules and "future" not in registry.modules


def test_hook_versions_compare_as_numbers() -> None:
    assert version_tuple("0.10") > version_tuple("0.9")
    assert all(version_tuple(v) <= version_tuple(HOOKS_VERSION) for v in ("0.1", "0.2"))
