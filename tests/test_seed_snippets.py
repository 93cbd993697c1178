"""Every Python snippet of Chroma's docs (../shared/seeds/*.txt) runs on huedb with the import renamed.

The seeds are scraped docs. Markdown files carry fenced ```python blocks; the scraped pages
have no fences, so a block there starts at a line that looks like Python and runs as long
as the lines still compile (incomplete, e.g. an open paren, is fine), stopping at the first
line that makes it invalid (prose). Trailing bare words scraped from the page (a parameter
table's "name", "str", 'default:"x"') are dropped. Doc placeholders (``, ...]``,
``(...)``) are removed, and "/path/to/..." becomes relative, so nothing lands outside the
test's temp dir.

Each snippet runs in-process with ``chromadb`` renamed to ``huedb``, in a fresh temp cwd,
after a tiny prelude:

* ``client`` / ``chroma_client``: an EphemeralClient (the in-memory data is reset first);
  ``collection``: a collection of three records (documents on the default EF, or 3-d
  vectors when the snippet uses 3-d embeddings); ``ef`` / ``emb_fn``: the default EF;
* collections a snippet gets or deletes before creating them exist beforehand, in the
  prelude client, in each ``PersistentClient(path=...)`` it names and on the server;
* ``HttpClient`` / ``AsyncHttpClient`` / ``AdminClient`` pointed at localhost:8000 reach a
  local huedb server on 127.0.0.1 (reset before each snippet);
* OpenAI and Cohere EFs reach the fakes in tests/fakes/ with dummy keys.

Snippets that cannot run offline (or are not code) are in ``EXCLUDED`` with the reason;
a test checks each entry still names an extracted snippet.
"""

from __future__ import annotations

import ast
import asyncio
import codeop
import inspect
import keyword
import re
import textwrap
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

from fakes.cohere_server import FakeCohere
from fakes.openai_server import FakeOpenAI
from server_fixtures import ServerThread

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO.parent / "shared" / "seeds"
KEY = "sk-test"

# -- extraction ---------------------------------------------------------------------------

_START = re.compile(
    r"^(import\s+\w|from\s+[\w.]+\s+import\s|[A-Za-z_][\w.]*(\[[^\]]*\])*\s*(=|\+=)\s*\S|[A-Za-z_][\w.]*\(|"
    r"def\s+\w|class\s+\w|async\s+def\s|await\s+\w|for\s+\w.*:$|with\s+.*:$|if\s+.*:$|try:$|@\w|print\()"
)
# JavaScript/TypeScript that happens to parse as Python (object literals, `new`, `;`).
_JS = re.compile(
    r"(^|\s)(const|let|var)\s|=>|^\s*//|;\s*$|\bnew\s+[A-Z]|\{\s*[A-Za-z_]\w*\s*:(?!.*\bfor\b)|!==|===|\bexport\s",
    re.M,
)
_PAGE_BREAK = re.compile(r"^(Edit this page on GitHub|Ask this Page|On this page)$")
# A scraped word after the code: a heading, a parameter table's name/type/default line.
_TRAILING_PROSE = re.compile(r"^([A-Za-z_][\w .|\[\],]*|\w+:\s*\"[^\"]*\")(\s*#.*)?$")


def _is_scraped_word(line: str) -> bool:
    first = line.split()[0] if line.split() else ""
    return bool(_TRAILING_PROSE.match(line)) and not keyword.iskeyword(first) and first != "print"


@dataclass(frozen=True)
class Snippet:
    file: str
    line: int
    source: str

    @property
    def id(self) -> str:
        return f"{self.file[:3]}:{self.line}"


def _compiler() -> codeop.CommandCompiler:
    cc = codeop.CommandCompiler()
    cc.compiler.flags |= ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    return cc


def _state(cc: codeop.CommandCompiler, src: str) -> str:
    try:
        with warnings.catch_warnings():  # the docs' own "\\." in a regex string
            warnings.simplefilter("ignore")
            return "complete" if cc(src, "<snippet>", "exec") is not None else "incomplete"
    except (SyntaxError, ValueError, OverflowError):
        return "error"


def _fenced_blocks(text: str) -> list[tuple[int, str]]:
    blocks = []
    for m in re.finditer(r"^```(?:python|py)[^\n]*\n(.*?)^```", text, re.M | re.S):
        blocks.append((text.count("\n", 0, m.start(1)) + 1, m.group(1)))
    return blocks


def _unfenced_blocks(text: str) -> list[tuple[int, str]]:
    lines, cc = text.split("\n"), _compiler()
    blocks, i = [], 0
    while i < len(lines):
        if not _START.match(lines[i]):
            i += 1
            continue
        best = None
        for end in range(i + 1, min(len(lines), i + 400) + 1):
            if _PAGE_BREAK.match(lines[end - 1].strip()):
                break
            state = _state(cc, "\n".join(lines[i:end]) + "\n")
            if state == "error":
                break
            if state == "complete" and lines[end - 1].strip():
                best = end
        if best is None:
            i += 1
            continue
        blocks.append((i + 1, "\n".join(lines[i:best])))
        i = best
    return blocks


def _clean(src: str, scraped: bool) -> str:
    lines = textwrap.dedent(src.expandtabs(4)).rstrip().split("\n")
    while lines and (not lines[-1].strip() or (scraped and _is_scraped_word(lines[-1]))):
        lines.pop()
    out = "\n".join(lines) + "\n"
    out = re.sub(r",\s*\.\.\.(?=\s*[\])])", "", out)  # ["id1", "id2", ...] -> ["id1", "id2"]
    out = re.sub(r"\(\.\.\.\)", "()", out)  # OpenAIEmbeddingFunction(...)
    out = out.replace('"/path/to/', '"path/to/')
    return out


def extract(path: Path) -> list[Snippet]:
    text = path.read_text(encoding="utf-8", errors="replace")
    scraped = "```" not in text
    raw = _unfenced_blocks(text) if scraped else _fenced_blocks(text)
    snippets, cc = [], _compiler()
    for line, src in raw:
        src = _clean(src, scraped)
        code = [ln for ln in src.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        if not code or _JS.search(src) or _state(cc, src) != "complete":
            continue  # JavaScript, or a fenced "python" block that is not Python (pip install, <Operator>)
        if len(code) < 2 and (not re.search(r"chromadb|collection|client", src) or re.fullmatch(r"\w+\(\)\s*", src)):
            continue  # a lone heading such as "create_collection()"
        snippets.append(Snippet(path.name, line, src))
    return snippets


def all_snippets() -> list[Snippet]:
    return [s for path in sorted(SEEDS.glob("*.txt")) for s in extract(path)]


# -- what is not run, and why -------------------------------------------------------------

EXCLUDED: dict[str, str] = {
    # needs the internet
    "000:1844": "CloudClient: Chroma Cloud (api.trychroma.com) needs the internet and a real key",
    "000:1854": "CloudClient: Chroma Cloud (api.trychroma.com) needs the internet and a real key",
    "002:96": "CloudClient: Chroma Cloud (api.trychroma.com) needs the internet and a real key",
    # OpenCLIP downloads its weights and wants a GPU for any useful speed (its own CI step)
    "000:3276": "OpenCLIP: downloads model weights from the internet (covered by .ci/clip_step.sh)",
    "000:3291": "OpenCLIP: downloads model weights from the internet (covered by .ci/clip_step.sh)",
    # not code: environment files and filter schemas that happen to parse as Python
    "000:1089": "server environment variables (a .env file), not Python",
    "000:1098": "client environment variables (a .env file), not Python",
    "000:1103": "server environment variables (a .env file), not Python",
    "000:1109": "client environment variables (a .env file), not Python",
    "000:1115": "server environment variables (a .env file), not Python",
    "000:1125": "client environment variables (a .env file), not Python",
    "000:1131": "server environment variables (a .env file), not Python",
    "000:1138": "client environment variables (a .env file), not Python",
    # pseudo-code whose placeholders stand for data the docs do not give
    "000:3282": "images=[[1.0, 1.1, 2.1, ...], ...]: placeholder pixels, and an OpenCLIP collection",
    "000:3323": "query_images=[...]: placeholder for images (needs an image EF, OpenCLIP)",
    "000:3335": "query_uris=[...]: placeholder for URIs (needs a data loader and an image EF)",
    "000:3341": "query_images=[...]: placeholder for images (needs an image EF, OpenCLIP)",
    "000:3351": "images=[...]: placeholder for images (needs an image EF, OpenCLIP)",
    "000:3308": "uris to placeholder files 'path/to/file/1' on the OpenCLIP collection of 000:3291",
    # excerpts of chromadb's own type definitions (they use its internal imports: Protocol, TypedDict...)
    "000:1169": "excerpt of chromadb's EmbeddingFunction Protocol definition, not user code",
    "000:1175": "excerpt of chromadb's EmbeddingFunction Protocol definition, not user code",
    "000:2683": "excerpt of chromadb's QueryResult TypedDict definition, not user code",
    "000:2691": "excerpt of chromadb's GetResult TypedDict definition, not user code",
    "003:698": "excerpt of chromadb's GetResult/QueryResult TypedDict definitions, not user code",
    # doc bugs: each fails on chromadb 1.5.9 too (observed in a scratch venv), with the same kind of error
    "000:998": "0.6 migration note: get_collection(name=<Collection>) is a TypeError on chromadb 1.5.9",
    "000:1012": "where={}: chromadb 1.5.9 raises 'Expected where to have exactly one operator'",
    "000:2871": 'where={"or": [...]} (no $): chromadb 1.5.9 raises on the list value',
    "002:199": "AdminClient.list_tenants() does not exist in chromadb 1.5.9 (AttributeError)",
}


def _runnable() -> list[Snippet]:
    return [s for s in all_snippets() if s.id not in EXCLUDED]


# -- prelude ------------------------------------------------------------------------------

_PRELUDE = """
import huedb
import huedb.config
from huedb.utils.embedding_functions import (
    CohereEmbeddingFunction,
    DefaultEmbeddingFunction,
    OpenAIEmbeddingFunction,
)
client = huedb.EphemeralClient(huedb.config.Settings(allow_reset=True))  # the docs call client.reset()
chroma_client = client
ef = emb_fn = DefaultEmbeddingFunction()
"""
_SEED_DOCS = {
    "ids": ["seed-1", "seed-2", "seed-3"],
    "documents": ["search string about pineapple", "search_string_1 on oranges", "doc10 and climate"],
    "metadatas": [
        {"chapter": 3, "verse": 16, "page": 10, "color": "red", "author": "Rowling", "style": "style1"},
        {"chapter": 3, "verse": 5, "page": 7, "color": "blue", "author": "Herbert", "metadata_field": "x"},
        {"chapter": 29, "verse": 11, "page": 12, "color": "green", "metadata_key": "value"},
    ],
}
_CREATES = re.compile(r"(?:create_collection|get_or_create_collection)\(\s*(?:name\s*=\s*)?[\"']([^\"']+)[\"']")
_NEEDS = re.compile(r"(?:get_collection|delete_collection)\(\s*(?:name\s*=\s*)?[\"']([^\"']+)[\"']")
_PERSISTENT = re.compile(r"PersistentClient\(\s*(?:path\s*=\s*)?[\"']([^\"']+)[\"']")


def _seed(collection, vectors: bool) -> None:
    if vectors:
        collection.add(embeddings=[[1.1, 2.3, 3.2], [4.5, 6.9, 4.4], [11.1, 12.1, 13.1]], **_SEED_DOCS)
    else:
        collection.add(**_SEED_DOCS)


def _assumed_collections(src: str) -> list[str]:
    """Collections the snippet gets or deletes before (or without) creating them."""
    first_create = {}
    for m in _CREATES.finditer(src):
        first_create.setdefault(m.group(1), m.start())
    names = []
    for m in _NEEDS.finditer(src):
        name = m.group(1)
        if name not in names and first_create.get(name, len(src)) > m.start():
            names.append(name)
    return names


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with FakeOpenAI(valid_keys=[KEY]) as openai, FakeCohere(valid_keys=[KEY]) as cohere:
        server = ServerThread(str(tmp_path_factory.mktemp("seed-server") / "data")).start()
        try:
            yield {"server": server, "openai": openai, "cohere": cohere}
        finally:
            server.stop()


def _run(snippet: Snippet, env, tmp_path, monkeypatch) -> None:
    import huedb
    import huedb.api.http_api as http_api
    from huedb.config import Settings

    server = env["server"]
    monkeypatch.chdir(tmp_path)
    for var in ("OPENAI_API_KEY", "CHROMA_OPENAI_API_KEY", "MY_CUSTOM_OPENAI_KEY"):
        monkeypatch.setenv(var, KEY)
    for var in ("COHERE_API_KEY", "CHROMA_COHERE_API_KEY", "MY_CUSTOM_COHERE_API_KEY"):
        monkeypatch.setenv(var, KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", env["openai"].url + "/v1")
    monkeypatch.setenv("CO_API_URL", env["cohere"].url)

    real_base_url = http_api.base_url

    def base_url(settings):  # the docs' localhost:8000 is the test server
        url = real_base_url(settings)
        return re.sub(r"^http://(localhost|127\.0\.0\.1):8000(?=/)", server.url, url)

    monkeypatch.setattr(http_api, "base_url", base_url)
    huedb.EphemeralClient(Settings(allow_reset=True)).reset()
    remote = huedb.HttpClient(host="127.0.0.1", port=server.port, settings=Settings(allow_reset=True))
    remote.reset()

    src = snippet.source.replace("chromadb", "huedb")
    ns: dict = {"__name__": "__snippet__"}
    exec(_PRELUDE, ns)
    vectors = bool(re.search(r"embeddings=\[\[", src))
    prelude_collection = ns["client"].get_or_create_collection("prelude_collection")
    _seed(prelude_collection, vectors)
    ns["collection"] = prelude_collection
    assumed = _assumed_collections(src)
    clients = [ns["client"], remote] + [huedb.PersistentClient(path=p) for p in _PERSISTENT.findall(src)]
    for c in clients:
        for name in assumed:
            _seed(c.get_or_create_collection(name), vectors)
    remote.close()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = compile(src, f"{snippet.file}:{snippet.line}", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(code, ns)
    if inspect.iscoroutine(result):
        asyncio.run(result)


# -- tests --------------------------------------------------------------------------------


def test_seeds_are_there_and_extraction_finds_their_snippets():
    snippets = all_snippets()
    assert SEEDS.is_dir(), f"CI puts shared/ beside the checkout; missing {SEEDS}"
    per_file = {f.name: sum(s.file == f.name for s in snippets) for f in SEEDS.glob("*.txt")}
    assert len(per_file) == 4 and all(n >= 10 for n in per_file.values()), per_file
    # nothing JavaScript, shell or prose slipped through: every snippet compiles as Python
    cc = _compiler()
    assert [s.id for s in snippets if _state(cc, s.source) != "complete"] == []
    assert not any(re.search(r"\b(const|let)\s|=>|^pip\s", s.source, re.M) for s in snippets)
    # the quickstart's three steps are found in the scraped page
    sources = [s.source for s in snippets]
    assert any(src.startswith("import chromadb\nchroma_client = chromadb.Client()") for src in sources)


def test_every_exclusion_names_an_extracted_snippet():
    ids = {s.id for s in all_snippets()}
    assert set(EXCLUDED) <= ids, sorted(set(EXCLUDED) - ids)


@pytest.mark.parametrize("snippet", _runnable(), ids=lambda s: s.id)
def test_snippet_runs_on_huedb(snippet, env, tmp_path, monkeypatch):
    import huedb.config

    # a snippet may call huedb.configure(...): its process-wide settings must not reach later tests
    monkeypatch.setattr(huedb.config, "_global_settings", huedb.config._global_settings)
    _run(snippet, env, tmp_path, monkeypatch)
