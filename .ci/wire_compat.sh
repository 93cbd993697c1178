#!/usr/bin/env bash
# Wire compatibility: drive a huedb server with the real chromadb thin client (chromadb-client).
# chromadb-client provides the `chromadb` package, so it lives in its own venv, never in huedb's.
# mmh3 and snowballstemmer: chromadb's ChromaBm25EmbeddingFunction (tests_wire/test_wire_schema.py).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CLIENT_VENV="${CHROMA_CLIENT_VENV:-$ROOT/.venv-chroma-client}"
export HUEDB_SERVER_PYTHON="${HUEDB_SERVER_PYTHON:-$ROOT/.venv/bin/python}"
if [ ! -x "$CLIENT_VENV/bin/python" ]; then
  python3 -m venv "$CLIENT_VENV"
fi
"$CLIENT_VENV/bin/pip" install --quiet chromadb-client==1.5.9 openai pytest numpy httpx mmh3 snowballstemmer
cd "$ROOT"
# -p no:huedb: run from the checkout, huedb.egg-info exposes huedb's pytest11 plugin, which
# this venv (no huedb) cannot import.
exec "$CLIENT_VENV/bin/python" -m pytest -q -p no:cacheprovider -p no:huedb --rootdir "$ROOT/tests_wire" -c /dev/null tests_wire "$@"
