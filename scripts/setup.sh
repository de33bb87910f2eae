#!/usr/bin/env bash
# Installs what Homecoming needs into .venv (created when missing). Sourced by demo.sh and test.sh.
# Usage: scripts/setup.sh [app|test]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
if [ "${1:-app}" = "test" ]; then
  .venv/bin/python -m pip install --quiet -c constraints.txt -e ".[test]"
  # The example third-party module proves the plugin API from outside the project.
  .venv/bin/python -m pip install --quiet -c constraints.txt -e tests/example_plugin
  # examples/schooling: a third-party module with its own tests, built on core.testing's fixtures.
  .venv/bin/python -m pip install --quiet -c constraints.txt -e examples/schooling
else
  .venv/bin/python -m pip install --quiet -c constraints.txt -e .
fi
# htmx 2 comes from the npm registry (checked against its published hash), never committed.
if [ ! -f core/static/vendor/htmx.min.js ]; then
  .venv/bin/homecoming assets
fi
