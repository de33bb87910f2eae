"""The ``training`` module as a plugin: found through its entry point, built on
``core.plugin_api`` alone, migrated on its own branch, with demo data."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

import plugins.training
from core.db import make_engine
from core.demo import load_demo
from core.migrate import alembic_config, upgrade
from core.models import Event, Organisation
from core.plugins import ENTRY_POINT_GROUP, PluginRegistry
from plugins.training import hooks
from plugins.training.models import Attendance, Certificate, Cohort, Enrolment

PACKAGE = Path(plugins.training.__file__).parent
TABLES = {"training_courses", "training_cohorts", "training_sessions", "training_enrolments", "training_attendance",
          "training_certificates", "training_verify_attempts"}


def test_discovered_through_its_entry_point(registry: PluginRegistry) -> None:
    (ep,) = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == "training"]
    assert ep.value == "plugins.training.hooks"
    loaded = registry.modules["training"]
    assert loaded.plugin is hooks
    assert loaded.module.migrations == PACKAGE / "migrations"
    assert {"training.enrolled", "training.dropped_out", "training.completed", "training.certified"} <= set(registry.event_kinds)
    assert {"training.view", "training.manage", "training.record", "training.certify"} <= set(registry.permissions)


def test_it_has_the_standard_module_layout() -> None:
    names = {p.name for p in PACKAGE.rglob("*.py")}
    assert {"hooks.py", "models.py", "schemas.py", "services.py", "routes.py"} <= names
    assert (PACKAGE / "templates" / "training").is_dir() and (PACKAGE / "migrations").is_dir()


def test_its_branch_creates_and_drops_its_tables_alone(database_url: str, registry: PluginRegistry) -> None:
    config = alembic_config(database_url, registry)
    script = ScriptDirectory.from_config(config)
    assert "0001_training" in script.get_heads()
    assert script.get_revision("training@head").dependencies == "0001_core"
    engine = make_engine(database_url)
    try:
        assert TABLES <= set(inspect(engine).get_table_names())
        command.downgrade(config, "training@base")
        tables = set(inspect(engine).get_table_names())
        assert not TABLES & tables and "cases" in tables
        upgrade(database_url, registry)
        assert TABLES <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_demo_data_has_cohorts_attendance_and_certificates_in_both_organisations(db: Session, registry: PluginRegistry) -> None:
    load_demo(db, registry)
    orgs = set(db.scalars(select(Organisation.id)))
    assert len(orgs) == 2
    for model in (Cohort, Enrolment, Attendance, Certificate):
        assert set(db.scalars(select(model.org_id).distinct())) == orgs, model
    assert db.scalar(select(func.count()).select_from(Enrolment).where(Enrolment.status == "dropped_out"))
    certificate = db.scalars(select(Certificate)).first()
    assert certificate is not None
    kinds = set(db.scalars(select(Event.kind).where(Event.kind.like("training.%"))))
    assert kinds == {"training.enrolled", "training.dropped_out", "training.completed", "training.certified"}
