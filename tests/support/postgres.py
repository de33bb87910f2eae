"""The throw-away PostgreSQL server of the test run: it lives in ``core.testing_postgres`` since
the ``hc_database_url`` fixture of the installed pytest plugin (``core.testing``) needs it too."""

from __future__ import annotations

from core.testing_postgres import PostgresServer, find_bin_dir, start_server

__all__ = ["PostgresServer", "find_bin_dir", "start_server"]
