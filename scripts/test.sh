#!/usr/bin/env bash
# Installs what is needed and runs every test. Extra arguments go to pytest.
# PostgreSQL and Chromium tests skip when those are missing, unless HOMECOMING_TEST_STRICT=1.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
# One worker per core (pytest-xdist), whole files per worker so module-scoped fixtures are built
# once; pass -n 0 to run in one process.
exec .venv/bin/python -m pytest -n auto --dist loadfile "$@"
