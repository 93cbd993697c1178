"""Runs chromadb 1.5.9's own test modules, from its installed wheel, against huedb.

Usage (from .ci/chroma_tests.sh, in the venv holding both chromadb and huedb):
    python tests_chroma/run.py [--against-chroma] [pytest args...]

The client fixtures and constructors are huedb's (tests_chroma/huedb_chroma_adapter.py).
What is left out, and why, is listed in EXCLUDED; docs/chroma-tests.md has the results.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import chromadb
import pytest

CHROMA_TESTS = Path(chromadb.__file__).parent / "test"

#: the API-level modules: they drive a client (or a client's constructors) as a user's code does
INCLUDED = [
    "api",
    "configurations",
    "property",
    "client/test_database_tenant.py",
    "client/test_multiple_clients_concurrency.py",
    "client/test_create_http_client.py",
    "test_api.py",
    "test_client.py",
    "test_multithreaded.py",
]

#: chromadb test paths left out, with the reason (never run here)
EXCLUDED = {
    "segment": "Chroma's segment implementations (internals)",
    "distributed": "Chroma's distributed deployment (needs a Chroma cluster)",
    "db": "Chroma's SQLite log/sysdb (internals)",
    "stress": "Chroma internals under load (segment cache, sysdb)",
    "auth": "Chroma's server auth classes and their RBAC config (internals; huedb's auth has its own tests)",
    "client/test_cloud_client.py": "Chroma Cloud (needs the internet and an account)",
    "client/test_database_tenant_auth.py": "Chroma's server auth fixtures (internals)",
    "ef": "chromadb's own embedding function classes (not the client; huedb's EFs have their own tests)",
    "data_loader": "chromadb's own ImageLoader class",
    "utils": "chromadb's own helper functions",
    "test_chroma.py": "chromadb's System dependency injection (internals)",
    "test_config.py": "chromadb's System/component lifecycle (internals)",
    "test_cli.py": "chromadb's CLI (huedb's CLI has its own tests)",
    "property/test_cross_version_persist.py": "pip-installs older chromadb versions (Chroma's file format)",
    "property/test_add_mcmr.py": "multi-region Chroma cluster only",
}


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(Path(__file__).parent))
    os.environ.setdefault("PROPERTY_TESTING_PRESET", "fast")
    # Chroma's local mode (its Rust bindings and single-node server), which huedb matches
    # embedded and served: a spann configuration is mapped onto HNSW, not kept.
    os.environ.setdefault("CHROMA_RUST_BINDINGS_TEST_ONLY", "1")
    paths = [str(CHROMA_TESTS / p) for p in INCLUDED]
    # Explicit node ids on the command line replace the default selection.
    if any(a.startswith(str(CHROMA_TESTS)) or a.startswith("chromadb/") for a in argv):
        paths = []
        argv = [str(CHROMA_TESTS.parent.parent / a) if a.startswith("chromadb/") else a for a in argv]
    ignores = [f"--ignore={CHROMA_TESTS / p}" for p in EXCLUDED]
    # --against-chroma: the same selection on chromadb itself (its own fixtures), to tell a
    # huedb difference from a test that fails on chromadb too.
    adapter = "--against-chroma" not in argv
    argv = [a for a in argv if a != "--against-chroma"]
    args = ["-p", "huedb_chroma_adapter"] if adapter else []
    args += ["-p", "no:cacheprovider", "-p", "no:huedb"]
    args += ["--rootdir", str(CHROMA_TESTS.parent.parent), "-c", os.devnull, "-o", "asyncio_mode=auto"]
    # importlib: chromadb/test/api and chromadb/test/property both hold a test_schema.py
    args += ["--import-mode=importlib"]
    return int(pytest.main(args + ignores + paths + argv))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
