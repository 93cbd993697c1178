#!/usr/bin/env bash
# The npm `chromadb` client (the JS/TS client of Chroma 1.5.x) against `huedb run`:
# install it into a temp dir, start a server on 127.0.0.1, run tests_js/scenario.mjs under node.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${HUEDB_SERVER_PYTHON:-$ROOT/.venv/bin/python}"
CHROMADB_JS_VERSION="${CHROMADB_JS_VERSION:-3.4.3}"
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

cd "$WORK"
npm init -y >/dev/null
npm install --silent --no-audit --no-fund "chromadb@$CHROMADB_JS_VERSION"
cp "$ROOT/tests_js/scenario.mjs" "$WORK/"

PORT="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
(cd "$ROOT" && exec "$(dirname "$PY")/huedb" run --path "$WORK/data" --host 127.0.0.1 --port "$PORT") >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
  if curl -sf "http://127.0.0.1:$PORT/api/v2/heartbeat" >/dev/null; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then cat "$WORK/server.log"; exit 1; fi
  sleep 0.2
done
if ! node scenario.mjs "$PORT"; then
  echo "--- huedb server log"; cat "$WORK/server.log"; exit 1
fi
