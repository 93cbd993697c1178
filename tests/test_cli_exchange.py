"""``huedb export`` / ``huedb import``: JSON Lines and Parquet, exact float32 round trip,
and a truncated or corrupt file stops at its line/row with nothing written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import huedb
from huedb.cli import build_cli

HUEDB = str(Path(sys.executable).with_name("huedb"))
N = 1234


@pytest.fixture
def src(tmp_path):
    path = tmp_path / "src"
    client = huedb.PersistentClient(path=str(path))
    col = client.create_collection(
        "exp_me",
        embedding_function=None,
        metadata={"owner": "ops"},
        configuration={"hnsw": {"space": "cosine", "ef_search": 55}},
    )
    rng = np.random.default_rng(7)
    emb = rng.normal(size=(N, 12)).astype(np.float32)
    emb[0] = np.float32(1) / np.float32(3)  # values with no short decimal form
    emb[1] = np.nextafter(np.float32(1), np.float32(2))
    col.add(
        ids=[f"id{i}" for i in range(N)],
        embeddings=emb,
        documents=[None if i % 5 == 0 else f"doc {i} ünïcode" for i in range(N)],
        metadatas=[None if i % 7 == 0 else {"i": i, "f": i / 3, "b": i % 2 == 0, "s": "x"} for i in range(N)],
        uris=[f"file:///u/{i}" if i % 3 == 0 else None for i in range(N)],
    )
    return path, col


def snapshot(col):
    got = col.get(include=["embeddings", "documents", "metadatas", "uris"])
    order = np.argsort(got["ids"])
    return (
        [got["ids"][i] for i in order],
        np.asarray(got["embeddings"])[order],
        [got["documents"][i] for i in order],
        [got["metadatas"][i] for i in order],
        [got["uris"][i] for i in order],
    )


def assert_same(a, b):
    assert a[0] == b[0]
    assert a[1].dtype == np.float32 and b[1].dtype == np.float32
    assert np.array_equal(a[1], b[1])  # bit-exact
    assert a[2:] == b[2:]


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_round_trip_is_exact(src, tmp_path, fmt):
    path, col = src
    out = tmp_path / f"dump.{fmt}"
    runner = CliRunner()
    r = runner.invoke(
        build_cli(), ["export", "exp_me", "--path", str(path), "-o", str(out), "--format", fmt, "--batch-size", "500"]
    )
    assert r.exit_code == 0, r.output
    assert f"Exported {N} records" in r.output
    r = runner.invoke(build_cli(), ["import", str(out), "--path", str(tmp_path / "dst")])
    assert r.exit_code == 0, r.output
    dst = huedb.PersistentClient(path=str(tmp_path / "dst")).get_collection("exp_me")
    assert_same(snapshot(col), snapshot(dst))
    assert dst.metadata == {"owner": "ops"}
    assert dst.configuration_json["hnsw"]["space"] == "cosine" and dst.configuration_json["hnsw"]["ef_search"] == 55
    assert dst.configuration_json["embedding_function"] == {"type": "legacy"}  # no EF, as created
    # importing again upserts: same records, no duplicates
    r = runner.invoke(build_cli(), ["import", str(out), "--path", str(tmp_path / "dst")])
    assert r.exit_code == 0 and dst.count() == N


def test_jsonl_layout(src, tmp_path):
    path, _ = src
    out = tmp_path / "d.jsonl"
    assert CliRunner().invoke(build_cli(), ["export", "exp_me", "--path", str(path), "-o", str(out)]).exit_code == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    header, first, end = json.loads(lines[0]), json.loads(lines[1]), json.loads(lines[-1])
    assert header["format"] == "huedb-export" and header["count"] == N and header["collection"]["name"] == "exp_me"
    assert set(first) == {"id", "embedding", "document", "metadata", "uri"}
    assert end == {"end": True, "count": N} and len(lines) == N + 2


def _export(src, tmp_path, fmt="jsonl") -> Path:
    path, _ = src
    out = tmp_path / f"d.{fmt}"
    r = CliRunner().invoke(build_cli(), ["export", "exp_me", "--path", str(path), "-o", str(out), "--format", fmt])
    assert r.exit_code == 0, r.output
    return out


def _nothing_written(dst: Path) -> bool:
    if not dst.exists():
        return True
    return huedb.PersistentClient(path=str(dst)).list_collections() == []


def test_truncated_jsonl_names_the_line_and_writes_nothing(src, tmp_path):
    out = _export(src, tmp_path)
    data = out.read_bytes()
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(data[: len(data) // 2])  # mid-line
    r = CliRunner().invoke(build_cli(), ["import", str(cut), "--path", str(tmp_path / "dst")])
    assert r.exit_code == 1 and "truncated" in r.output
    line = data[: len(data) // 2].count(b"\n") + 1
    assert f"cut.jsonl:{line}:" in r.output
    assert _nothing_written(tmp_path / "dst")
    # cut at a line boundary: the missing end line gives it away
    lines = data.splitlines(keepends=True)
    cut.write_bytes(b"".join(lines[:600]))
    r = CliRunner().invoke(build_cli(), ["import", str(cut), "--path", str(tmp_path / "dst")])
    assert r.exit_code == 1 and "ends after line 600 without its end line" in r.output
    assert _nothing_written(tmp_path / "dst")


def test_corrupt_jsonl_record_names_the_line(src, tmp_path):
    out = _export(src, tmp_path)
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    rec = json.loads(lines[900])
    rec["embedding"][3] = "oops"
    lines[900] = json.dumps(rec) + "\n"
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(lines), encoding="utf-8")
    out2 = subprocess.run(
        [HUEDB, "import", str(bad), "--path", str(tmp_path / "dst")], capture_output=True, text=True, timeout=120
    )
    assert out2.returncode == 1 and "bad.jsonl:901:" in out2.stderr and "Traceback" not in out2.stderr
    assert _nothing_written(tmp_path / "dst")
    lines[901] = "{not json\n"
    lines[900] = json.dumps({**rec, "embedding": [0.5] * 12}) + "\n"
    bad.write_text("".join(lines), encoding="utf-8")
    r = CliRunner().invoke(build_cli(), ["import", str(bad), "--path", str(tmp_path / "dst")])
    assert r.exit_code == 1 and "bad.jsonl:902: not valid JSON" in r.output
    assert _nothing_written(tmp_path / "dst")


def test_truncated_or_corrupt_parquet(src, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = _export(src, tmp_path, "parquet")
    data = out.read_bytes()
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(data[: len(data) - 100])
    r = CliRunner().invoke(build_cli(), ["import", str(cut), "--path", str(tmp_path / "dst")])
    assert r.exit_code == 1 and "truncated or corrupt" in r.output
    assert _nothing_written(tmp_path / "dst")
    # a bad row: metadata that is not JSON, in row 1001
    table = pq.read_table(str(out))
    meta = table.column("metadata").to_pylist()
    meta[1000] = "{broken"
    table = table.set_column(table.schema.get_field_index("metadata"), "metadata", pa.array(meta, pa.string()))
    bad = tmp_path / "bad.parquet"
    pq.write_table(table, str(bad))
    r = CliRunner().invoke(build_cli(), ["import", str(bad), "--path", str(tmp_path / "dst"), "--format", "parquet"])
    assert r.exit_code == 1 and "row 1001: 'metadata' is not valid JSON" in r.output
    assert _nothing_written(tmp_path / "dst")


def test_export_import_as_binaries_with_progress(src, tmp_path):
    path, col = src
    out = tmp_path / "bin.parquet"
    e = subprocess.run(
        [HUEDB, "export", "exp_me", "--path", str(path), "-o", str(out), "--format", "parquet"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert e.returncode == 0, e.stderr
    assert "Exporting exp_me" in e.stderr and f"{N}/{N}" in e.stderr  # the progress bar
    i = subprocess.run(
        [HUEDB, "import", str(out), "--path", str(tmp_path / "dst"), "--name", "renamed"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert i.returncode == 0, i.stderr
    assert "Importing renamed" in i.stderr and f"Imported {N} records into 'renamed'" in i.stdout
    assert_same(snapshot(col), snapshot(huedb.PersistentClient(path=str(tmp_path / "dst")).get_collection("renamed")))


def test_export_of_a_missing_collection_or_path(src, tmp_path):
    path, _ = src
    r = CliRunner().invoke(build_cli(), ["export", "nope", "--path", str(path), "-o", str(tmp_path / "x")])
    assert r.exit_code == 1 and len(r.output.strip().splitlines()) == 1 and "nope" in r.output
    r = CliRunner().invoke(
        build_cli(), ["export", "exp_me", "--path", str(tmp_path / "typo"), "-o", str(tmp_path / "x")]
    )
    assert r.exit_code == 2 and not (tmp_path / "typo").exists()


def test_export_import_keeps_the_index_schema(tmp_path):
    from huedb import Schema, StringInvertedIndexConfig
    from huedb.errors import InvalidArgumentError

    path = tmp_path / "src"
    schema = Schema().delete_index(StringInvertedIndexConfig(), key="genre")
    col = huedb.PersistentClient(path=str(path)).create_collection("exp_schema", schema=schema, embedding_function=None)
    col.add(ids=["a"], embeddings=[[1.0, 2.0]], metadatas=[{"genre": "x"}])
    col.add(ids=["gone"], embeddings=[[1.0, 1.0]], metadatas=[{"only_gone": True}])
    col.delete(ids=["gone"])  # its key stays listed, in the import too
    out = tmp_path / "dump.jsonl"
    runner = CliRunner()
    assert runner.invoke(build_cli(), ["export", "exp_schema", "--path", str(path), "-o", str(out)]).exit_code == 0
    r = runner.invoke(build_cli(), ["import", str(out), "--path", str(tmp_path / "dst")])
    assert r.exit_code == 0, r.output
    dst = huedb.PersistentClient(path=str(tmp_path / "dst")).get_collection("exp_schema")
    assert dst.schema == huedb.PersistentClient(path=str(path)).get_collection("exp_schema").schema
    assert dst.schema.keys["only_gone"].boolean.bool_inverted_index.enabled is True
    with pytest.raises(InvalidArgumentError, match="'genre' with type 'Str'"):
        dst.get(where={"genre": "x"})


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_sparse_vector_metadata_round_trips(tmp_path, fmt):
    """A SparseVector metadata value is written in its #type JSON form and read back as one
    (export used to stop with a TypeError from json.dumps)."""
    path = tmp_path / "src"
    col = huedb.PersistentClient(path=str(path)).create_collection("exp_sparse", embedding_function=None)
    sv = huedb.SparseVector([1, 9], [0.25, 2.0], labels=["a", "b"])
    col.add(ids=["s", "p"], embeddings=[[1.0, 0.0], [0.0, 1.0]], metadatas=[{"sv": sv, "n": 1}, {"note": "x"}])
    out = tmp_path / f"dump.{fmt}"
    runner = CliRunner()
    r = runner.invoke(build_cli(), ["export", "exp_sparse", "--path", str(path), "-o", str(out), "--format", fmt])
    assert r.exit_code == 0, r.output
    r = runner.invoke(build_cli(), ["import", str(out), "--path", str(tmp_path / "dst")])
    assert r.exit_code == 0, r.output
    dst = huedb.PersistentClient(path=str(tmp_path / "dst")).get_collection("exp_sparse")
    assert dst.get(ids=["s", "p"], include=["metadatas"])["metadatas"] == [{"sv": sv, "n": 1}, {"note": "x"}]
