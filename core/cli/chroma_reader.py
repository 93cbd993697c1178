"""Reads a Chroma persist directory with chromadb and writes it as JSON lines on stdout.

Run by ``huedb copy --from-chroma-dir`` with a Python that has chromadb installed (often a
separate venv: chromadb and huedb need not share one). It imports nothing from huedb, so
it runs as a plain script:

    python chroma_reader.py DIR [NAME ...] [--tenant T] [--database D] [--batch-size N]

Lines: {"collection": {...}}, then {"batch": {...}} per batch, then {"end": name}; finally
{"done": true}. A failure is {"error": "..."} and exit code 1. Embeddings are written as
the float64 values of their float32s, which read back as the same float32s.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, TextIO


def _plain(value: Any) -> Any:
    """numpy arrays and scalars to JSON values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def _emit(out: TextIO, obj: dict[str, Any]) -> None:
    out.write(json.dumps(obj, ensure_ascii=False, default=_plain) + "\n")
    out.flush()


def dump(path: str, names: list[str] | None, tenant: str, database: str, batch_size: int, out: TextIO) -> None:
    import chromadb
    from chromadb.config import Settings

    client = chromadb.PersistentClient(
        path=path, settings=Settings(anonymized_telemetry=False, allow_reset=False), tenant=tenant, database=database
    )
    if names is None:
        names = [c.name for c in client.list_collections()]
    for name in names:
        col = client.get_collection(name)
        config = col.configuration_json or {}
        _emit(
            out,
            {"collection": {"name": col.name, "metadata": col.metadata, "configuration": config, "count": col.count()}},
        )
        offset = 0
        while True:
            got = col.get(limit=batch_size, offset=offset, include=["embeddings", "documents", "metadatas", "uris"])
            n = len(got["ids"])
            if n == 0:
                break
            embeddings = got.get("embeddings")
            _emit(
                out,
                {
                    "batch": {
                        "ids": list(got["ids"]),
                        "embeddings": None if embeddings is None else [_plain(e) for e in embeddings],
                        "documents": got.get("documents"),
                        "metadatas": got.get("metadatas"),
                        "uris": got.get("uris"),
                    }
                },
            )
            offset += n
            if n < batch_size:
                break
        _emit(out, {"end": name})
    _emit(out, {"done": True})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="chroma_reader")
    p.add_argument("path")
    p.add_argument("names", nargs="*")
    p.add_argument("--tenant", default="default_tenant")
    p.add_argument("--database", default="default_database")
    p.add_argument("--batch-size", type=int, default=1000)
    args = p.parse_args(argv)
    # Our JSON goes to the real stdout; anything chromadb prints goes to stderr.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout = sys.stderr
    try:
        dump(args.path, args.names or None, args.tenant, args.database, args.batch_size, out)
    except Exception as e:  # noqa: BLE001 - reported to the parent as one JSON line
        _emit(out, {"error": f"{type(e).__name__}: {e}"})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
