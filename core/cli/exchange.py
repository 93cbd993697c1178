"""``huedb export COLLECTION -o FILE`` and ``huedb import FILE``: JSON Lines or Parquet.

JSON Lines: a header line (collection name, metadata, configuration with the persisted
EF, record count), one line per record, and an end line with the count. Parquet: one row
per record (embedding as list<float32>), the header in the schema metadata.

Embeddings round-trip exactly: a float32 printed by ``repr`` of its float64 value parses
back to the same float32, and Parquet stores float32 itself. An import checks the whole
file first (every line or row, and the end marker that tells a truncated file from a
complete one) and writes nothing when anything is wrong, naming the line or row."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import numpy as np

from huedb.cli.common import Target, target_options
from huedb.cli.records import Batch, collection_header, create_like, iter_batches, write_batch
from huedb.sparse import json_default

FORMAT = "huedb-export"
VERSION = 1
PARQUET_META_KEY = b"huedb"


class ImportFileError(click.ClickException):
    """A bad import file: nothing was written."""

    exit_code = 1


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Any]:
    """A rich progress bar on stderr; ``advance(n)`` moves it."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)


# -- export ---------------------------------------------------------------------------------
def _record_lines(batch: Batch) -> Iterator[str]:
    for i, rid in enumerate(batch.ids):
        emb = None if batch.embeddings is None else batch.embeddings[i].tolist()
        yield json.dumps(
            {
                "id": rid,
                "embedding": emb,
                "document": batch.documents[i],
                "metadata": batch.metadatas[i],
                "uri": batch.uris[i],
            },
            ensure_ascii=False,
            default=json_default,  # a SparseVector metadata value: its #type JSON form
        )


def export_jsonl(collection: Any, out: Path, batch_size: int) -> int:
    total = collection.count()
    header = {"format": FORMAT, "version": VERSION, "collection": collection_header(collection), "count": total}
    written = 0
    tmp = out.with_name(out.name + ".partial")  # a crash never leaves a complete-looking file
    with tmp.open("w", encoding="utf-8") as f, progress_bar(f"Exporting {collection.name}", total) as advance:
        f.write(json.dumps(header, ensure_ascii=False) + "\n")
        for batch in iter_batches(collection, batch_size):
            for line in _record_lines(batch):
                f.write(line + "\n")
            written += len(batch)
            advance(len(batch))
        f.write(json.dumps({"end": True, "count": written}) + "\n")
    tmp.replace(out)
    return written


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise click.ClickException("Parquet needs pyarrow: pip install 'huedb[parquet]'") from None
    return pa, pq


def _parquet_schema(pa: Any, header: dict[str, Any]) -> Any:
    return pa.schema(
        [
            ("id", pa.string()),
            ("embedding", pa.list_(pa.float32())),
            ("document", pa.string()),
            ("metadata", pa.string()),  # JSON text: metadata values mix types across records
            ("uri", pa.string()),
        ],
        metadata={PARQUET_META_KEY: json.dumps(header).encode()},
    )


def export_parquet(collection: Any, out: Path, batch_size: int) -> int:
    pa, pq = _pyarrow()
    total = collection.count()
    header = {"format": FORMAT, "version": VERSION, "collection": collection_header(collection), "count": total}
    schema = _parquet_schema(pa, header)
    written = 0
    tmp = out.with_name(out.name + ".partial")
    with pq.ParquetWriter(str(tmp), schema) as writer, progress_bar(f"Exporting {collection.name}", total) as advance:
        for batch in iter_batches(collection, batch_size):
            n = len(batch)
            if batch.embeddings is None:
                embeddings = pa.array([None] * n, type=pa.list_(pa.float32()))
            else:
                dim = batch.embeddings.shape[1]
                embeddings = pa.ListArray.from_arrays(
                    pa.array(np.arange(0, (n + 1) * dim, dim, dtype=np.int32)), pa.array(batch.embeddings.reshape(-1))
                )
            table = pa.Table.from_arrays(
                [
                    pa.array(batch.ids, pa.string()),
                    embeddings,
                    pa.array(batch.documents, pa.string()),
                    pa.array(
                        [None if m is None else json.dumps(m, default=json_default) for m in batch.metadatas],
                        pa.string(),
                    ),
                    pa.array(batch.uris, pa.string()),
                ],
                schema=schema,
            )
            writer.write_table(table)
            written += n
            advance(n)
    tmp.replace(out)
    return written


# -- import: check everything, then write ------------------------------------------------------
def _check_record(rec: Any, where: str) -> dict[str, Any]:
    if not isinstance(rec, dict):
        raise ImportFileError(f"{where}: expected a record object, got {type(rec).__name__}")
    rid = rec.get("id")
    if not isinstance(rid, str) or not rid:
        raise ImportFileError(f"{where}: the record has no string 'id'")
    emb = rec.get("embedding")
    if emb is not None:
        if (
            not isinstance(emb, list)
            or not emb
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in emb)
        ):
            raise ImportFileError(f"{where}: 'embedding' of {rid!r} must be a non-empty list of numbers")
        if not all(math.isfinite(x) for x in emb):
            raise ImportFileError(f"{where}: 'embedding' of {rid!r} has a NaN or infinite value")
    for key, kind in (("document", str), ("uri", str), ("metadata", dict)):
        value = rec.get(key)
        if value is not None and not isinstance(value, kind):
            raise ImportFileError(f"{where}: {key!r} of {rid!r} must be a {kind.__name__} or null")
    return rec


def _check_header(header: Any, where: str) -> dict[str, Any]:
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ImportFileError(f"{where}: not a huedb export (no {FORMAT!r} header)")
    if header.get("version") != VERSION:
        raise ImportFileError(
            f"{where}: export format version {header.get('version')!r}; this huedb reads version {VERSION}"
        )
    col = header.get("collection")
    if not isinstance(col, dict) or not isinstance(col.get("name"), str):
        raise ImportFileError(f"{where}: the header has no collection name")
    return header


def read_jsonl(path: Path, check_only: bool, batch_size: int) -> tuple[dict[str, Any], Iterator[Batch]]:
    """(header, batches). With ``check_only`` the whole file is validated and no batch is made."""
    header: dict[str, Any] | None = None

    def lines() -> Iterator[tuple[int, Any]]:
        with path.open("r", encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.endswith("\n"):
                    raise ImportFileError(f"{path}:{lineno}: the line is cut short: the file is truncated")
                try:
                    yield lineno, json.loads(line)
                except json.JSONDecodeError as e:
                    raise ImportFileError(f"{path}:{lineno}: not valid JSON ({e.msg})") from None

    it = lines()
    try:
        first = next(it)
    except StopIteration:
        raise ImportFileError(f"{path}: the file is empty") from None
    except UnicodeDecodeError as e:
        raise ImportFileError(f"{path}: not UTF-8 text ({e.reason})") from None
    header = _check_header(first[1], f"{path}:1")

    def records() -> Iterator[tuple[int, dict[str, Any]]]:
        count = 0
        ended = False
        last = 1
        try:
            for lineno, obj in it:
                last = lineno
                if ended:
                    raise ImportFileError(f"{path}:{lineno}: data after the end line")
                if isinstance(obj, dict) and obj.get("end") is True:
                    if obj.get("count") != count:
                        raise ImportFileError(
                            f"{path}:{lineno}: the end line says {obj.get('count')} records, the file has {count}"
                        )
                    ended = True
                    continue
                count += 1
                yield lineno, _check_record(obj, f"{path}:{lineno}")
        except UnicodeDecodeError as e:
            raise ImportFileError(f"{path}: not UTF-8 text after line {last} ({e.reason})") from None
        if not ended:
            raise ImportFileError(f"{path}: ends after line {last} without its end line: the file is truncated")

    if check_only:
        for _ in records():
            pass
        return header, iter(())
    return header, _batched(records(), batch_size)


def _batched(records: Iterator[tuple[int, dict[str, Any]]], batch_size: int) -> Iterator[Batch]:
    batch: list[dict[str, Any]] = []
    for _, rec in records:
        batch.append(rec)
        if len(batch) >= batch_size:
            yield _to_batch(batch)
            batch = []
    if batch:
        yield _to_batch(batch)


def _to_batch(records: list[dict[str, Any]]) -> Batch:
    embs = [r.get("embedding") for r in records]
    return Batch(
        ids=[r["id"] for r in records],
        embeddings=None if any(e is None for e in embs) else np.asarray(embs, dtype=np.float32),
        documents=[r.get("document") for r in records],
        metadatas=[r.get("metadata") or None for r in records],
        uris=[r.get("uri") for r in records],
    )


def read_parquet(path: Path, check_only: bool, batch_size: int) -> tuple[dict[str, Any], Iterator[Batch]]:
    pa, pq = _pyarrow()
    try:
        pf = pq.ParquetFile(str(path))
    except Exception as e:  # noqa: BLE001 - pyarrow raises several types for a bad file
        raise ImportFileError(f"{path}: not a readable Parquet file (truncated or corrupt): {e}") from None
    raw = (pf.schema_arrow.metadata or {}).get(PARQUET_META_KEY)
    if raw is None:
        raise ImportFileError(f"{path}: not a huedb export (no {PARQUET_META_KEY.decode()!r} schema metadata)")
    header = _check_header(json.loads(raw), str(path))
    if pf.metadata.num_rows != header.get("count"):
        raise ImportFileError(
            f"{path}: the header says {header.get('count')} records, the file has {pf.metadata.num_rows} rows"
        )

    def records() -> Iterator[tuple[int, dict[str, Any]]]:
        row = 0
        try:
            for rb in pf.iter_batches(batch_size=batch_size):
                cols = rb.to_pydict()
                for i in range(rb.num_rows):
                    row += 1
                    meta = cols["metadata"][i]
                    try:
                        meta = None if meta is None else json.loads(meta)
                    except ValueError:
                        raise ImportFileError(f"{path}: row {row}: 'metadata' is not valid JSON") from None
                    rec = {
                        "id": cols["id"][i],
                        "embedding": cols["embedding"][i],
                        "document": cols["document"][i],
                        "metadata": meta,
                        "uri": cols["uri"][i],
                    }
                    yield row, _check_record(rec, f"{path}: row {row}")
        except ImportFileError:
            raise
        except Exception as e:  # noqa: BLE001
            raise ImportFileError(f"{path}: row {row + 1}: unreadable ({e})") from None

    if check_only:
        for _ in records():
            pass
        return header, iter(())
    return header, _batched(records(), batch_size)


def detect_format(path: Path) -> str:
    with path.open("rb") as f:
        return "parquet" if f.read(4) == b"PAR1" else "jsonl"


# -- commands ---------------------------------------------------------------------------------
@click.command("export")
@click.argument("collection")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True), help="file to write")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "parquet"]), default="jsonl", show_default=True)
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=1000, show_default=True)
@target_options()
def export_cmd(target: Target, collection: str, output: str, fmt: str, batch_size: int) -> None:
    """Write every record of COLLECTION to a file (JSON Lines or Parquet)."""
    if fmt == "parquet":
        _pyarrow()  # say what to install before reading anything
    client = target.client()
    col = client.get_collection(collection)
    out = Path(output)
    n = (export_parquet if fmt == "parquet" else export_jsonl)(col, out, batch_size)
    click.echo(f"Exported {n} records of {collection!r} to {out} ({fmt})")


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--name", default=None, help="collection name (default: the one in the file)")
@click.option("--format", "fmt", type=click.Choice(["auto", "jsonl", "parquet"]), default="auto", show_default=True)
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=1000, show_default=True)
@target_options(must_exist=False)
def import_cmd(target: Target, file: str, name: str | None, fmt: str, batch_size: int) -> None:
    """Upsert the records of an exported FILE into a collection (created if missing)."""
    path = Path(file)
    fmt = detect_format(path) if fmt == "auto" else fmt
    reader = read_parquet if fmt == "parquet" else read_jsonl
    header, _ = reader(path, True, batch_size)  # the whole file is checked before anything is written
    count = int(header.get("count") or 0)
    meta = header["collection"]
    client = target.client()
    col = create_like(
        client, name or meta["name"], meta.get("configuration") or {}, meta.get("metadata"), meta.get("schema")
    )
    _, batches = reader(path, False, batch_size)
    done = 0
    with progress_bar(f"Importing {col.name}", count) as advance:
        for batch in batches:
            write_batch(col, batch)
            done += len(batch)
            advance(len(batch))
    click.echo(f"Imported {done} records into {col.name!r} at {target.describe()}")


def register(cli: click.Group) -> None:
    cli.add_command(export_cmd)
    cli.add_command(import_cmd)
