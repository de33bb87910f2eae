"""Alembic, configured in code: core's migrations plus every module's own branch."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError
from sqlalchemy import inspect

from core.db import make_engine
from core.plugins import PluginRegistry

CORE_MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str, registry: PluginRegistry) -> Config:
    """Alembic's configuration: core's ``versions`` folder plus each loaded module's own."""
    config = Config()
    config.set_main_option("script_location", _escape(str(CORE_MIGRATIONS)))
    locations = [str(CORE_MIGRATIONS / "versions")]
    locations += [str(m.module.migrations) for m in registry.modules.values() if m.module.migrations]
    # One folder a line: a module installed under a path with a space in it (site-packages of
    # a Windows or macOS user) would be split in two by Alembic's "space" separator.
    config.set_main_option("version_locations", _escape("\n".join(locations)))
    config.set_main_option("path_separator", "newline")
    config.set_main_option("sqlalchemy.url", _escape(database_url))
    config.attributes["registry"] = registry
    return config


class MigrationError(Exception):
    """The schema cannot be brought up to date; the message says what to do."""


def upgrade(database_url: str, registry: PluginRegistry) -> None:
    """Create or upgrade the schema: core and every installed module's branch to their heads.

    :raises MigrationError: the database carries a revision no loaded module knows, i.e. a module
        that migrated it is now uninstalled, failing to load, or switched off with
        ``HOMECOMING_DISABLE_PLUGINS``.
    """
    config = alembic_config(database_url, registry)
    try:
        command.upgrade(config, "heads")
    except CommandError as exc:
        if "Can't locate revision" not in str(exc):
            raise
        raise MigrationError(
            f"{exc}. The database was migrated by a module that is not loaded now "
            "(uninstalled, failing to load, or listed in HOMECOMING_DISABLE_PLUGINS): install "
            "and load it again before upgrading; `homecoming plugins` lists load failures."
        ) from exc


def _escape(value: str) -> str:
    """Alembic's options go through ConfigParser interpolation, where ``%`` is special."""
    return value.replace("%", "%%")


def has_schema(database_url: str) -> bool:
    engine = make_engine(database_url)
    try:
        return inspect(engine).has_table("organisations")
    finally:
        engine.dispose()
