"""A database migrated by a module that is no longer loaded gets a clear message, not a traceback."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from core.cli import main
from core.migrate import MigrationError, upgrade
from core.plugins import get_plugin_manager


def test_upgrade_names_the_missing_module_branch(tmp_path):
    url = f"sqlite:///{tmp_path / 'hc.db'}"
    upgrade(url, get_plugin_manager())  # core + savings

    with pytest.raises(MigrationError, match="not loaded now"):
        upgrade(url, get_plugin_manager(disabled=["savings"]))

    result = CliRunner().invoke(main, ["--database-url", url, "init"], env={"HOMECOMING_DISABLE_PLUGINS": "savings"})
    assert result.exit_code == 1
    assert "HOMECOMING_DISABLE_PLUGINS" in result.output
    assert "Traceback" not in result.output
