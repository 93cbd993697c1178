"""The ``huedb`` command line: ``plugins``, ``run``, ``vacuum``, ``bench``."""
from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional

from huedb.registry import KINDS, get_registry


def _plugins(args: argparse.Namespace) -> int:
    rows = get_registry().describe(include_all=args.all, kind=args.kind)
    print(json.dumps(rows, indent=2))
    return 0


def _vacuum(args: argparse.Namespace) -> int:
    import huedb

    client = huedb.PersistentClient(path=args.path)
    try:
        client._vacuum()
    finally:
        client.close()
    print(f"Vacuumed {args.path}")
    return 0


def _run(argv: List[str]) -> int:
    try:
        from huedb.server.run import main as run_main
    except ImportError as e:
        print(f"The server needs the [server] extra: pip install 'huedb[server]' ({e})", file=sys.stderr)
        return 2
    return run_main(argv)


def _bench(argv: List[str]) -> int:
    try:
        from bench.__main__ import main as bench_main
    except ImportError:
        print("The benchmark harness lives in the source tree: run `python -m bench` from a checkout", file=sys.stderr)
        return 2
    return bench_main(argv) or 0


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # `run` and `bench` own their arguments.
    if argv and argv[0] == "run":
        return _run(argv[1:])
    if argv and argv[0] == "bench":
        return _bench(argv[1:])
    parser = argparse.ArgumentParser(prog="huedb", description="huedb: a vector database that speaks Chroma's API")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("plugins", help="list installed plugins as JSON")
    p.add_argument("--all", action="store_true", help="include huedb's built-in plugins")
    p.add_argument("--kind", choices=sorted(KINDS), help="only plugins of this kind")
    p.set_defaults(func=_plugins)
    v = sub.add_parser("vacuum", help="reclaim disk space of a persistent database")
    v.add_argument("--path", required=True, help="the PersistentClient path")
    v.set_defaults(func=_vacuum)
    sub.add_parser("run", help="run the HTTP server (see `huedb run --help`)")
    sub.add_parser("bench", help="run the benchmark harness (see `huedb bench --help`)")
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
