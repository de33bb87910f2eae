"""Homecoming core: persons, cases, the case timeline, plugins, the web app and the CLI.

Plugins import only from :mod:`core.plugin_api`; everything else in ``core`` is internal.
"""
