"""$regex speaks Rust's regex dialect (Chroma uses the regex crate; huedb uses google-re2).

The expected ids below are what chromadb 1.5.9 answered in a scratch venv, for the documents
"cat", "Cat hat", "CAT" and "bat Émile": POSIX classes inside brackets, Unicode properties,
inline flags switched off again, both named-group spellings, and \\z. Python's ``re`` would
match nothing for ``[[:alpha:]]at`` and refuse ``\\p{Lu}`` and ``(?i)c(?-i)at``.
"""

from __future__ import annotations

import pytest

from huedb.errors import InvalidArgumentError
from huedb.execution.expression import K, Search

DOCUMENTS = {"1": "cat", "2": "Cat hat", "3": "CAT", "4": "bat Émile"}

# pattern -> ids whose document matches, as chromadb 1.5.9 answered
CHROMA_MATCHES = {
    "[[:alpha:]]at": ["1", "2", "4"],
    r"\p{Lu}": ["2", "3", "4"],
    r"^\p{Lu}": ["2", "3"],
    r"(?i)c(?-i)at": ["1", "2"],
    r"(?i)cat": ["1", "2", "3"],
    r"\bcat\b": ["1"],
    r"(?P<x>c)at": ["1"],
    r"(?<x>c)at": ["1"],
    r"\z": ["1", "2", "3", "4"],
    r"[\p{Greek}]": [],
    r"\pL": ["1", "2", "3", "4"],
}
# refused by chromadb 1.5.9 with InvalidArgumentError "Regex syntax errror: regex parse error: ..."
CHROMA_REFUSES = ["(a", r"\Z", "(?=a)", r"(?<!a)b", r"(a)\1"]


@pytest.fixture
def col(client):
    c = client.create_collection("regex_dialect", embedding_function=None)
    c.add(ids=list(DOCUMENTS), documents=list(DOCUMENTS.values()), embeddings=[[float(i), 1.0] for i in range(4)])
    return c


@pytest.mark.parametrize("pattern", list(CHROMA_MATCHES))
def test_where_document_regex_matches_as_on_chroma(col, pattern):
    expected = CHROMA_MATCHES[pattern]
    assert col.get(where_document={"$regex": pattern})["ids"] == expected
    assert col.get(where_document={"$not_regex": pattern})["ids"] == [i for i in DOCUMENTS if i not in expected]
    hits = col.query(query_embeddings=[[0.0, 1.0]], n_results=4, where_document={"$regex": pattern})["ids"][0]
    assert sorted(hits) == expected
    combined = {"$and": [{"$regex": pattern}, {"$contains": "a"}]}
    assert col.get(where_document=combined)["ids"] == [i for i in expected if "a" in DOCUMENTS[i]]


@pytest.mark.parametrize("pattern", [r"[[:alpha:]]at", r"\p{Lu}", r"(?i)c(?-i)at"])
def test_delete_and_search_use_the_same_dialect(col, pattern):
    expected = CHROMA_MATCHES[pattern]
    found = col.search(Search().where(K.DOCUMENT.regex(pattern)).select("#document"))
    assert sorted(found["ids"][0]) == expected
    found = col.search(Search().where(K.DOCUMENT.not_regex(pattern)))
    assert sorted(found["ids"][0]) == [i for i in DOCUMENTS if i not in expected]
    assert col.delete(where_document={"$regex": pattern}) == {"deleted": len(expected)}
    assert col.get()["ids"] == [i for i in DOCUMENTS if i not in expected]


@pytest.mark.parametrize("pattern", CHROMA_REFUSES)
def test_what_chroma_refuses_is_refused(col, pattern):
    with pytest.raises(InvalidArgumentError, match="Regex syntax error"):
        col.get(where_document={"$regex": pattern})
    with pytest.raises(InvalidArgumentError, match="regular expression"):
        col.delete(where_document={"$not_regex": pattern})
    assert col.count() == 4
