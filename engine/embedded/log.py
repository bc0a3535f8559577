"""The partitioned log of one topic, kept in the topic's own SQLite database.

Layout of a topic database: `partitions` (one row per partition: log start offset, next
offset, retained bytes, running maximum timestamp), one table `p<N>` per partition whose
INTEGER PRIMARY KEY is the offset (appends go to the end of the B-tree), and `tindex`, a sparse
time index with an entry whenever a produce raises a partition's maximum timestamp.

Every function takes the connection of the calling thread; writes run in one IMMEDIATE
transaction, which is what makes offsets dense and unique across processes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from engine.embedded.sqlite import read_tx, write_tx
from engine.errors import OffsetOutOfRangeError, UnknownTopicOrPartitionError
from engine.partitioner import partitions_for_keys

#: A record ready to store: key, value, encoded headers, timestamp, explicit partition, size.
Row = tuple[bytes | None, bytes | None, bytes | None, int, int | None, int]

#: A stored record as fetched: offset, timestamp, key, value, encoded headers.
StoredRow = tuple[int, int, bytes | None, bytes | None, bytes | None]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS partitions (
    part INTEGER PRIMARY KEY,
    log_start INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    max_ts INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tindex (
    part INTEGER NOT NULL,
    max_ts INTEGER NOT NULL,
    base_offset INTEGER NOT NULL,
    PRIMARY KEY (part, max_ts, base_offset)
) WITHOUT ROWID;
"""

_NO_TS = -(2**63)


def _table(part: int) -> str:
    return f"p{int(part)}"


def _create_partition(conn: sqlite3.Connection, part: int) -> None:
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {_table(part)} (off INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
        " size INTEGER NOT NULL, key BLOB, value BLOB, headers BLOB)"
    )
    conn.execute(
        "INSERT OR IGNORE INTO partitions VALUES (?, 0, 0, 0, ?)",
        (part, _NO_TS),
    )


def init_topic(conn: sqlite3.Connection, name: str, topic_id: str, partitions: int) -> None:
    """Create the schema and the partitions of a new topic database."""
    with write_tx(conn):
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('name', ?)", (name,))
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('topic_id', ?)", (topic_id,))
        for part in range(partitions):
            _create_partition(conn, part)


def add_partitions(conn: sqlite3.Connection, total: int) -> int:
    """Grow to `total` partitions; returns the previous count."""
    with write_tx(conn):
        current = partition_count(conn)
        for part in range(current, total):
            _create_partition(conn, part)
        return current


def mark_deleted(conn: sqlite3.Connection) -> None:
    """Make the topic unusable for every open connection (produce finds no partitions)."""
    with write_tx(conn):
        conn.execute("DELETE FROM partitions")


def partition_count(conn: sqlite3.Connection) -> int:
    """How many partitions the topic has (0 once deleted)."""
    return int(conn.execute("SELECT count(*) FROM partitions").fetchone()[0])


def _missing(topic: str, part: int) -> UnknownTopicOrPartitionError:
    return UnknownTopicOrPartitionError(f"topic {topic!r} has no partition {part}")


def append(
    conn: sqlite3.Connection, topic: str, rows: Sequence[Row], sticky: int
) -> list[tuple[int, int]]:
    """Append `rows` in one transaction and return (partition, offset) for each, in order.

    Keyed rows are placed by murmur2; keyless rows without a partition all go to one partition
    chosen by `sticky` (Kafka's sticky partitioning, per produce call)."""
    with write_tx(conn):
        state = conn.execute("SELECT part, next_offset, max_ts, bytes FROM partitions").fetchall()
        count = len(state)
        if count == 0:
            raise UnknownTopicOrPartitionError(f"topic {topic!r} does not exist")
        parts = _place(rows, count, sticky % count, topic)
        if count == 1:
            buckets: dict[int, list[int]] = {0: list(range(len(rows)))}
        else:
            buckets = {}
            for index, part in enumerate(parts):
                bucket = buckets.get(part)
                if bucket is None:
                    buckets[part] = [index]
                else:
                    bucket.append(index)
        offsets = [0] * len(rows)
        for part, indexes in buckets.items():
            _, next_offset, max_ts, size = state[part]
            batch = [rows[i] for i in indexes] if len(indexes) != len(rows) else list(rows)
            conn.executemany(
                f"INSERT INTO {_table(part)} VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (next_offset + j, ts, sz, key, value, headers)
                    for j, (key, value, headers, ts, _p, sz) in enumerate(batch)
                ],
            )
            for j, i in enumerate(indexes):
                offsets[i] = next_offset + j
            batch_max = max(r[3] for r in batch)
            added = sum(r[5] for r in batch)
            if batch_max > max_ts:
                conn.execute(
                    "INSERT OR IGNORE INTO tindex VALUES (?, ?, ?)", (part, batch_max, next_offset)
                )
                max_ts = batch_max
            conn.execute(
                "UPDATE partitions SET next_offset = ?, bytes = ?, max_ts = ? WHERE part = ?",
                (next_offset + len(batch), size + added, max_ts, part),
            )
    return list(zip(parts, offsets, strict=True))


def _place(rows: Sequence[Row], count: int, sticky: int, topic: str) -> list[int]:
    """The partition of every row."""
    if count == 1:
        for row in rows:
            if row[4] not in (None, 0):
                raise _missing(topic, row[4])
        return [0] * len(rows)
    keys = [row[0] for row in rows]
    explicit = [row[4] for row in rows]
    if None not in keys and explicit.count(None) == len(explicit):
        return partitions_for_keys(keys, count)  # type: ignore[arg-type]
    result: list[int] = []
    for key, part in zip(keys, explicit, strict=True):
        if part is not None:
            if not 0 <= part < count:
                raise _missing(topic, part)
            result.append(part)
        elif key is None:
            result.append(sticky)
        else:
            result.append(partitions_for_keys([key], count)[0])
    return result


def bounds(conn: sqlite3.Connection, topic: str, part: int) -> tuple[int, int]:
    """(log start offset, next offset) of one partition."""
    row = conn.execute(
        "SELECT log_start, next_offset FROM partitions WHERE part = ?", (part,)
    ).fetchone()
    if row is None:
        raise _missing(topic, part)
    return int(row[0]), int(row[1])


def all_bounds(conn: sqlite3.Connection) -> list[tuple[int, int, int]]:
    """(partition, log start, next offset) of every partition, in partition order."""
    return [
        (int(p), int(s), int(e))
        for p, s, e in conn.execute(
            "SELECT part, log_start, next_offset FROM partitions ORDER BY part"
        )
    ]


def fetch(
    conn: sqlite3.Connection,
    topic: str,
    part: int,
    offset: int,
    max_records: int,
    max_bytes: int,
) -> list[StoredRow]:
    """Stored records from `offset` on: at most `max_records`, and at most `max_bytes` except
    that the first available record is always returned (as Kafka does)."""
    with read_tx(conn):
        start, end = bounds(conn, topic, part)
        if offset < start or offset > end:
            raise OffsetOutOfRangeError(
                f"offset {offset} is out of range for {topic}-{part}: "
                f"valid offsets are [{start}, {end}]"
            )
        if offset == end or max_records <= 0:
            return []
        table = _table(part)
        # Sizes sit before the blobs in each row, so this reads no overflow pages.
        sizes = [
            size
            for (size,) in conn.execute(
                f"SELECT size FROM {table} WHERE off >= ? ORDER BY off LIMIT ?",
                (offset, max_records),
            )
        ]
        limit = len(sizes)
        if sum(sizes) > max_bytes:
            used = 0
            for index, size in enumerate(sizes):
                used += size
                if used > max_bytes:
                    limit = max(index, 1)
                    break
        rows: list[StoredRow] = conn.execute(
            f"SELECT off, ts, key, value, headers FROM {table} WHERE off >= ? ORDER BY off LIMIT ?",
            (offset, limit),
        ).fetchall()
        return rows


def offset_for_timestamp(conn: sqlite3.Connection, topic: str, part: int, ts: int) -> int:
    """The first offset whose timestamp is at or after `ts`, else the next offset."""
    with read_tx(conn):
        start, end = bounds(conn, topic, part)
        row = conn.execute(
            "SELECT base_offset FROM tindex WHERE part = ? AND max_ts >= ? "
            "ORDER BY max_ts, base_offset LIMIT 1",
            (part, ts),
        ).fetchone()
        if row is None:
            return end
        # Every record before base_offset is older than ts (the running maximum says so).
        found = conn.execute(
            f"SELECT off FROM {_table(part)} WHERE off >= ? AND ts >= ? ORDER BY off LIMIT 1",
            (max(int(row[0]), start), ts),
        ).fetchone()
        return end if found is None else int(found[0])


# -- retention and compaction ---------------------------------------------------------------


def _truncate_before(conn: sqlite3.Connection, part: int, new_start: int) -> int:
    """Delete every record below `new_start` and move the log start; returns records removed."""
    table = _table(part)
    removed, freed = conn.execute(
        f"SELECT count(*), total(size) FROM {table} WHERE off < ?", (new_start,)
    ).fetchone()
    conn.execute(f"DELETE FROM {table} WHERE off < ?", (new_start,))
    conn.execute(
        "UPDATE partitions SET log_start = max(log_start, ?), bytes = bytes - ? WHERE part = ?",
        (new_start, int(freed), part),
    )
    # Fold time-index entries below the new start into one entry at the start, keeping the
    # running maximum they carried (lookups clamp to the log start anyway).
    folded = conn.execute(
        "SELECT max(max_ts) FROM tindex WHERE part = ? AND base_offset < ?", (part, new_start)
    ).fetchone()[0]
    if folded is not None:
        conn.execute("DELETE FROM tindex WHERE part = ? AND base_offset < ?", (part, new_start))
        conn.execute("INSERT OR IGNORE INTO tindex VALUES (?, ?, ?)", (part, folded, new_start))
    return int(removed)


def enforce_retention_time(conn: sqlite3.Connection, part: int, cutoff_ts: int) -> int:
    """Delete the prefix of records older than `cutoff_ts`; returns records removed."""
    with write_tx(conn):
        start, end = bounds(conn, "", part)
        row = conn.execute(
            f"SELECT off FROM {_table(part)} WHERE ts >= ? ORDER BY off LIMIT 1", (cutoff_ts,)
        ).fetchone()
        new_start = end if row is None else int(row[0])
        if new_start <= start:
            return 0
        return _truncate_before(conn, part, new_start)


def enforce_retention_bytes(conn: sqlite3.Connection, part: int, limit: int) -> int:
    """Delete the oldest records while the partition would still hold at least `limit` bytes
    without them (Kafka's rule, per record instead of per segment); returns records removed."""
    with write_tx(conn):
        (held,) = conn.execute("SELECT bytes FROM partitions WHERE part = ?", (part,)).fetchone()
        if held <= limit:
            return 0
        new_start = None
        remaining = int(held)
        for off, size in conn.execute(f"SELECT off, size FROM {_table(part)} ORDER BY off"):
            if remaining - size < limit:
                new_start = off
                break
            remaining -= size
        if new_start is None:
            (new_start,) = conn.execute(
                "SELECT next_offset FROM partitions WHERE part = ?", (part,)
            ).fetchone()
        return _truncate_before(conn, part, int(new_start))


def compact(
    conn: sqlite3.Connection, part: int, now_ms: int, delete_retention_ms: int, min_lag_ms: int
) -> int:
    """Keep only the latest record per key among records older than `min_lag_ms`, and drop
    tombstones older than `delete_retention_ms`; offsets are kept (gaps). Returns removed."""
    table = _table(part)
    with write_tx(conn):
        _, end = bounds(conn, "", part)
        limit = end
        if min_lag_ms > 0:
            row = conn.execute(
                f"SELECT off FROM {table} WHERE ts > ? ORDER BY off LIMIT 1",
                (now_ms - min_lag_ms,),
            ).fetchone()
            if row is not None:
                limit = int(row[0])
        before = conn.total_changes
        conn.execute(
            f"DELETE FROM {table} WHERE off < :limit AND key IS NOT NULL AND off NOT IN "
            f"(SELECT max(off) FROM {table} WHERE off < :limit AND key IS NOT NULL GROUP BY key)",
            {"limit": limit},
        )
        conn.execute(
            f"DELETE FROM {table} WHERE off < ? AND value IS NULL AND ts < ?",
            (limit, now_ms - delete_retention_ms),
        )
        removed = conn.total_changes - before
        if removed:
            (held,) = conn.execute(f"SELECT total(size) FROM {table}").fetchone()
            conn.execute("UPDATE partitions SET bytes = ? WHERE part = ?", (int(held), part))
        return removed
