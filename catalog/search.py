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
    """An FTS5 index of the catalog's streams, rebuilt from documents when they change.

    One standalone FTS5 table holds the searchable columns and the topic (not indexed), with
    prefix indexes for the prefix queries and the weighted BM25 as its `rank`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._db = sqlite_utils.Database(sqlite3.connect(":memory:", check_same_thread=False))
        columns = ", ".join(_COLUMNS)
        weights = ", ".join(str(weight) for weight in _COLUMNS.values())
        self._db.executescript(
            f"CREATE VIRTUAL TABLE streams USING fts5(topic UNINDEXED, {columns}, "
            "tokenize='unicode61', prefix='1 2 3');"
            f"INSERT INTO streams(streams, rank) VALUES ('rank', 'bm25(0.0, {weights})');"
        )
        self._table = self._db.table("streams")
        self._topics: frozenset[str] = frozenset()

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
            self._db.execute("INSERT INTO streams(streams) VALUES ('optimize')")
            self._topics = frozenset(row["topic"] for row in rows)

    def search(self, text: str, limit: int = 20) -> list[SearchHit]:
        """Streams matching every word of `text`, best first (ties by topic name); a stream
        named exactly `text` comes first."""
        query = fts_query(text)
        limit = max(1, min(limit, 1000))
        exact = text.strip()
        with self._lock:
            rows = self._db.execute(
                "SELECT topic, rank FROM streams WHERE streams MATCH ? ORDER BY rank LIMIT ?",
                [query, limit],
            ).fetchall()
            if exact in self._topics and all(topic != exact for topic, _ in rows):
                rows.append((exact, float("-inf")))
        hits = [SearchHit(topic, float(rank)) for topic, rank in rows]
        # ties by name, and the stream named exactly as asked first, whatever its rank
        hits.sort(key=lambda hit: (hit.topic != exact, hit.rank, hit.topic))
        return hits[:limit]
