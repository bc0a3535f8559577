"""Ranked full-text search over the catalog: stream names, descriptions, tags, owners,
namespaces and field names, in an in-memory SQLite FTS5 index (through sqlite-utils).

Each word of the query must match (as a prefix) somewhere in a stream's document; matches are
ranked by BM25 with the stream name weighted highest, then tags and field names, then owner
and namespace, then the description.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import sqlite_utils

MAX_QUERY_CHARS = 256
MAX_TERMS = 16

#: column -> BM25 weight; the order is the table's column order
_COLUMNS = {
    "name": 10.0,
    "tags": 5.0,
    "fields": 4.0,
    "owner": 3.0,
    "namespace": 2.0,
    "description": 1.0,
}
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class SearchDocument:
    """What is searchable about one stream."""

    topic: str
    #: the words of the stream's name; the topic itself when empty
    name: str = ""
    owner: str = ""
    namespace: str = ""
    description: str = ""
    tags: str = ""
    fields: str = ""


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One match: the stream and its rank (lower is better, as BM25 in SQLite)."""

    topic: str
    rank: float

    def to_dict(self) -> dict[str, object]:
        """JSON form for the REST API and the CLI."""
        return {"topic": self.topic, "rank": round(self.rank, 6)}


class SearchQueryError(ValueError):
    """The query has no searchable word or is too long."""


def fts_query(text: str) -> str:
    """An FTS5 query for free text: every word must match, each as a prefix. Only words are
    kept, so FTS5 operators and quotes in the text are never interpreted."""
    if len(text) > MAX_QUERY_CHARS:
        raise SearchQueryError(f"the search text is longer than {MAX_QUERY_CHARS} characters")
    words = _WORD.findall(text.lower())[:MAX_TERMS]
    if not words:
        raise SearchQueryError("the search text has no word to look for")
    return " ".join(f'"{word}"*' for word in words)


def split_words(text: str) -> str:
    """Identifiers split into words as the index sees them (`order_created` -> `order created`)."""
    return " ".join(_WORD.findall(text.replace("_", " ")))


class SearchIndex:
    """An FTS5 index of the catalog's streams, rebuilt from documents when they change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._db = sqlite_utils.Database(sqlite3.connect(":memory:", check_same_thread=False))
        self._table = self._db.table("streams")
        self._table.create({"topic": str, **{name: str for name in _COLUMNS}}, pk="topic")
        self._table.enable_fts(list(_COLUMNS), tokenize="unicode61", create_triggers=False)
        self._weights = ", ".join(str(weight) for weight in _COLUMNS.values())

    def rebuild(self, documents: Iterable[SearchDocument]) -> None:
        """Replace the index's contents with `documents`."""
        rows = [
            {
                "topic": doc.topic,
                "name": doc.name or f"{split_words(doc.topic)} {doc.topic}",
                "tags": doc.tags,
                "fields": doc.fields,
                "owner": doc.owner,
                "namespace": doc.namespace,
                "description": doc.description,
            }
            for doc in documents
        ]
        with self._lock, self._db.conn:
            self._db.execute("DELETE FROM streams")
            self._table.insert_all(rows, batch_size=1000)
            self._table.rebuild_fts()

    def search(self, text: str, limit: int = 20) -> list[SearchHit]:
        """Streams matching every word of `text`, best first (ties by topic name); a stream
        named exactly `text` comes first."""
        query = fts_query(text)
        sql = (
            f"SELECT s.topic, bm25(streams_fts, {self._weights}) AS rank "
            "FROM streams_fts JOIN streams s ON s.rowid = streams_fts.rowid "
            "WHERE streams_fts MATCH ? ORDER BY rank, s.topic LIMIT ?"
        )
        exact = text.strip()
        with self._lock:
            rows = self._db.execute(sql, [query, max(1, min(limit, 1000))]).fetchall()
            if exact and all(topic != exact for topic, _ in rows):
                found = self._db.execute("SELECT topic FROM streams WHERE topic = ?", [exact])
                rows += [(topic, float("-inf")) for (topic,) in found.fetchall()]
        hits = [SearchHit(topic, float(rank)) for topic, rank in rows]
        # the stream named exactly as asked comes first, whatever its rank
        hits.sort(key=lambda hit: hit.topic != exact)
        return hits[: max(1, min(limit, 1000))]

    def like_scan(self, text: str, limit: int = 20) -> list[str]:
        """The same question answered by a plain LIKE scan over every column (no ranking):
        the baseline the benchmark compares with."""
        words = _WORD.findall(text.lower())[:MAX_TERMS]
        if not words:
            raise SearchQueryError("the search text has no word to look for")
        haystack = " || ' ' || ".join(_COLUMNS)
        where = " AND ".join(f"lower({haystack}) LIKE ?" for _ in words)
        sql = f"SELECT topic FROM streams WHERE {where} ORDER BY topic LIMIT ?"
        with self._lock:
            rows = self._db.execute(sql, [*(f"%{w}%" for w in words), limit]).fetchall()
        return [row[0] for row in rows]
