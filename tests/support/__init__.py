"""Helpers the test suite (and later the plugin-author fixtures) build on."""
