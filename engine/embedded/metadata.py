"""Topic metadata of a cluster (`cluster.db`): which topics exist, their ids, partition counts and
configuration overrides. Records live in one database per topic, named by the topic id, so a
topic deleted and created again never sees the old records."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

from engine.embedded.sqlite import write_tx
from engine.topics import effective_config

_SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (
    name TEXT PRIMARY KEY,
    topic_id TEXT NOT NULL UNIQUE,
    partitions INTEGER NOT NULL,
    config TEXT NOT NULL,
    created_ms INTEGER NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class TopicMeta:
    """A topic as `cluster.db` knows it, with the config values the hot path needs parsed."""

    name: str
    topic_id: str
    partitions: int
    overrides: dict[str, str] = field(default_factory=dict)

    @property
    def config(self) -> dict[str, str]:
        """The effective configuration (Kafka defaults plus overrides)."""
        return effective_config(self.overrides)

    @property
    def max_message_bytes(self) -> int:
        """The largest record a produce may write."""
        return int(self.config["max.message.bytes"])

    @property
    def segment_bytes(self) -> int:
        """The size at which a partition's segment file rolls (segment.bytes)."""
        return int(self.config["segment.bytes"])

    @property
    def compacted(self) -> bool:
        """Whether `cleanup.policy` includes compact."""
        return "compact" in self.config["cleanup.policy"].split(",")

    @property
    def log_append_time(self) -> bool:
        """Whether the append time replaces the producer's timestamp."""
        return self.config["message.timestamp.type"] == "LogAppendTime"


def init_metadata(conn: sqlite3.Connection) -> None:
    """Create the topic metadata schema if it does not exist yet."""
    with write_tx(conn):
        conn.execute(_SCHEMA)


def load_topics(conn: sqlite3.Connection) -> dict[str, TopicMeta]:
    """Every topic, by name."""
    return {
        name: TopicMeta(name, topic_id, int(partitions), json.loads(config))
        for name, topic_id, partitions, config in conn.execute(
            "SELECT name, topic_id, partitions, config FROM topics"
        )
    }


def insert_topic(conn: sqlite3.Connection, meta: TopicMeta, now_ms: int) -> None:
    """Register a topic (inside the caller's write transaction)."""
    conn.execute(
        "INSERT INTO topics VALUES (?, ?, ?, ?, ?)",
        (meta.name, meta.topic_id, meta.partitions, json.dumps(meta.overrides), now_ms),
    )


def remove_topic(conn: sqlite3.Connection, name: str) -> None:
    """Unregister a topic (inside the caller's write transaction)."""
    conn.execute("DELETE FROM topics WHERE name = ?", (name,))


def set_partitions(conn: sqlite3.Connection, name: str, total: int) -> None:
    """Record a new partition count (inside the caller's write transaction)."""
    conn.execute("UPDATE topics SET partitions = ? WHERE name = ?", (total, name))


def set_overrides(conn: sqlite3.Connection, name: str, overrides: dict[str, str]) -> None:
    """Replace a topic's config overrides (inside the caller's write transaction)."""
    conn.execute(
        "UPDATE topics SET config = ? WHERE name = ?", (json.dumps(overrides, sort_keys=True), name)
    )
