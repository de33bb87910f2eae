"""Alembic, configured in code: core's migrations plus every module's own branch."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from core.db import make_engine
from core.plugins import PluginRegistry

CORE_MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str, registry: PluginRegistry) -> Config:
    config = Config()
    config.set_main_option("script_location", str(CORE_MIGRATIONS))
    locations = [str(CORE_MIGRATIONS / "versions")]
    locations += [str(m.module.migrations) for m in registry.modules.values() if m.module.migrations]
    config.set_main_option("version_locations", " ".join(locations))
    config.set_main_option("path_separator", "space")
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["registry"] = registry
    return config


def upgrade(database_url: str, registry: PluginRegistry) -> None:
    """Create or upgrade the schema: core and every installed module's branch to their heads."""
    command.upgrade(alembic_config(database_url, registry), "heads")


def has_schema(database_url: str) -> bool:
    engine = make_engine(database_url)
    try:
        return inspect(engine).has_table("organisations")
    finally:
        engine.dispose()
