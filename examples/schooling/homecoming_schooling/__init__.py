"""Schooling support for prisoners' children: an example third-party Homecoming module built on
``core.plugin_api`` and ``ledger.api`` only."""
