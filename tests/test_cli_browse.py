"""``huedb browse``: the Textual app driven by Pilot, and the real binary in tmux."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import huedb
from huedb.cli import build_cli
from huedb.cli.browse import PAGE, QueryState, make_app, parse_value


def make_db(path: Path, n: int = 250) -> Any:
    client = huedb.PersistentClient(path=str(path))
    col = client.create_collection("browse_me", embedding_function=None)
    col.add(
        ids=[f"rec-{i:04d}" for i in range(n)],
        embeddings=[[float(i), 1.0] for i in range(n)],
        documents=[f"document {i} " + ("long text " * 20 if i == 0 else "") for i in range(n)],
        metadatas=[{"i": i, "kind": "even" if i % 2 == 0 else "odd"} for i in range(n)],
    )
    return col


@pytest.fixture
def col(tmp_path):
    return make_db(tmp_path / "db")


def run(coro):
    return asyncio.run(coro)


def test_first_page_then_more_as_the_cursor_moves_down(col):
    async def go():
        app = make_app(col)
        async with app.run_test(size=(120, 40)) as pilot:
            table = app.query_one("DataTable")
            assert table.row_count == PAGE
            assert len(app.records) == PAGE and app.records[0][0] == "rec-0000"
            table.move_cursor(row=PAGE - 1)
            await pilot.pause()
            assert table.row_count == 200
            table.move_cursor(row=199)
            await pilot.pause()
            assert table.row_count == 250 and app.exhausted
            status = str(app.query_one("#status").render())
            assert "250 rows of all records" in status

    run(go())


def test_return_expands_a_cell_and_escape_closes_it(col):
    async def go():
        app = make_app(col)
        async with app.run_test(size=(120, 40)) as pilot:
            table = app.query_one("DataTable")
            table.move_cursor(row=0, column=1)
            await pilot.press("enter")
            await pilot.pause()
            text = str(app.screen.query_one("#cell-text").render())
            assert text.startswith("document 0 long text") and text.count("long text") == 20
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is app.screen_stack[0]

    run(go())


def test_query_editor_edit_toggle_submit_clear(col):
    async def go():
        app = make_app(col)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("s")
            await pilot.pause()
            editor = app.screen
            assert editor.query_one("#key").disabled  # not editing yet
            await pilot.press("e")
            await pilot.press(*"i")
            await pilot.press("tab")  # to the operator
            await pilot.press("space", "space")  # $eq -> $ne -> $gt
            assert editor.query_one("#op").value == "$gt"
            await pilot.press("tab", *"245")
            await pilot.press("escape")  # leave edit mode
            assert editor.query_one("#key").disabled
            await pilot.press("enter")  # run
            await pilot.pause()
            assert [r[0] for r in app.records] == ["rec-0246", "rec-0247", "rec-0248", "rec-0249"]
            assert app.query_one("DataTable").row_count == 4
            # s: back to the editor, fields kept
            await pilot.press("s")
            await pilot.pause()
            assert app.screen.query_one("#key").value == "i" and app.screen.query_one("#value").value == "245"
            # document filter, with the operator toggled to $not_contains
            await pilot.press("e", "tab", "tab", "tab", "space")
            assert app.screen.query_one("#doc_op").value == "$not_contains"
            await pilot.press("tab", *"8")
            await pilot.press("enter")
            await pilot.pause()
            assert [r[0] for r in app.records] == ["rec-0246", "rec-0247", "rec-0249"]
            await pilot.press("s")
            await pilot.pause()
            await pilot.press("c")  # clear
            assert app.screen.query_one("#key").value == "" and app.screen.query_one("#doc_text").value == ""
            assert app.screen.query_one("#op").value == "$eq"
            await pilot.press("escape")  # leave the editor
            await pilot.pause()
            await pilot.press("escape")  # back to all records
            await pilot.pause()
            assert app.active is None and app.query_one("DataTable").row_count == PAGE

    run(go())


def test_a_bad_query_is_shown_not_fatal(col):
    async def go():
        app = make_app(col)
        async with app.run_test(size=(120, 40)) as pilot:
            app.query_state.doc_op, app.query_state.doc_text = "$regex", "("
            await pilot.press("s")
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            assert app.error and "InvalidArgumentError" in app.error
            assert app.query_one("DataTable").row_count == 0

    run(go())


def test_parse_value_and_query_state():
    assert parse_value("3") == 3 and parse_value("2.5") == 2.5 and parse_value("true") is True
    assert parse_value("hello") == "hello" and parse_value('"7"') == "7" and parse_value("[1]") == "[1]"
    state = QueryState(key="i", op="$gte", value="3", doc_op="$contains", doc_text="x")
    assert state.where() == {"i": {"$gte": 3}} and state.where_document() == {"$contains": "x"}
    assert QueryState().where() is None and QueryState().describe() == "all records"


def test_theme_is_remembered(tmp_path, monkeypatch, col):
    monkeypatch.setenv("HUEDB_CONFIG_DIR", str(tmp_path / "cfg"))
    ran = []
    monkeypatch.setattr("textual.app.App.run", lambda self, *a, **k: ran.append(self))
    result = CliRunner().invoke(
        build_cli(), ["browse", "browse_me", "--path", str(tmp_path / "db"), "--theme", "light"]
    )
    assert result.exit_code == 0, result.output
    assert len(ran) == 1
    import json

    assert json.loads((tmp_path / "cfg" / "config.json").read_text())["theme"] == "light"
    assert oct((tmp_path / "cfg" / "config.json").stat().st_mode & 0o777) == "0o600"


def test_bad_arguments(tmp_path):
    runner = CliRunner()
    result = runner.invoke(build_cli(), ["browse", "x", "--path", str(tmp_path / "nothing")])
    assert result.exit_code == 2 and "no huedb database" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(build_cli(), ["browse", "x", "--path", str(tmp_path), "--theme", "pink"])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=30, check=True).stdout


def test_the_real_binary_in_tmux_shows_the_rows(tmp_path):
    make_db(tmp_path / "db")
    huedb_bin = Path(sys.executable).with_name("huedb")
    session = f"huedb-browse-{uuid.uuid4().hex[:8]}"
    env = f"HUEDB_CONFIG_DIR={tmp_path / 'cfg'}"
    _tmux(
        "new-session",
        "-d",
        "-s",
        session,
        "-x",
        "140",
        "-y",
        "40",
        f"env {env} {huedb_bin} browse browse_me --path {tmp_path / 'db'}",
    )
    try:
        subprocess.run(["tmux", "resize-window", "-t", session, "-x", "140", "-y", "40"], capture_output=True)
        deadline = time.monotonic() + 60
        screen = ""
        while time.monotonic() < deadline:
            screen = _tmux("capture-pane", "-p", "-t", session)
            if "rec-0000" in screen and "rec-0005" in screen:
                break
            time.sleep(0.3)
        assert "rec-0000" in screen and "document 1" in screen and '{"i": 1,' in screen, screen
        _tmux("send-keys", "-t", session, "q")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if subprocess.run(["tmux", "has-session", "-t", session], capture_output=True).returncode != 0:
                break
            time.sleep(0.2)
        assert subprocess.run(["tmux", "has-session", "-t", session], capture_output=True).returncode != 0, (
            "q did not quit"
        )
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def test_sparse_vector_metadata_shows_in_its_json_form(tmp_path):
    """A metadata value that is a SparseVector (a BM25 key, say) is shown, and expanded, as its
    #type JSON; it used to stop the app with a TypeError from json.dumps."""
    client = huedb.PersistentClient(path=str(tmp_path / "db"))
    col = client.create_collection("sparse_browse", embedding_function=None)
    col.add(ids=["s"], embeddings=[[1.0, 0.0]], metadatas=[{"sv": huedb.SparseVector([2, 5], [0.5, 1.0]), "n": 1}])

    async def go():
        app = make_app(col)
        async with app.run_test(size=(120, 40)) as pilot:
            table = app.query_one("DataTable")
            assert table.row_count == 1
            assert '"#type": "sparse_vector"' in str(table.get_cell_at((0, 2)))
            table.move_cursor(row=0, column=2)
            await pilot.press("enter")
            await pilot.pause()
            text = str(app.screen.query_one("#cell-text").render())
            assert '"indices": [' in text and '"n": 1' in text

    run(go())
