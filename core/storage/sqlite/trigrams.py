"""Which trigrams a ``$contains`` asks the full-text index for.

A trigram phrase query reads the posting list of every trigram of the text, and in
short documents some trigrams are in nearly every row ("wit", "th " in "with amber"):
reading them costs more than the rest of the query. The rows of a substring lie in the
rows holding its rarest trigrams, so the index is asked for those only (an AND, no
phrase), and ``instr()`` on the candidates keeps the answer exact (the caller's
predicate). Document counts come from an ``fts5vocab`` table and are cached per
process: they only choose the plan, never the answer, so a stale count costs time
at worst.
"""

from __future__ import annotations

import sqlite3
import threading
import time

#: trigrams asked for: the rarest ones, plus any within RARE_FACTOR of the rarest
MAX_TRIGRAMS, RARE_FACTOR = 3, 4
#: a cached count is looked up again after this many seconds
COUNT_TTL_S = 300.0
_CACHE_MAX = 100_000

VOCAB_SQL = "CREATE VIRTUAL TABLE IF NOT EXISTS temp.docs_fts_vocab USING fts5vocab(main, docs_fts, 'row')"

_counts: dict[tuple[str, str], tuple[int, float]] = {}
_lock = threading.Lock()


def fts_phrase(text: str) -> str:
    """A FTS5 phrase literal: the text in double quotes, inner quotes doubled."""
    return '"' + text.replace('"', '""') + '"'


def match_expression(conn: sqlite3.Connection, text: str) -> str:
    """The MATCH expression for the rows that may contain ``text`` (3+ characters):
    its rarest trigrams ANDed, or the whole phrase when it has few trigrams."""
    grams = list(dict.fromkeys(text[i : i + 3] for i in range(len(text) - 2)))
    if len(grams) <= 2:
        return fts_phrase(text)
    counts = _doc_counts(conn, grams)
    ranked = sorted(grams, key=lambda g: counts[g])
    rarest = counts[ranked[0]]
    chosen = [g for g in ranked[:MAX_TRIGRAMS] if counts[g] <= max(rarest, 1) * RARE_FACTOR] or ranked[:1]
    return " AND ".join(fts_phrase(g) for g in chosen)


def _doc_counts(conn: sqlite3.Connection, grams: list[str]) -> dict[str, int]:
    db = _database_key(conn)
    now = time.monotonic()
    out: dict[str, int] = {}
    with _lock:
        for g in grams:
            hit = _counts.get((db, g))
            if hit is not None and now - hit[1] < COUNT_TTL_S:
                out[g] = hit[0]
    missing = [g for g in grams if g not in out]
    if missing:
        conn.execute(VOCAB_SQL)
        for g in missing:
            row = conn.execute("SELECT doc FROM temp.docs_fts_vocab WHERE term = ?", (g,)).fetchone()
            out[g] = row[0] if row else 0
        with _lock:
            if len(_counts) > _CACHE_MAX:
                _counts.clear()
            _counts.update({(db, g): (out[g], now) for g in missing})
    return out


def _database_key(conn: sqlite3.Connection) -> str:
    row = conn.execute("PRAGMA main.database_list").fetchone()
    return row[2] if row else ""
