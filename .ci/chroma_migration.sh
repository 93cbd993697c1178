#!/usr/bin/env bash
# Migration from Chroma: build a venv with the real chromadb 1.5.9 (it writes the persist
# directory, and `huedb copy --from-chroma-dir` reads it with that venv's Python), then run
# the migration tests against it. chromadb lives in its own venv, never in huedb's.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CHROMA_VENV="${CHROMA_VENV:-$ROOT/.venv-chromadb}"
if [ ! -x "$CHROMA_VENV/bin/python" ]; then
  python3.11 -m venv "$CHROMA_VENV"
fi
"$CHROMA_VENV/bin/pip" install --quiet chromadb==1.5.9
cd "$ROOT"
HUEDB_TEST_CHROMA_PYTHON="$CHROMA_VENV/bin/python" exec .venv/bin/python -m pytest -q -m slow tests/test_cli_migrate.py "$@"
