"""``huedb browse COLLECTION``: a terminal browser of a collection (Textual).

The main view is a table of ids, documents and metadata: 100 rows load first and more
as the cursor nears the end; Return expands a cell. ``s`` opens the query editor for
``get()`` with where / where_document: ``e`` edits, space toggles the focused operator,
Esc leaves editing (and, outside editing, the editor), ``c`` clears, Return runs the
query. In the results, ``s`` goes back to the editor (its fields kept) and Esc back to
all records. ``--theme light|dark`` is remembered in the user config."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import click

from huedb.cli.common import Target, load_config, save_config, target_options
from huedb.sparse import json_default

PAGE = 100
#: characters of a document or metadata shown in a table cell (Return shows all)
CELL_WIDTH = 48
META_OPS = ["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"]
DOC_OPS = ["$contains", "$not_contains", "$regex"]
THEMES = {"dark": "textual-dark", "light": "textual-light"}


@dataclass
class QueryState:
    """The editor's fields; kept on the app so edits survive leaving the editor."""

    key: str = ""
    op: str = "$eq"
    value: str = ""
    doc_op: str = "$contains"
    doc_text: str = ""

    def where(self) -> dict[str, Any] | None:
        if not self.key.strip():
            return None
        return {self.key.strip(): {self.op: parse_value(self.value)}}

    def where_document(self) -> dict[str, Any] | None:
        return {self.doc_op: self.doc_text} if self.doc_text else None

    def describe(self) -> str:
        parts = [json.dumps(x) for x in (self.where(), self.where_document()) if x]
        return " and ".join(parts) or "all records"


def parse_value(text: str) -> Any:
    """A number, true/false, or a JSON string as such; anything else is the text itself."""
    text = text.strip()
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, (int, float, bool, str)) else text


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=json_default)


def shorten(text: str, width: int = CELL_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _textual() -> None:
    try:
        import textual  # noqa: F401
    except ImportError:
        raise click.ClickException("the browser needs Textual: pip install 'huedb[browse]'") from None


def make_app(collection: Any, theme: str = "dark", page: int = PAGE) -> Any:
    """The Textual app over a huedb (or chromadb-compatible) Collection."""
    from textual.app import App, ComposeResult
    from textual.binding import Binding
    from textual.containers import Horizontal, Vertical, VerticalScroll
    from textual.screen import ModalScreen, Screen
    from textual.widgets import DataTable, Footer, Header, Input, Label, Static

    class CellScreen(ModalScreen[None]):
        BINDINGS = [Binding("escape,enter,q", "dismiss", "Close")]

        def __init__(self, title: str, text: str) -> None:
            super().__init__()
            self.title_text, self.text = title, text

        def compose(self) -> ComposeResult:
            with VerticalScroll(id="cell"):
                yield Label(self.title_text, id="cell-title")
                yield Static(self.text, id="cell-text", markup=False)

        def action_dismiss(self) -> None:  # type: ignore[override]
            self.dismiss(None)

    class OperatorToggle(Static, can_focus=True):
        """An operator; space (in edit mode) moves to the next one."""

        BINDINGS = [Binding("space", "next_operator", "Toggle operator")]

        def __init__(self, choices: list[str], value: str, **kwargs: Any) -> None:
            super().__init__(value, **kwargs)
            self.choices, self.value = choices, value

        def action_next_operator(self) -> None:  # not action_toggle, which textual's DOMNode defines
            if self.disabled:
                return
            self.value = self.choices[(self.choices.index(self.value) + 1) % len(self.choices)]
            self.update(self.value)

        def set(self, value: str) -> None:
            self.value = value
            self.update(value)

    class QueryScreen(Screen[QueryState | None]):
        BINDINGS = [
            Binding("e", "edit", "Edit"),
            Binding("c", "clear", "Clear"),
            Binding("escape", "leave", "Stop editing / back"),
            Binding("enter", "submit", "Run query"),
        ]

        def __init__(self, state: QueryState) -> None:
            super().__init__()
            self.state = state
            self.editing = False

        def compose(self) -> ComposeResult:
            yield Header()
            with Vertical(id="query"):
                yield Label("get() where (metadata)")
                with Horizontal(classes="row"):
                    yield Input(self.state.key, placeholder="key", id="key", disabled=True)
                    yield OperatorToggle(META_OPS, self.state.op, id="op", disabled=True)
                    yield Input(
                        self.state.value, placeholder="value (number, true/false or text)", id="value", disabled=True
                    )
                yield Label("where_document")
                with Horizontal(classes="row"):
                    yield OperatorToggle(DOC_OPS, self.state.doc_op, id="doc_op", disabled=True)
                    yield Input(self.state.doc_text, placeholder="text", id="doc_text", disabled=True)
                yield Static("e: edit   space: toggle operator   Esc: stop editing   c: clear   Return: run", id="help")
            yield Footer()

        def _widgets(self) -> list[Any]:
            return [self.query_one(f"#{n}") for n in ("key", "op", "value", "doc_op", "doc_text")]

        def _save(self) -> None:
            key, op, value, doc_op, doc_text = self._widgets()
            self.state.key, self.state.op, self.state.value = key.value, op.value, value.value
            self.state.doc_op, self.state.doc_text = doc_op.value, doc_text.value

        def action_edit(self) -> None:
            self.editing = True
            for w in self._widgets():
                w.disabled = False
            self.query_one("#key").focus()

        def action_leave(self) -> None:
            if self.editing:
                self._save()
                self.editing = False
                for w in self._widgets():
                    w.disabled = True
                self.set_focus(None)
            else:
                self._save()
                self.dismiss(None)

        def action_clear(self) -> None:
            if self.editing and isinstance(self.focused, Input):
                return  # "c" is a letter being typed
            key, op, value, doc_op, doc_text = self._widgets()
            key.value = value.value = doc_text.value = ""
            op.set(META_OPS[0])
            doc_op.set(DOC_OPS[0])
            self._save()

        def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
            # Letters are text while an input has focus.
            if action in ("edit", "clear") and isinstance(self.focused, Input):
                return False
            return True

        def on_input_submitted(self, event: Any) -> None:
            self.action_submit()

        def action_submit(self) -> None:
            self._save()
            self.dismiss(self.state)

    class CollectionBrowser(App[None]):
        CSS = """
        DataTable { height: 1fr; }
        #status { height: 1; padding: 0 1; }
        #query { padding: 1 2; }
        #query .row { height: 3; }
        #query Input { width: 1fr; }
        OperatorToggle { width: 16; height: 3; content-align: center middle; border: tall $accent; }
        OperatorToggle:focus { background: $accent 30%; }
        #help { margin-top: 1; color: $text-muted; }
        #cell { width: 80%; height: 80%; border: thick $accent; background: $surface; padding: 1 2; }
        CellScreen { align: center middle; }
        #cell-title { text-style: bold; margin-bottom: 1; }
        """
        BINDINGS = [
            Binding("s", "search", "Query editor"),
            Binding("escape", "all_records", "All records"),
            Binding("q", "quit", "Quit"),
        ]

        def __init__(self) -> None:
            super().__init__()
            self.collection = collection
            self.page = page
            self.query_state = QueryState()
            self.active: QueryState | None = None  # the query whose results are shown
            self.records: list[tuple[str, Any, Any]] = []
            self.exhausted = False
            self.error: str | None = None

        def compose(self) -> ComposeResult:
            yield Header()
            yield DataTable(id="records", cursor_type="cell", zebra_stripes=True)
            yield Static("", id="status")
            yield Footer()

        def on_mount(self) -> None:
            self.theme = THEMES.get(theme, theme)
            self.title = f"huedb browse: {collection.name}"
            table = self.query_one(DataTable)
            table.add_column("id", key="id")
            table.add_column("document", key="document")
            table.add_column("metadata", key="metadata")
            self.reload()

        # -- data ---------------------------------------------------------
        def reload(self) -> None:
            self.query_one(DataTable).clear()
            self.records, self.exhausted, self.error = [], False, None
            self.load_more()

        def load_more(self) -> None:
            if self.exhausted:
                return
            kwargs: dict[str, Any] = {}
            if self.active is not None:
                kwargs = {"where": self.active.where(), "where_document": self.active.where_document()}
            try:
                got = self.collection.get(
                    limit=self.page, offset=len(self.records), include=["documents", "metadatas"], **kwargs
                )
            except Exception as e:  # noqa: BLE001 - a bad query is shown, not fatal
                self.error = f"{type(e).__name__}: {e}"
                self.exhausted = True
                self.update_status()
                return
            ids = list(got["ids"])
            docs = got.get("documents") or [None] * len(ids)
            metas = got.get("metadatas") or [None] * len(ids)
            table = self.query_one(DataTable)
            for rid, doc, meta in zip(ids, docs, metas):
                self.records.append((rid, doc, meta))
                table.add_row(shorten(rid, 40), shorten(cell_text(doc)), shorten(cell_text(meta)))
            if len(ids) < self.page:
                self.exhausted = True
            self.update_status()

        def update_status(self) -> None:
            what = "all records" if self.active is None else f"query: {self.active.describe()}"
            more = "" if self.exhausted else " (more as you scroll)"
            text = f"{len(self.records)} rows of {what}{more}"
            if self.error:
                text = f"{what}: {self.error}"
            self.query_one("#status", Static).update(text)

        # -- events -------------------------------------------------------
        def on_data_table_cell_highlighted(self, event: Any) -> None:
            if event.coordinate.row >= len(self.records) - 5:
                self.load_more()

        def on_data_table_cell_selected(self, event: Any) -> None:
            row, col = event.coordinate.row, event.coordinate.column
            rid, doc, meta = self.records[row]
            column = ["id", "document", "metadata"][col]
            value = [rid, doc, meta][col]
            text = (
                json.dumps(value, indent=2, ensure_ascii=False, default=json_default)
                if column == "metadata" and value is not None
                else cell_text(value)
            )
            self.push_screen(CellScreen(f"{column} of {rid}", text or "(empty)"))

        def action_search(self) -> None:
            def done(state: QueryState | None) -> None:
                if state is not None:
                    self.active = QueryState(**vars(state))
                    self.reload()

            self.push_screen(QueryScreen(self.query_state), done)

        def action_all_records(self) -> None:
            if self.active is not None:
                self.active = None
                self.reload()

    return CollectionBrowser()


@click.command()
@click.argument("collection")
@click.option(
    "--theme", type=click.Choice(sorted(THEMES)), default=None, help="colours for a light or dark terminal (remembered)"
)
@target_options()
def browse(target: Target, collection: str, theme: str | None) -> None:
    """Browse COLLECTION in the terminal (needs the [browse] extra)."""
    _textual()
    config = load_config()
    if theme is not None and config.get("theme") != theme:
        config["theme"] = theme
        save_config(config)  # as Chroma does: given once, remembered
    client = target.client()
    col = client.get_collection(collection)
    make_app(col, theme or config.get("theme") or "dark").run()


def register(cli: click.Group) -> None:
    cli.add_command(browse)
