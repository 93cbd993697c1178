#!/usr/bin/env bash
# CI step for the `clip` marker: OpenCLIP tests in their own venv.
#
# open-clip-torch brings torch + torchvision from PyPI (CUDA wheels, which run
# fine on CPU). It lives in a separate venv because the main venv's CPU-only
# torch build does not work with torchvision. Nothing is downloaded at test
# time: the tests use random weights (checkpoint=None).
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
VENV="${CLIP_VENV:-.venv-clip}"

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet open-clip-torch
"$VENV/bin/python" -m pip install --quiet -e ".[test]"

# `-m clip` replaces the default `-m 'not slow and not clip'` from pyproject.toml.
exec "$VENV/bin/python" -m pytest -m clip -p no:cacheprovider "$@"
