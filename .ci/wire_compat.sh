#!/usr/bin/env bash
# Wire compatibility: drive a huedb server with the real chromadb thin client (chromadb-client).
# chromadb-client provides the `chromadb` package, so it lives in its own venv, never in huedb's.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CLIENT_VENV="${CHROMA_CLIENT_VENV:-$ROOT/.venv-chroma-client}"
export HUEDB_SERVER_PYTHON="${HUEDB_SERVER_PYTHON:-$ROOT/.venv/bin/python}"
if [ ! -x "$CLIENT_VENV/bin/python" ]; then
  python3 -m venv "$CLIENT_VENV"
fi
"$CLIENT_VENV/bin/pip" install --quiet chromadb-client pytest numpy httpx
cd "$ROOT"
exec "$CLIENT_VENV/bin/python" -m pytest -q -p no:cacheprovider --rootdir "$ROOT/tests_wire" -c /dev/null tests_wire "$@"
