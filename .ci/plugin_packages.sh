#!/usr/bin/env bash
# Installs the two third-party plugin packages used by tests/test_third_party_plugins.py
# into the test venv (regular, non-editable installs, as a user would install a plugin):
#   huedb-example-plugins  one plugin of each kind, through the `huedb` entry-point group
#   huedb-broken-plugin    an entry point whose import fails
# They depend only on huedb and numpy, which the venv already has, so nothing is downloaded
# when setuptools and wheel are present (we then build without an isolated build env).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"

build_flags=()
if "$PYTHON" -c "import setuptools, wheel" 2>/dev/null; then
    build_flags+=(--no-build-isolation)
fi
"$PYTHON" -m pip install --quiet --no-deps --force-reinstall "${build_flags[@]}" \
    ./tests/plugin_packages/huedb-example-plugins \
    ./tests/plugin_packages/huedb-broken-plugin
# pip builds in the source tree; leave it as it was.
rm -rf tests/plugin_packages/*/build tests/plugin_packages/*/*.egg-info
