"""Hook implementations of the ledger (an always-on built-in; the entry point's target)."""

from __future__ import annotations

from pathlib import Path

import click

from core.plugin_api import Module, Permission, Role, hookimpl
from core.plugin_api import lazy_gettext as _l

HERE = Path(__file__).parent
VIEW = "ledger.view"
POST = "ledger.post"


@hookimpl
def register_module() -> Module:
    return Module(
        label=_l("Ledger"),
        description=_l("The double-entry books every module posts money movements to."),
        migrations=HERE / "migrations",
        always_on=True,
    )


@hookimpl
def register_permissions() -> list[Permission]:
    return [
        Permission(VIEW, _l("See the ledger and its audit reports"), frozenset({Role.admin, Role.finance, Role.auditor})),
        Permission(POST, _l("Record and reverse ledger entries, close periods"), frozenset({Role.admin, Role.finance})),
    ]


@hookimpl
def register_cli_commands() -> list[click.Command]:
    from ledger.cli import ledger

    return [ledger]
