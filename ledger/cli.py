"""``homecoming ledger export|check|verify`` (added through ``register_cli_commands``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from core.cli import organisation_session
from core.models import Organisation


def _with_org(obj: Any, slug: str, work: Any) -> Any:
    with organisation_session(obj.settings.database_url, slug) as (session, org):
        return work(session, org)


@click.group("ledger")
def ledger() -> None:
    """Export the ledger as beancount files and check it (beancount's loader, hash chain)."""


@ledger.command("export")
@click.option("--org", "slug", required=True, help="Short name of the organisation.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--year", type=int, default=None, help="Only this calendar year (balances brought forward).")
@click.pass_obj
def export_cmd(obj: Any, slug: str, out_dir: Path, year: int | None) -> None:
    """Write one .beancount file per book of the organisation."""
    from ledger.export import write_org

    for path in _with_org(obj, slug, lambda s, o: write_org(s, o, out_dir, year)):
        click.echo(str(path))


@ledger.command("check")
@click.option("--org", "slug", required=True, help="Short name of the organisation.")
@click.pass_obj
def check_cmd(obj: Any, slug: str) -> None:
    """Export every book and load it with beancount's loader; exit 0 only without errors.

    The result is recorded; the ledger's "Checks" page shows the latest."""
    run = _with_org(obj, slug, lambda s, o: _recorded(s, o, "check"))
    for line in run.report:
        click.echo(line)
    if not run.ok:
        click.secho(f"{sum(not line.endswith(': ok') for line in run.report)} error(s)", fg="red", err=True)
        sys.exit(1)


@ledger.command("verify")
@click.option("--org", "slug", required=True, help="Short name of the organisation.")
@click.pass_obj
def verify_cmd(obj: Any, slug: str) -> None:
    """Recompute the SHA-256 chain of each book; exit non-zero naming the first broken row.

    The result is recorded; the ledger's "Checks" page shows the latest."""
    run = _with_org(obj, slug, lambda s, o: _recorded(s, o, "verify"))
    if not run.ok:
        for line in run.report:
            click.secho(f"BROKEN: {line}", fg="red")
        sys.exit(1)
    click.echo("every chain holds")


def _recorded(session: Any, org: Organisation, kind: str) -> Any:
    from ledger.check import run_and_record

    run = run_and_record(session, org, kind, source="cli")
    session.commit()
    return run
