#!/usr/bin/env bash
# Installs what is needed and runs Homecoming with demo data on SQLite at http://127.0.0.1:8000
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh app
export HOMECOMING_DATABASE_URL=${HOMECOMING_DATABASE_URL:-sqlite:///homecoming.db}
.venv/bin/homecoming demo --if-empty
exec .venv/bin/homecoming serve --host 127.0.0.1 --port 8000
