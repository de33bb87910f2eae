"""Loading modules from the ``homecoming.plugins`` entry points and calling them per organisation."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Any

import pluggy

from core import default_hooks, hookspecs
from core.contributions import PROJECT, Breakdown, CaseTab, DashboardPanel, EventKind, Indicator, MenuItem, Module, Permission

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "homecoming.plugins"
CORE = "core"


@dataclass(frozen=True)
class LoadedModule:
    """An installed module that loaded: its entry-point name, version and contribution, and the
    deprecation warnings its hooks gave (``core.hookspecs.deprecated``), for ``homecoming plugins``."""

    name: str
    version: str
    module: Module
    plugin: object
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoadFailure:
    """An installed module that could not be loaded; the app starts without it."""

    name: str
    error: str


@dataclass
class PluginRegistry:
    """The plugin manager with what every module contributed at start-up."""

    pm: pluggy.PluginManager
    modules: dict[str, LoadedModule] = field(default_factory=dict)
    failures: list[LoadFailure] = field(default_factory=list)
    permissions: dict[str, Permission] = field(default_factory=dict)
    event_kinds: dict[str, EventKind] = field(default_factory=dict)
    _subsets: dict[frozenset[str], OrgHooks] = field(default_factory=dict)

    @property
    def always_on(self) -> frozenset[str]:
        """The loaded modules every organisation has (``Module.always_on``)."""
        return frozenset(name for name, m in self.modules.items() if m.module.always_on)

    def hooks_for(self, enabled: Iterable[str]) -> OrgHooks:
        """The hooks of core plus the ``enabled`` and always-on modules (cached per set of modules)."""
        key = (frozenset(enabled) | self.always_on) & frozenset(self.modules)
        if key not in self._subsets:
            removed = [m.plugin for name, m in self.modules.items() if name not in key]
            self._subsets[key] = OrgHooks(self.pm, removed, key)
        return self._subsets[key]

    def hook_names_of(self, name: str) -> list[str]:
        """The hooks a module implements, for ``homecoming plugins``."""
        plugin = self.modules[name].plugin
        return sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or [])


class OrgHooks:
    """Typed access to the per-organisation hooks, restricted to the enabled modules."""

    def __init__(self, pm: pluggy.PluginManager, removed: list[object], enabled: frozenset[str]) -> None:
        self.enabled = enabled
        self._pm = pm
        self._removed = removed

    def _caller(self, name: str) -> Any:
        return self._pm.subset_hook_caller(name, remove_plugins=self._removed)

    def menu_items(self, organisation: Any) -> list[MenuItem]:
        items = _flatten(self._caller("register_menu_items")(organisation=organisation))
        return sorted(items, key=lambda i: (i.order, str(i.label)))

    def case_tabs(self, case: Any) -> list[CaseTab]:
        tabs = _flatten(self._caller("register_case_tabs")(case=case))
        return sorted(tabs, key=lambda t: (t.order, t.key))

    def dashboard_panels(self, organisation: Any) -> list[DashboardPanel]:
        panels = _flatten(self._caller("register_dashboard_panels")(organisation=organisation))
        return sorted(panels, key=lambda p: (p.order, p.key))

    def report_indicators(self, organisation: Any) -> list[Indicator]:
        indicators = _flatten(self._caller("register_report_indicators")(organisation=organisation))
        return sorted(indicators, key=lambda i: (i.order, i.key))

    def report_breakdowns(self, organisation: Any) -> list[Breakdown]:
        breakdowns = _flatten(self._caller("register_report_breakdowns")(organisation=organisation))
        return sorted(breakdowns, key=lambda b: (b.order, b.key))

    def on_event_recorded(self, session: Any, event: Any, case: Any) -> None:
        self._caller("on_event_recorded")(session=session, event=event, case=case)

    def on_case_status_changed(self, session: Any, case: Any, old_status: str, new_status: str) -> None:
        self._caller("on_case_status_changed")(
            session=session, case=case, old_status=old_status, new_status=new_status
        )

    def load_demo_data(self, **kwargs: Any) -> None:
        self._caller("load_demo_data")(**kwargs)

    def is_visible_kind(self, kind: str) -> bool:
        """Whether an event kind belongs to core or to an enabled module."""
        module = kind.split(".", 1)[0]
        return module == CORE or module in self.enabled


def _flatten(results: list[list[Any] | None]) -> list[Any]:
    return [item for result in results if result for item in result]


def get_plugin_manager(
    disabled: Iterable[str] = (), extra_plugins: Iterable[tuple[str, ModuleType | object]] = ()
) -> PluginRegistry:
    """Build a fresh plugin manager: core's own hooks, then every installed module.

    :param disabled: entry-point names not to load at all (``HOMECOMING_DISABLE_PLUGINS``).
    :param extra_plugins: ``(name, plugin)`` pairs registered as if installed (tests). A plugin
        given as an ``importlib.metadata.EntryPoint`` is loaded like an installed one, so that a
        test can show what happens when a module fails to import.

    A module that fails to import or to describe itself (``register_module`` missing or not
    returning a :class:`Module`, a hook name no spec knows, an event kind or permission outside
    its ``<name>.`` namespace) is logged and listed in ``failures``; the app starts without it.
    """
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(default_hooks, name=CORE)
    registry = PluginRegistry(pm)
    disabled = set(disabled)

    candidates: list[tuple[str, str, Any]] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in disabled or ep.name == CORE:
            continue
        candidates.append((ep.name, ep.dist.version if ep.dist else "?", ep))
    for name, plugin in extra_plugins:
        candidates.append((name, "test", plugin))

    for name, version, plugin in candidates:
        if isinstance(plugin, EntryPoint):
            try:
                plugin = plugin.load()
            except Exception as exc:  # a broken third-party package must not stop the app
                _fail(registry, name, f"import failed: {exc.__class__.__name__}: {exc}")
                continue
        if pm.has_plugin(name):
            _fail(registry, name, "another module is already registered under this name")
            continue
        if pm.is_registered(plugin):
            _fail(registry, name, f"the same hooks are already loaded as module {pm.get_name(plugin)!r}")
            continue
        registered = False
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")  # deprecations are otherwise hidden outside tests
                pm.register(plugin, name=name)
            registered = True
            pm.check_pending()  # a misspelt hook name in this module is reported here
            others = [p for p in pm.get_plugins() if p is not plugin]
            module = pm.subset_hook_caller("register_module", remove_plugins=others)()
            if not isinstance(module, Module):
                raise TypeError("register_module() must return a core.plugin_api.Module")
            if hookspecs.version_tuple(module.requires_hooks) > hookspecs.version_tuple(hookspecs.HOOKS_VERSION):
                raise RuntimeError(
                    f"it requires hooks {module.requires_hooks}; this Homecoming has hooks {hookspecs.HOOKS_VERSION}"
                )
            kinds = _flatten(pm.subset_hook_caller("register_event_kinds", remove_plugins=others)())
            _check_namespaced(name, kinds, EventKind, "kind", "event kind")
            permissions = _flatten(pm.subset_hook_caller("register_permissions", remove_plugins=others)())
            _check_namespaced(name, permissions, Permission, "name", "permission")
        except Exception as exc:
            # Only undo our own registration: the same object may be registered under another name.
            if registered:
                pm.unregister(plugin)
            _fail(registry, name, f"{exc.__class__.__name__}: {exc}")
            continue
        notes = tuple(dict.fromkeys(str(w.message) for w in caught))
        for note in notes:
            log.warning("module %r: %s", name, note)
        registry.modules[name] = LoadedModule(name, version, module, plugin, notes)

    for permission in _flatten(pm.hook.register_permissions()):
        registry.permissions[permission.name] = permission
    for kind in _flatten(pm.hook.register_event_kinds()):
        registry.event_kinds[kind.kind] = kind
    return registry


def _check_namespaced(name: str, items: list[Any], cls: type, attr: str, what: str) -> None:
    """A module declares only ``cls`` objects named ``<module>.<something>``, so it can neither
    take over a name of core or of another module nor escape per-organisation hiding."""
    for item in items:
        if not isinstance(item, cls):
            raise TypeError(f"a {what} must be a core.plugin_api.{cls.__name__}, not {item!r}")
        if not getattr(item, attr).startswith(f"{name}."):
            raise ValueError(f"{what} {getattr(item, attr)!r} must start with {name + '.'!r}")


def _fail(registry: PluginRegistry, name: str, error: str) -> None:
    log.error("module %r was not loaded: %s", name, error)
    registry.failures.append(LoadFailure(name, error))
