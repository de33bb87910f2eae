"""The ``homecoming`` console script."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import assets, migrate
from core.db import make_engine, make_session_factory
from core.errors import ActionRefused
from core.hookspecs import HOOKS_VERSION
from core.migrate import MigrationError, has_schema
from core.models import Organisation, OrganisationModule, Role
from core.plugins import PluginRegistry, get_plugin_manager
from core.scaffold import ScaffoldError, dist_name, new_module, package_name
from core.settings import Settings, get_settings


class Env:
    """What every command needs: settings, and the plugin manager built on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._registry: PluginRegistry | None = None

    @property
    def registry(self) -> PluginRegistry:
        if self._registry is None:
            self._registry = get_plugin_manager(disabled=self.settings.disabled_plugins)
            for failure in self._registry.failures:
                click.secho(f"warning: module {failure.name!r} not loaded: {failure.error}", fg="yellow", err=True)
        return self._registry


pass_env = click.make_pass_decorator(Env)


class HomecomingCLI(click.Group):
    """Core's commands plus those modules add through ``register_cli_commands``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._module_commands()})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return super().get_command(ctx, name) or self._module_commands().get(name)

    def _module_commands(self) -> dict[str, click.Command]:
        registry = get_plugin_manager(disabled=get_settings().disabled_plugins)
        found: dict[str, click.Command] = {}
        for result in registry.pm.hook.register_cli_commands():
            for command in result or []:
                if command.name:
                    found[command.name] = command
        return found


@click.group(cls=HomecomingCLI)
@click.option("--database-url", envvar="HOMECOMING_DATABASE_URL", help="SQLAlchemy URL (default: sqlite:///homecoming.db).")
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """Homecoming: case management for prisoner-reintegration programmes."""
    ctx.obj = Env(get_settings(database_url))


@main.command()
@pass_env
def init(env: Env) -> None:
    """Create or upgrade the database schema (core and every installed module)."""
    upgrade(env.settings.database_url, env.registry)
    click.echo(f"database ready: {_safe_url(env.settings.database_url)}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@pass_env
def serve(env: Env, host: str, port: int) -> None:
    """Run the web app."""
    import uvicorn

    from core.web.app import create_app

    if not has_schema(env.settings.database_url):
        click.secho("the database has no schema yet: run `homecoming init` (or `homecoming demo`)", fg="red", err=True)
        sys.exit(1)
    if assets.missing():
        click.secho("htmx is missing: run `homecoming assets`; pages work without it, live search does not", fg="yellow", err=True)
    click.echo(f"Homecoming on http://{host}:{port}")
    uvicorn.run(create_app(env.settings, env.registry), host=host, port=port, log_level="info")


@main.command()
@click.option("--if-empty", is_flag=True, help="Do nothing (exit 0) when the database already holds data.")
@pass_env
def demo(env: Env, if_empty: bool) -> None:
    """Create the schema if needed and load demo data (refuses a database that holds data)."""
    from core.demo import DEMO_PASSWORD, load_demo

    upgrade(env.settings.database_url, env.registry)
    engine = make_engine(env.settings.database_url)
    try:
        with make_session_factory(engine, writes=True)() as session:
            if session.scalar(select(Organisation.id).limit(1)) is not None:
                if if_empty:
                    click.echo("the database already holds data; no demo data loaded")
                    return
                click.secho("the database already holds data; demo data goes only into an empty database", fg="red", err=True)
                sys.exit(1)
            logins = load_demo(session, env.registry, progress=_progress)
    finally:
        engine.dispose()
    click.echo("\nDemo logins (password for all: %s):" % DEMO_PASSWORD)
    for org, role, email in logins:
        click.echo(f"  {org:<12} {role:<18} {email}")


def upgrade(database_url: str, registry: PluginRegistry) -> None:
    """Migrate, turning a known failure into a clear message and exit code 1."""
    try:
        migrate.upgrade(database_url, registry)
    except MigrationError as exc:
        raise click.ClickException(str(exc)) from None


def _progress(label: str, total: int) -> Any:
    return click.progressbar(length=total, label=label, file=sys.stderr)


@main.command()
@pass_env
def plugins(env: Env) -> None:
    """List installed modules, their versions, hooks, and which organisations enable them."""
    registry = env.registry
    enabled: dict[str, list[str]] = {}
    if has_schema(env.settings.database_url):
        engine = make_engine(env.settings.database_url)
        with make_session_factory(engine)() as session:
            rows = session.execute(
                select(OrganisationModule.module, Organisation.slug)
                .join(Organisation, Organisation.id == OrganisationModule.org_id)
                .where(OrganisationModule.enabled.is_(True))
                .order_by(Organisation.slug)
            ).all()
        engine.dispose()
        for module, slug in rows:
            enabled.setdefault(module, []).append(slug)
    click.echo(f"hooks {HOOKS_VERSION} (core.hookspecs)")
    for name, loaded in sorted(registry.modules.items()):
        orgs = ", ".join(enabled.get(name, [])) or "no organisation"
        if loaded.module.always_on:
            orgs = "every organisation (always on)"
        click.echo(f"{name} {loaded.version}: {loaded.module.label}")
        click.echo(f"  enabled for: {orgs}")
        click.echo(f"  hooks: {', '.join(registry.hook_names_of(name))}")
        for note in loaded.warnings:
            click.secho(f"  deprecated: {note}", fg="yellow")
    for failure in registry.failures:
        click.secho(f"{failure.name}: NOT LOADED: {failure.error}", fg="red")


@main.group()
def plugin() -> None:
    """Write new modules (``homecoming plugins`` lists the installed ones)."""


@plugin.command("new")
@click.argument("name")
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to create (default: ./homecoming-<name>); must not exist or be empty.")
@click.option("--label", default=None, help="The name staff see in menus (default: NAME in words).")
def plugin_new(name: str, folder: Path | None, label: str | None) -> None:
    """Make a new module package NAME: entry point, a model and its migration branch, pages,
    hooks and tests that pass (docs/plugins.md)."""
    target = folder if folder is not None else Path(dist_name(name))
    try:
        written = new_module(name, target, label)
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created the module {name!r} (distribution {dist_name(name)}, package {package_name(name)}) in {target}:")
    for path in written:
        click.echo(f"  {path.relative_to(target).as_posix()}")
    click.echo("\nnext steps:")
    for step, why in [
        (f"pip install -e {target}", "offer the module on this installation"),
        ("homecoming init", "create its table (the module's own migration branch)"),
        (f"enable {name!r} in Administration", "for each organisation that runs it"),
        (f"cd {target} && pytest", "run its tests"),
    ]:
        click.echo(f"  {step:<40} # {why}")


@contextmanager
def organisation_session(database_url: str, slug: str) -> Iterator[tuple[Session, Organisation]]:
    """A database session and the organisation with the short name ``slug``, for a command
    that works in one organisation (core's and modules' commands alike); a
    :class:`click.ClickException` names an unknown organisation."""
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine, writes=True)() as session:
            organisation = session.scalar(select(Organisation).where(Organisation.slug == slug))
            if organisation is None:
                raise click.ClickException(f"no organisation {slug!r}")
            yield session, organisation
    finally:
        engine.dispose()


@main.group()
def user() -> None:
    """Manage logins."""


@user.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--org", "org_slug", required=True, help="Short name of the organisation.")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.password_option()
@pass_env
def user_create(env: Env, email: str, name: str, org_slug: str, role: str, password: str) -> None:
    """Create a login and give it a role in an organisation."""
    from core.services.admin import add_member, create_user

    with organisation_session(env.settings.database_url, org_slug) as (session, org):
        try:
            new = create_user(session, email, name, password)
        except ActionRefused as exc:
            raise click.ClickException(f"{exc.field}: {exc.message}") from None
        add_member(session, org.id, new, Role(role))
        session.commit()
        click.echo(f"created {new.email} as {role} in {org.slug}")


@main.group()
def org() -> None:
    """Manage organisations."""


@org.command("create")
@click.option("--slug", required=True)
@click.option("--name", required=True)
@click.option("--module", "modules", multiple=True, help="Enable this module (repeatable).")
@pass_env
def org_create(env: Env, slug: str, name: str, modules: tuple[str, ...]) -> None:
    """Create an organisation with the given modules enabled."""
    from core.services.admin import create_organisation

    unknown = set(modules) - set(env.registry.modules)
    if unknown:
        raise click.ClickException(f"not installed: {', '.join(sorted(unknown))}")
    engine = make_engine(env.settings.database_url)
    try:
        with make_session_factory(engine, writes=True)() as session:
            create_organisation(session, slug, name, list(modules))
            session.commit()
    finally:
        engine.dispose()
    click.echo(f"created organisation {slug}")


@main.group()
def report() -> None:
    """Print the reports staff publish."""


@report.command("recidivism")
@click.option("--org", "org_slug", required=True, help="Short name of the organisation.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--on", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Report date (default: today).")
@pass_env
def report_recidivism(env: Env, org_slug: str, fmt: str, on: Any) -> None:
    """Re-offending within 6 months of release and overall, by cohort, prison and module.

    JSON: a list of rows with group, value, cohort, released, eligible_6m, reoffended_6m,
    rate_6m, reoffended_total, rate_total (rates from 0 to 1, or null); docs/outcomes.md
    defines each figure.
    """
    from core.services import outcomes

    day = on.date() if on is not None else date.today()
    with organisation_session(env.settings.database_url, org_slug) as (session, organisation):
        modules = outcomes.enabled_modules(session, organisation.id, set(env.registry.modules) - env.registry.always_on)
        result = outcomes.recidivism(session, organisation, modules, day)
    rows = [row.as_dict() for row in result.rows]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    elif fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=outcomes.FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        click.echo(out.getvalue(), nl=False)
    else:
        click.echo(f"Recidivism, {result.organisation}, on {result.on.isoformat()} (6-month rate: people released 6 months or more before)")
        header = ("group", "value", "cohort", "released", "eligible_6m", "reoffended_6m", "rate_6m", "reoffended_total", "rate_total")
        table = [header] + [tuple(_cell(row[k]) for k in header) for row in rows]
        widths = [max(len(line[i]) for line in table) for i in range(len(header))]
        for line in table:
            click.echo("  ".join(cell.ljust(w) if i < 3 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths))))


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1%}"
    return str(value)


@main.group("import")
def import_group() -> None:
    """Bring in persons and cases from CSV or Excel files (docs/import.md): persons first."""


def _import_command(kind: str) -> click.Command:
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--org", "org_slug", required=True, help="Short name of the organisation.")
    @click.option("--dry-run", is_flag=True, help="Only check the file and list its bad rows; write nothing.")
    @pass_env
    def command(env: Env, file: Path, org_slug: str, dry_run: bool) -> None:
        from core.auth import enabled_modules
        from core.services import imports

        if file.stat().st_size > imports.MAX_BYTES:
            raise click.ClickException(f"{file.name}: larger than {imports.MAX_BYTES // (1024 * 1024)} MB; split it into smaller files")
        content = file.read_bytes()
        with organisation_session(env.settings.database_url, org_slug) as (session, organisation):
            today = date.today()
            try:
                checked = imports.check(session, organisation.id, kind, content, today)
            except ActionRefused as exc:
                raise click.ClickException(f"{file.name}: {exc.message}") from None
            for error in checked.errors:
                click.echo(f"row {error.row}, {error.column}: {error.message}")
            if checked.errors:
                click.secho(f"{checked.rows_bad} of {checked.rows_total} rows cannot be imported; nothing was imported", fg="red", err=True)
                sys.exit(1)
            if checked.ignored_columns:
                click.echo(f"columns ignored: {', '.join(checked.ignored_columns)}", err=True)
            if dry_run:
                click.echo(f"{checked.rows_total} {kind} ready to import (dry run: nothing written)")
                return
            hooks = env.registry.hooks_for(enabled_modules(session, organisation.id))
            with click.progressbar(length=checked.rows_total, label=f"importing {kind}", file=sys.stderr) as bar:
                done = 0

                def progress(written: int, total: int) -> None:
                    nonlocal done
                    bar.update(written - done)
                    done = written

                try:
                    batch = imports.record_batch(session, organisation.id, None, file.name, content, checked)
                    batch_id = batch.id
                    count = imports.run(session, organisation.id, batch, hooks=hooks, user_id=None, today=today, progress=progress)
                except ActionRefused as exc:
                    session.rollback()
                    raise click.ClickException(exc.message) from None
            session.commit()
        click.echo(f"imported {count} {kind} into {org_slug} (import {batch_id})")

    command.__doc__ = f"Import {kind} from a CSV or .xlsx file, all rows or none."
    return import_group.command(kind)(command)


import_persons = _import_command("persons")
import_cases = _import_command("cases")


@main.command("anonymise")
@click.option("--org", "org_slug", required=True, help="Short name of the organisation.")
@click.option("--dry-run", is_flag=True, help="Only list the cases due; write nothing.")
@pass_env
def anonymise_command(env: Env, org_slug: str, dry_run: bool) -> None:
    """Anonymise the organisation's closed cases whose retention period is over (docs/privacy.md),
    all of them or none; the ledger is not touched."""
    from core.auth import CurrentUser, enabled_modules, role_permissions
    from core.context import Context
    from core.services import privacy

    with organisation_session(env.settings.database_url, org_slug) as (session, organisation):
        if organisation.retention_months is None:
            raise click.ClickException(f"{org_slug} has set no retention period: nothing is anonymised")
        # The command line acts as no user (the audit trail's entries have none), with an
        # administrator's permissions in the organisation.
        user = CurrentUser(
            id=0, name="command line", email="", locale=organisation.default_locale, org_id=organisation.id, org_slug=organisation.slug,
            org_name=organisation.name, role=Role.admin, permissions=role_permissions(env.registry)[Role.admin],
            enabled_modules=enabled_modules(session, organisation.id), memberships=(),
        )
        ctx = Context(session, user, env.registry)
        due = privacy.cases_due(ctx)
        if dry_run:
            for item in due:
                click.echo(f"case {item.case_id}: closed {item.closed_on.isoformat()}, due since {item.due_on.isoformat()}")
            click.echo(f"{len(due)} cases due for anonymisation (dry run: nothing written)")
            return
        with click.progressbar(length=len(due), label="anonymising cases", file=sys.stderr) as bar:
            count = privacy.anonymise_due(ctx, progress=lambda done, total: bar.update(1))
        session.commit()
    click.echo(f"anonymised {count} cases of {org_slug}")


@main.command("backup")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The backup file (SQLite: a database, gzip-compressed if it ends in .gz; PostgreSQL: a pg_dump archive).")
@pass_env
def backup_command(env: Env, out: Path) -> None:
    """Take a consistent online backup of the whole database; the app may keep running.

    Writes FILE and its manifest FILE.json (docs/security.md, "Backups")."""
    from core import backup

    try:
        manifest = backup.backup(env.settings.database_url, out, say=_say)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backup written: {out} ({manifest.database}, {sum(manifest.tables.values())} rows, sha256 {manifest.sha256[:12]})")


@main.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that holds data (SQLite keeps it as <name>.before-restore).")
@pass_env
def restore_command(env: Env, file: Path, force: bool) -> None:
    """Bring back a backup made by `homecoming backup`, then check the schema revision and
    every organisation's ledger chain; exit 1 when a chain is broken."""
    from core import backup

    try:
        result = backup.restore(env.settings.database_url, file, env.registry, force=force, say=_say)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored {file} into {_safe_url(env.settings.database_url)}")
    if result.kept_aside is not None:
        click.echo(f"the previous database is kept as {result.kept_aside}")
    click.secho(result.revision_note, fg=None if result.revision_ok else "yellow")
    for line in result.ledger_report:
        click.echo(f"ledger: {line}")
    if not result.ledger_ok:
        click.secho("a ledger chain is broken in the restored database", fg="red", err=True)
        sys.exit(1)


def _say(line: str) -> None:
    click.echo(line, err=True)


@main.command("assets")
def assets_command() -> None:
    """Fetch htmx 2 from the npm registry (checked against its published hash)."""
    for asset in assets.ASSETS:
        path = assets.fetch(asset)
        click.echo(f"{asset.name} -> {path}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


__all__ = ["main"]
