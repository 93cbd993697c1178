"""``huedb copy``: collections from one place to another, in batches, by upsert.

Sources: a local path, a huedb or Chroma server (REST API v2, through huedb's HttpClient),
a saved profile, or a Chroma persist directory (``--from-chroma-dir``: the migration path,
read with chromadb). Targets: a local path, a server, a profile. Copying upserts, so a
second run, or a run after an interruption, ends with the same records and no duplicates.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np

from huedb.cli.common import CHROMA_DB_FILE, DEFAULT_DATABASE, DEFAULT_TENANT, Target, resolve_target
from huedb.cli.exchange import progress_bar
from huedb.cli.records import Batch, collection_header, create_like, iter_batches, write_batch

CHROMA_PYTHON_ENV = "HUEDB_CHROMA_PYTHON"
CHROMA_INSTALL_HINT = (
    "reading a Chroma persist directory needs chromadb (the version that wrote it, e.g. 1.5.9). "
    "Install it in its own venv: `python3 -m venv chroma-venv && chroma-venv/bin/pip install chromadb==1.5.9`, "
    f"then pass `--chroma-python chroma-venv/bin/python` (or set ${CHROMA_PYTHON_ENV}); "
    "or `pip install chromadb==1.5.9` into this environment"
)


@dataclass
class SourceCollection:
    header: dict[str, Any]  # name, metadata, configuration
    count: int | None
    batches: Iterator[Batch]


def _api_collections(target: Target, names: list[str] | None, batch_size: int) -> Iterator[SourceCollection]:
    client = target.client()
    try:
        if names is None:
            names = [c.name for c in client.list_collections()]
        for name in names:
            col = client.get_collection(name)
            yield SourceCollection(collection_header(col), col.count(), iter_batches(col, batch_size))
    finally:
        client.close()  # a PostgreSQL source's connection pool, too


def find_chroma_python(given: str | None) -> str:
    """The Python that reads a Chroma directory: --chroma-python, $HUEDB_CHROMA_PYTHON, or this one."""
    chosen = given or os.environ.get(CHROMA_PYTHON_ENV)
    if chosen:
        if not Path(chosen).exists():
            raise click.BadParameter(f"{chosen} does not exist", param_hint="'--chroma-python'")
        return chosen
    if importlib.util.find_spec("chromadb") is not None:
        return sys.executable
    raise click.UsageError(CHROMA_INSTALL_HINT)


def _chroma_dir_collections(
    path: str, names: list[str] | None, tenant: str, database: str, python: str, batch_size: int
) -> Iterator[SourceCollection]:
    reader = Path(__file__).with_name("chroma_reader.py")
    cmd = [
        python,
        str(reader),
        path,
        *(names or []),
        "--tenant",
        tenant,
        "--database",
        database,
        "--batch-size",
        str(batch_size),
    ]
    # -I keeps the reader from importing anything from the current directory.
    cmd.insert(1, "-I")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
    assert proc.stdout is not None
    lines = iter(proc.stdout)

    def fail(message: str) -> None:
        proc.kill()
        stderr = proc.stderr.read() if proc.stderr else ""
        proc.wait()
        if "No module named 'chromadb'" in stderr:
            raise click.UsageError(f"{python} has no chromadb: {CHROMA_INSTALL_HINT}")
        tail = stderr.strip().splitlines()[-1:] or [""]
        raise click.ClickException(f"reading the Chroma directory {path} failed: {message} {tail[0]}".strip())

    def next_obj() -> dict[str, Any]:
        line = next(lines, None)
        if line is None:
            fail("the reader stopped early.")
        obj = json.loads(line)  # type: ignore[arg-type]
        if "error" in obj:
            fail(obj["error"])
        return obj

    try:
        while True:
            obj = next_obj()
            if obj.get("done"):
                break
            header = obj["collection"]

            def batches() -> Iterator[Batch]:
                while True:
                    item = next_obj()
                    if "end" in item:
                        return
                    b = item["batch"]
                    n = len(b["ids"])
                    embs = b.get("embeddings")
                    yield Batch(
                        ids=b["ids"],
                        embeddings=None if embs is None else np.asarray(embs, dtype=np.float32),
                        documents=b.get("documents") or [None] * n,
                        metadatas=[m or None for m in (b.get("metadatas") or [None] * n)],
                        uris=b.get("uris") or [None] * n,
                    )

            yield SourceCollection(
                {
                    "name": header["name"],
                    "metadata": header.get("metadata"),
                    "configuration": header.get("configuration") or {},
                },
                header.get("count"),
                batches(),
            )
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def copy_collections(sources: Iterator[SourceCollection], target: Target) -> list[tuple[str, int]]:
    client = target.client()
    done: list[tuple[str, int]] = []
    try:
        for src in sources:
            name = src.header["name"]
            dest = create_like(
                client,
                name,
                src.header.get("configuration") or {},
                src.header.get("metadata"),
                src.header.get("schema"),
            )
            copied = 0
            with progress_bar(f"Copying {name}", src.count) as advance:
                for batch in src.batches:
                    write_batch(dest, batch)
                    copied += len(batch)
                    advance(len(batch))
            done.append((name, copied))
    finally:
        client.close()
    return done


@click.command("copy")
@click.argument("collections", nargs=-1)
@click.option("--all", "copy_all", is_flag=True, help="copy every collection of the source")
@click.option("--from-path", default=None, help="source: a local huedb database directory")
@click.option("--from-chroma-dir", default=None, help="source: a Chroma persist directory (migration)")
@click.option("--from-host", default=None, help="source: a huedb or Chroma server")
@click.option("--from-port", type=click.IntRange(1, 65535), default=None)
@click.option("--from-ssl", is_flag=True, default=False)
@click.option("--from-profile", default=None, help="source: a saved profile")
@click.option("--from-postgres-url", default=None, help="source: a PostgreSQL database (the [postgres] extra)")
@click.option("--from-tenant", default=None)
@click.option("--from-db", default=None)
@click.option("--to-path", default=None, help="target: a local huedb database directory (created if missing)")
@click.option("--to-host", default=None, help="target: a huedb or Chroma server")
@click.option("--to-port", type=click.IntRange(1, 65535), default=None)
@click.option("--to-ssl", is_flag=True, default=False)
@click.option("--to-profile", default=None, help="target: a saved profile")
@click.option("--to-postgres-url", default=None, help="target: a PostgreSQL database (the [postgres] extra)")
@click.option("--to-tenant", default=None)
@click.option("--to-db", default=None)
@click.option(
    "--chroma-python", default=None, help=f"a Python with chromadb, to read --from-chroma-dir (or ${CHROMA_PYTHON_ENV})"
)
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=1000, show_default=True)
def copy_cmd(
    collections: tuple[str, ...],
    copy_all: bool,
    from_path: str | None,
    from_chroma_dir: str | None,
    from_host: str | None,
    from_port: int | None,
    from_ssl: bool,
    from_profile: str | None,
    from_postgres_url: str | None,
    from_tenant: str | None,
    from_db: str | None,
    to_path: str | None,
    to_host: str | None,
    to_port: int | None,
    to_ssl: bool,
    to_profile: str | None,
    to_postgres_url: str | None,
    to_tenant: str | None,
    to_db: str | None,
    chroma_python: str | None,
    batch_size: int,
) -> None:
    """Copy collections: `huedb copy --all ...` or `huedb copy [collections] C1 C2 ...`."""
    names = list(collections)
    if names and names[0] == "collections":  # Chroma's spelling: `copy ... collections c1 c2`
        names = names[1:]
    if copy_all == bool(names):
        raise click.UsageError("name the collections to copy, or give --all (not both)")
    _one_place("from", from_postgres_url, from_path, from_host, from_profile, from_chroma_dir)
    _one_place("to", to_postgres_url, to_path, to_host, to_profile)
    if from_chroma_dir is not None:
        if any(v is not None for v in (from_path, from_host, from_profile)):
            raise click.UsageError(
                "'--from-chroma-dir' conflicts with '--from-path', '--from-host' and '--from-profile'"
            )
        if not (Path(from_chroma_dir) / CHROMA_DB_FILE).is_file():
            raise click.BadParameter(
                f"no Chroma database ({CHROMA_DB_FILE}) at {from_chroma_dir}", param_hint="'--from-chroma-dir'"
            )
    elif from_path is None and from_host is None and from_profile is None and from_postgres_url is None:
        raise click.UsageError(
            "say where to copy from: --from-path, --from-chroma-dir, --from-host, --from-profile or --from-postgres-url"
        )
    if to_path is None and to_host is None and to_profile is None and to_postgres_url is None:
        raise click.UsageError("say where to copy to: --to-path, --to-host, --to-profile or --to-postgres-url")
    if to_postgres_url is not None:
        target = _postgres(to_postgres_url, to_tenant, to_db)
    else:
        target = resolve_target(
            to_path, to_host, to_port, to_ssl, to_profile, to_tenant, to_db, must_exist=False, prefix="to-"
        )
    wanted = None if copy_all else names
    if from_chroma_dir is not None:
        python = find_chroma_python(chroma_python)
        if to_path is not None and Path(to_path).resolve() == Path(from_chroma_dir).resolve():
            raise click.BadParameter(
                "the target must be a new directory, not the Chroma directory itself", param_hint="'--to-path'"
            )
        sources = _chroma_dir_collections(
            from_chroma_dir, wanted, from_tenant or "default_tenant", from_db or "default_database", python, batch_size
        )
    else:
        if from_postgres_url is not None:
            source = _postgres(from_postgres_url, from_tenant, from_db)
        else:
            source = resolve_target(
                from_path, from_host, from_port, from_ssl, from_profile, from_tenant, from_db, prefix="from-"
            )
        sources = _api_collections(source, wanted, batch_size)
    done = copy_collections(sources, target)
    for name, n in done:
        click.echo(f"Copied {n} records of {name!r} to {target.describe()}")
    if not done:
        click.echo("No collections to copy")


def _one_place(side: str, postgres_url: str | None, *others: str | None) -> None:
    if postgres_url is not None and any(v is not None for v in others):
        raise click.UsageError(f"'--{side}-postgres-url' conflicts with the other --{side}-* places")


def _postgres(url: str, tenant: str | None, database: str | None) -> Target:
    return Target(postgres_url=url, tenant=tenant or DEFAULT_TENANT, database=database or DEFAULT_DATABASE)


def register(cli: click.Group) -> None:
    cli.add_command(copy_cmd)
