"""Savings deposits of participants: an example Homecoming module built on ``core.plugin_api`` only."""
