"""The partitioned log of one topic, kept in the topic's own SQLite database.

Layout of a topic database: `partitions` (one row per partition: log start offset, next
offset, retained bytes, running maximum timestamp); one table `p<N>` per partition holding
record chunks (see `engine.embedded.chunks`; `kind` says how a chunk is encoded) keyed by
their base offset, so appends go to the
end of the B-tree and a produce call adds a few rows rather than one per record; and `tindex`,
a sparse time index with an entry whenever a chunk raises a partition's maximum timestamp.

Every function takes the connection of the calling thread; writes run in one IMMEDIATE
transaction, which is what makes offsets dense and unique across processes and a produce call
all-or-nothing.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from engine.embedded import segments
from engine.embedded.chunks import (
    CHUNK_BYTES,
    CHUNK_RECORDS,
    KIND_BATCH,
    KIND_ENTRIES,
    KIND_SEGMENT,
    Chunk,
    Row,
    StoredChunk,
    entries_of,
    iter_entries,
    pack_chunks,
    pack_entries,
    pack_partitions,
    unpack_into,
)
from engine.embedded.sqlite import read_tx, write_tx
from engine.errors import OffsetOutOfRangeError, UnknownTopicOrPartitionError
from engine.partitioner import partitions_for_keys
from engine.types import ConsumedRecord

__all__ = ["Row"]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS partitions (
        part INTEGER PRIMARY KEY,
        log_start INTEGER NOT NULL,
        next_offset INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        max_ts INTEGER NOT NULL,
        seg_end INTEGER NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE IF NOT EXISTS producers (
        part INTEGER NOT NULL,
        pid INTEGER NOT NULL,
        epoch INTEGER NOT NULL,
        first_seq INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        base_offset INTEGER NOT NULL,
        at_ms INTEGER NOT NULL,
        PRIMARY KEY (part, pid, base_offset)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS tindex (
        part INTEGER NOT NULL,
        max_ts INTEGER NOT NULL,
        base_offset INTEGER NOT NULL,
        PRIMARY KEY (part, max_ts, base_offset)
    ) WITHOUT ROWID""",
    *segments.SCHEMA,
)

_NO_TS = -(2**63)

#: An idempotent producer's batch, remembered with its append: partition, producer id, epoch,
#: first and last sequence.
ProducerBatch = tuple[int, int, int, int, int]

#: How many batches per producer and partition are remembered (Kafka keeps five).
PRODUCER_BATCHES = 5

#: Page size of topic databases: chunks are tens of kilobytes, and larger pages cut the
#: number of overflow pages SQLite chains per chunk (a 100 KB chunk writes several times
#: faster than with the default 4 KiB pages), while a one-record append stays small.
PAGE_SIZE = 16384


def _table(part: int) -> str:
    return f"p{int(part)}"


def _create_partition(conn: sqlite3.Connection, part: int) -> None:
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {_table(part)} (base INTEGER PRIMARY KEY, "
        "last INTEGER NOT NULL, count INTEGER NOT NULL, max_ts INTEGER NOT NULL, "
        "size INTEGER NOT NULL, data BLOB NOT NULL, kind INTEGER NOT NULL DEFAULT 0)"
    )
    conn.execute("INSERT OR IGNORE INTO partitions VALUES (?, 0, 0, 0, ?, 0)", (part, _NO_TS))


def upgrade(conn: sqlite3.Connection) -> None:
    """Bring a topic database written by an earlier version up to the current layout: chunk
    tables gained `kind` (0 for every chunk they hold), `partitions` gained `seg_end`, and
    `producers`, `segments` and `segment_sync` were added."""
    if partition_count(conn) == 0 or (
        "kind" in _columns(conn, 0) and "seg_end" in _columns_of(conn, "partitions")
    ):
        return
    with write_tx(conn):
        for statement in _SCHEMA:
            conn.execute(statement)
        if "seg_end" not in _columns_of(conn, "partitions"):
            conn.execute("ALTER TABLE partitions ADD COLUMN seg_end INTEGER NOT NULL DEFAULT 0")
        for part in range(partition_count(conn)):
            table = _table(part)
            if "kind" not in _columns(conn, part):
                conn.execute(f"ALTER TABLE {table} ADD COLUMN kind INTEGER NOT NULL DEFAULT 0")


def _columns(conn: sqlite3.Connection, part: int) -> set[str]:
    return _columns_of(conn, _table(part))


def _columns_of(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def init_topic(conn: sqlite3.Connection, name: str, topic_id: str, partitions: int) -> None:
    """Create the schema and the partitions of a new topic database."""
    with write_tx(conn):
        for statement in _SCHEMA:
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


def _missing(topic: str, part: int | None) -> UnknownTopicOrPartitionError:
    return UnknownTopicOrPartitionError(f"topic {topic!r} has no partition {part}")


def append(
    conn: sqlite3.Connection,
    topic: str,
    rows: list[Row],
    sticky: int,
    producers: Sequence[ProducerBatch] = (),
    now_ms: int = 0,
) -> tuple[list[int], list[int], dict[int, int]]:
    """Append `rows` in one transaction. Returns the partition of each row, the first
    offset written to each partition (offsets then count up in row order per partition) and
    the new end offset of each partition written to. `producers`: the idempotent producers'
    batches the rows hold, remembered in the same transaction (see `remember_producers`).

    Keyed rows are placed by murmur2; keyless rows without a partition all go to one partition
    chosen by `sticky` (Kafka's sticky partitioning, per produce call)."""
    with write_tx(conn):
        state = conn.execute(
            "SELECT part, next_offset, max_ts, bytes, seg_end FROM partitions ORDER BY part"
        ).fetchall()
        count = len(state)
        if count == 0:
            raise UnknownTopicOrPartitionError(f"topic {topic!r} does not exist")
        parts = _place(rows, count, sticky % count, topic)
        first = parts[0]
        if count == 1 or parts.count(first) == len(parts):
            per_partition = {first: pack_chunks(rows, None, CHUNK_RECORDS, CHUNK_BYTES)}
        else:
            packed = pack_partitions(rows, parts, count, CHUNK_RECORDS, CHUNK_BYTES)
            per_partition = {p: chunks for p, chunks in enumerate(packed) if chunks}
        bases = [int(row[1]) for row in state]
        ends = _store_chunks(conn, state, per_partition)
        _remember_producers(conn, producers, dict(enumerate(bases)), now_ms)
    return parts, bases, ends


def append_packed(
    conn: sqlite3.Connection,
    topic: str,
    per_partition: dict[int, list[Chunk]] | dict[int, list[Chunk | StoredChunk]],
    producers: Sequence[ProducerBatch] = (),
    now_ms: int = 0,
    segment_bytes: int = segments.SEGMENT_BYTES,
) -> tuple[dict[int, int], dict[int, int]]:
    """Append chunks already packed per partition (see `chunks.pack_chunks`; a chunk may
    carry its kind as a fifth item) in one transaction, remembering `producers` as `append`
    does; returns each partition's first new offset and its new end offset. Kafka batches
    (`KIND_BATCH`) go to segment files that roll at `segment_bytes` (the topic's
    segment.bytes)."""
    with write_tx(conn):
        state = conn.execute(
            "SELECT part, next_offset, max_ts, bytes, seg_end FROM partitions ORDER BY part"
        ).fetchall()
        for part in per_partition:
            if not 0 <= part < len(state):
                raise _missing(topic, part)
        bases = {part: int(state[part][1]) for part in per_partition}
        ends = _store_chunks(conn, state, per_partition, segment_bytes)
        _remember_producers(conn, producers, bases, now_ms)
        return bases, ends


def _remember_producers(
    conn: sqlite3.Connection, batches: Sequence[ProducerBatch], bases: Mapping[int, int], now: int
) -> None:
    """Record each idempotent producer's batch at its partition's base offset (inside the
    caller's transaction): the last `PRODUCER_BATCHES` per producer and partition, of its
    latest epoch only."""
    for part, pid, epoch, first, last in batches:
        conn.execute(
            "DELETE FROM producers WHERE part = ?1 AND pid = ?2 AND (epoch < ?3 OR base_offset "
            "NOT IN (SELECT base_offset FROM producers WHERE part = ?1 AND pid = ?2 "
            "ORDER BY base_offset DESC LIMIT ?4))",
            (part, pid, epoch, PRODUCER_BATCHES - 1),
        )
        conn.execute(
            "INSERT OR REPLACE INTO producers VALUES (?, ?, ?, ?, ?, ?, ?)",
            (part, pid, epoch, first, last, bases[part], now),
        )


def producer_batches(
    conn: sqlite3.Connection, part: int, pid: int
) -> list[tuple[int, int, int, int]]:
    """The batches remembered for an idempotent producer on a partition, oldest first:
    (epoch, first sequence, last sequence, base offset)."""
    with read_tx(conn):
        return [
            (int(e), int(f), int(la), int(b))
            for e, f, la, b in conn.execute(
                "SELECT epoch, first_seq, last_seq, base_offset FROM producers "
                "WHERE part = ? AND pid = ? ORDER BY base_offset",
                (part, pid),
            )
        ]


def expire_producers(conn: sqlite3.Connection, before_ms: int) -> int:
    """Forget the batches of producers that appended nothing since `before_ms` (Kafka's
    producer.id.expiration.ms); returns how many were forgotten."""
    with write_tx(conn):
        cursor = conn.execute(
            "DELETE FROM producers WHERE (part, pid) IN (SELECT part, pid FROM producers "
            "GROUP BY part, pid HAVING max(at_ms) < ?)",
            (before_ms,),
        )
        return int(cursor.rowcount)


def _store_chunks(
    conn: sqlite3.Connection,
    state: list[Any],
    per_partition: dict[int, list[Chunk]] | dict[int, list[Chunk | StoredChunk]],
    segment_bytes: int = segments.SEGMENT_BYTES,
) -> dict[int, int]:
    """Insert each partition's chunks after its end (inside the caller's transaction)."""
    ends: dict[int, int] = {}
    for part, chunks in per_partition.items():
        _, next_offset, max_ts, held, seg_end = state[part]
        base = next_offset
        stored: list[tuple[Any, ...]] = []
        batches: list[tuple[int, bytes | memoryview]] = []
        for chunk in chunks:
            n, chunk_max, size, blob = chunk[:4]
            kind = chunk[4] if len(chunk) > 4 else KIND_ENTRIES
            if kind == KIND_BATCH:  # its bytes go to a segment file, its place to the row
                batches.append((base, blob))
                kind = KIND_SEGMENT
            stored.append((base, base + n - 1, n, chunk_max, size, blob, kind))
            if chunk_max > max_ts:
                conn.execute(
                    "INSERT OR IGNORE INTO tindex VALUES (?, ?, ?)", (part, chunk_max, base)
                )
                max_ts = chunk_max
            held += size
            base += n
        if batches:
            written, seg_end = segments.write(conn, part, seg_end, batches, segment_bytes)
            places = iter(written)
            stored = [
                (*row[:5], next(places), KIND_SEGMENT) if row[6] == KIND_SEGMENT else row
                for row in stored
            ]
        conn.executemany(f"INSERT INTO {_table(part)} VALUES (?, ?, ?, ?, ?, ?, ?)", stored)
        conn.execute(
            "UPDATE partitions SET next_offset = ?, bytes = ?, max_ts = ?, seg_end = ? "
            "WHERE part = ?",
            (base, held, max_ts, seg_end, part),
        )
        ends[part] = base
    return ends


def raise_ends(conn: sqlite3.Connection, ends: dict[int, int]) -> None:
    """Move partitions' next offsets up to `ends`, leaving the offsets between unused (the
    recovery of lost records: their offsets are never handed out again)."""
    with write_tx(conn):
        conn.executemany(
            "UPDATE partitions SET next_offset = max(next_offset, ?) WHERE part = ?",
            [(end, part) for part, end in ends.items()],
        )


def _place(rows: Sequence[Row], count: int, sticky: int, topic: str) -> list[int]:
    """The partition of every row."""
    explicit = [row[4] for row in rows]
    if explicit.count(None) == len(explicit):
        if count == 1:
            return [0] * len(rows)
        keys = [row[0] for row in rows]
        if None not in keys:
            return partitions_for_keys(keys, count)  # type: ignore[arg-type]
    result: list[int] = []
    for row, part in zip(rows, explicit, strict=True):
        if part is not None:
            if not 0 <= part < count:
                raise _missing(topic, part)
            result.append(part)
        elif row[0] is None:
            result.append(sticky)
        else:
            result.append(partitions_for_keys([row[0]], count)[0])
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


def partition_states(conn: sqlite3.Connection) -> list[tuple[int, int, int, int]]:
    """(partition, log start, next offset, bytes held) of every partition, in partition
    order; the byte counts are kept up to date by appends, retention and compaction."""
    with read_tx(conn):
        return [
            (int(p), int(s), int(e), int(b))
            for p, s, e, b in conn.execute(
                "SELECT part, log_start, next_offset, bytes FROM partitions ORDER BY part"
            )
        ]


def _chunks_from(
    conn: sqlite3.Connection, part: int, offset: int, columns: str = "base, last, kind, data"
) -> sqlite3.Cursor:
    """Chunks in offset order, starting with the one that holds `offset`."""
    table = _table(part)
    return conn.execute(
        f"SELECT {columns} FROM {table} WHERE base >= "
        f"coalesce((SELECT max(base) FROM {table} WHERE base <= ?1), ?1) ORDER BY base",
        (offset,),
    )


def _readable_bounds(
    conn: sqlite3.Connection, topic: str, part: int, offset: int
) -> tuple[int, int]:
    """(log start, log end) when `offset` may be read, else `OffsetOutOfRangeError`."""
    start, end = bounds(conn, topic, part)
    if offset < start or offset > end:
        raise OffsetOutOfRangeError(
            f"offset {offset} is out of range for {topic}-{part}: "
            f"valid offsets are [{start}, {end}]"
        )
    return start, end


_T = TypeVar("_T")
_P = ParamSpec("_P")

#: Reads of a partition retried when retention deleted a segment file under their snapshot.
_READ_ATTEMPTS = 5


def _reading(read: Callable[_P, _T]) -> Callable[_P, _T]:
    """`read`, run again (with a fresh snapshot) when a segment file it needed was deleted
    after its snapshot was taken: the next snapshot no longer points there."""

    @functools.wraps(read)
    def again(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        for _ in range(_READ_ATTEMPTS - 1):
            try:
                return read(*args, **kwargs)
            except segments.SegmentGoneError:
                continue
        return read(*args, **kwargs)

    return again


def _blob(reader: segments.Reader, part: int, kind: int, data: bytes) -> tuple[int, bytes]:
    """A chunk's kind and bytes, a batch kept in a segment file read from there."""
    if kind == KIND_SEGMENT:
        return KIND_BATCH, reader.batch(part, data)
    return kind, data


@_reading
def read_chunks(
    conn: sqlite3.Connection, topic: str, part: int, offset: int, max_bytes: int
) -> tuple[list[tuple[int, int, int, bytes]], int, int]:
    """The stored chunks (base, last offset, kind, blob) from the one holding `offset` on, as
    many as `max_bytes` allows, with the log start and end of the same snapshot; for readers
    that decode chunks themselves (the Kafka listener). The first chunk always comes; a Kafka
    batch (served whole) only when it fits, the engine's entries (which the reader can cut
    between records) while the bytes so far are below the limit. Only the chunks chosen are
    read. `OffsetOutOfRangeError` outside [start, end]."""
    out: list[tuple[int, int, int, bytes]] = []
    with read_tx(conn):
        start, end = _readable_bounds(conn, topic, part, offset)
        if offset == end:
            return out, start, end
        chosen: list[tuple[int, int, int]] = []
        used = 0
        cursor = _chunks_from(conn, part, offset, "base, last, kind, size")
        try:
            for base, last, kind, size in cursor:
                if chosen and (
                    used >= max_bytes or (kind != KIND_ENTRIES and used + size > max_bytes)
                ):
                    break
                chosen.append((int(base), int(last), int(kind)))
                used += size
        finally:
            cursor.close()
        select = f"SELECT data FROM {_table(part)} WHERE base = ?"
        with segments.reader(conn) as reader:
            for base, last, kind in chosen:
                (data,) = conn.execute(select, (base,)).fetchone()
                out.append((base, last, *_blob(reader, part, kind, data)))
    return out, start, end


@_reading
def fetch(
    conn: sqlite3.Connection,
    topic: str,
    part: int,
    offset: int,
    max_records: int,
    max_bytes: int,
) -> tuple[list[ConsumedRecord], int]:
    """Records from `offset` on: at most `max_records`, and at most `max_bytes` except that
    the first available record is always returned (as Kafka does). Also returns the log end
    offset seen by the same snapshot (a reader whose fetch came back empty below it is in a
    compacted gap that reaches the end)."""
    out: list[ConsumedRecord] = []
    with read_tx(conn), segments.reader(conn) as reader:
        _, end = _readable_bounds(conn, topic, part, offset)
        if offset == end or max_records <= 0:
            return out, end
        cursor = _chunks_from(conn, part, offset)
        used = 0
        try:
            for base, _last, kind, data in cursor:
                used, full = unpack_into(
                    out,
                    entries_of(*_blob(reader, part, kind, data)),
                    base,
                    topic,
                    part,
                    offset,
                    max_records,
                    max_bytes,
                    used,
                )
                if full:
                    break
        finally:
            cursor.close()
    return out, end


@_reading
def offset_for_timestamp(conn: sqlite3.Connection, topic: str, part: int, ts: int) -> int:
    """The first offset whose timestamp is at or after `ts`, else the next offset."""
    with read_tx(conn), segments.reader(conn) as reader:
        start, end = bounds(conn, topic, part)
        row = conn.execute(
            "SELECT base_offset FROM tindex WHERE part = ? AND max_ts >= ? "
            "ORDER BY max_ts, base_offset LIMIT 1",
            (part, ts),
        ).fetchone()
        if row is None:
            return end
        # Every record before base_offset is older than ts (the running maximum says so).
        first = max(int(row[0]), start)
        cursor = _chunks_from(conn, part, first)
        try:
            for base, _last, kind, data in cursor:  # usually the first chunk answers
                entries = entries_of(*_blob(reader, part, kind, data))
                for offset, stamp, _, _, _ in iter_entries(entries, base):
                    if offset >= first and stamp >= ts:
                        return offset
        finally:
            cursor.close()
        return end


@contextmanager
def _rewrite_tx(conn: sqlite3.Connection, part: int) -> Iterator[segments.Reader]:
    """A write transaction that deletes or rewrites chunks of partition `part`: yields a
    reader of the batches kept in segment files; then forgets the segments no row points into
    any more, and deletes their files once the transaction has committed."""
    with write_tx(conn), segments.reader(conn) as reader:
        yield reader
        dead = segments.drop_unreferenced(conn, part, _table(part), KIND_SEGMENT)
    segments.unlink(dead)


def delete_before(conn: sqlite3.Connection, topic: str, part: int, before: int | None) -> int:
    """Remove the records below `before` (None: all) and make it the log start offset;
    returns the new log start. `OffsetOutOfRangeError` above the log end."""
    with _rewrite_tx(conn, part) as reader:
        start, end = bounds(conn, topic, part)
        target = end if before is None else before
        if not 0 <= target <= end:
            raise OffsetOutOfRangeError(
                f"cannot delete records of {topic}-{part} below {target}: the log ends at {end}"
            )
        if target <= start:
            return start
        _remove_ranges(conn, reader, part, [(start, target - 1)])
        conn.execute("UPDATE partitions SET log_start = ? WHERE part = ?", (target, part))
        return target


def remove_ranges(
    conn: sqlite3.Connection, topic: str, part: int, ranges: Sequence[tuple[int, int]]
) -> int:
    """Delete the records in the inclusive offset `ranges` of a partition, rewriting the
    chunks that hold them (offsets of the others stay); returns the records removed."""
    with _rewrite_tx(conn, part) as reader:
        bounds(conn, topic, part)
        return _remove_ranges(conn, reader, part, ranges)


def _remove_ranges(
    conn: sqlite3.Connection,
    reader: segments.Reader,
    part: int,
    ranges: Sequence[tuple[int, int]],
) -> int:
    table = _table(part)
    removed = 0
    for first, last in ranges:
        rows = conn.execute(
            f"SELECT base, kind, data FROM {table} WHERE base <= ? AND last >= ?", (last, first)
        ).fetchall()
        for base, kind, data in rows:
            entries = iter_entries(entries_of(*_blob(reader, part, kind, data)), base)
            kept = [e for e in entries if not first <= e[0] <= last]
            if len(kept) == len(entries):
                continue
            removed += len(entries) - len(kept)
            conn.execute(f"DELETE FROM {table} WHERE base = ?", (base,))
            if kept:
                size = sum(len(f) for e in kept for f in e[2:] if f)
                conn.execute(
                    f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        kept[0][0],
                        kept[-1][0],
                        len(kept),
                        max(e[1] for e in kept),
                        size,
                        pack_entries(kept, kept[0][0]),
                        KIND_ENTRIES,
                    ),
                )
    if removed:
        (held,) = conn.execute(f"SELECT total(size) FROM {table}").fetchone()
        conn.execute("UPDATE partitions SET bytes = ? WHERE part = ?", (int(held), part))
    return removed


# -- segment files: syncing and recovery -----------------------------------------------------


def sync_segments(conn: sqlite3.Connection) -> None:
    """fsync the topic's segment files and record that every batch below the current ends is
    on disk (the background syncer, maintenance, a clean close), so that recovery need not
    check them."""
    ends = {part: end for part, _, end in all_bounds(conn)}
    segments.sync(conn, ends)


def recover_segments(conn: sqlite3.Connection) -> dict[int, tuple[int, str]]:
    """Check each partition's batches not yet known to be on disk (`segments.sync`) against
    their CRCs, and cut the log at the first that fails: every record from its offset on is
    removed and the partition ends there (a power loss can keep a commit and lose the bytes it
    points at). Returns, per partition cut, the offset it now ends at and what was wrong."""
    with read_tx(conn), segments.reader(conn) as reader:
        damaged = damaged_batches(conn, reader, unsynced_only=True)
    if not damaged:
        return {}
    with write_tx(conn):
        for part, (offset, place, _) in damaged.items():
            # The damaged batch's segment becomes the active one, ending where the batch began.
            _cut(conn, part, offset, segments.position(place))
            dead = segments.drop_after(conn, part, offset + 1)
            # Under the write lock: a later append may start a segment of the same name.
            segments.unlink(dead)
    return {part: (offset, problem) for part, (offset, _, problem) in damaged.items()}


def remove_orphan_segments(conn: sqlite3.Connection) -> list[str]:
    """Delete the segment files no row names (a writer killed between starting a segment and
    committing it leaves one), under the write lock so that no append is starting one
    meanwhile; returns their names (maintenance)."""
    with write_tx(conn):
        return segments.remove_orphans(conn)


def damaged_batches(
    conn: sqlite3.Connection, reader: segments.Reader, *, unsynced_only: bool
) -> dict[int, tuple[int, bytes, str]]:
    """The first batch kept in a segment file whose length, base offset or CRC is wrong, per
    partition that has one: (its offset, its place, what is wrong). Only the batches not yet
    known to be on disk with `unsynced_only`."""
    damaged: dict[int, tuple[int, bytes, str]] = {}
    for (part,) in conn.execute("SELECT part FROM partitions ORDER BY part").fetchall():
        since = segments.unsynced(conn, part) if unsynced_only else 0
        rows = conn.execute(
            f"SELECT base, data FROM {_table(part)} WHERE base >= ? AND kind = ? ORDER BY base",
            (since, KIND_SEGMENT),
        ).fetchall()
        for base, place in rows:
            problem = segments.check(reader, part, base, place)
            if problem is not None:
                damaged[part] = (int(base), place, problem)
                break
    return damaged


def _cut(conn: sqlite3.Connection, part: int, offset: int, seg_end: int) -> None:
    """Inside the caller's write transaction: remove every chunk from `offset` on and end the
    partition there (the chunk at `offset` must begin there), its active segment at
    `seg_end`."""
    table = _table(part)
    conn.execute(f"DELETE FROM {table} WHERE base >= ?", (offset,))
    conn.execute("DELETE FROM tindex WHERE part = ? AND base_offset >= ?", (part, offset))
    conn.execute("DELETE FROM producers WHERE part = ? AND base_offset >= ?", (part, offset))
    (held,) = conn.execute(f"SELECT total(size) FROM {table}").fetchone()
    (max_ts,) = conn.execute("SELECT max(max_ts) FROM tindex WHERE part = ?", (part,)).fetchone()
    conn.execute(
        "UPDATE partitions SET next_offset = ?, bytes = ?, max_ts = ?, seg_end = ? WHERE part = ?",
        (offset, int(held), _NO_TS if max_ts is None else int(max_ts), seg_end, part),
    )


# -- retention and compaction ---------------------------------------------------------------


def _truncate_before(conn: sqlite3.Connection, part: int, new_start: int) -> int:
    """Delete every chunk below `new_start` (a chunk boundary or the log end) and move the
    log start; returns the records removed."""
    table = _table(part)
    removed, freed = conn.execute(
        f"SELECT total(count), total(size) FROM {table} WHERE base < ?", (new_start,)
    ).fetchone()
    conn.execute(f"DELETE FROM {table} WHERE base < ?", (new_start,))
    conn.execute(
        "UPDATE partitions SET log_start = max(log_start, ?), bytes = bytes - ? WHERE part = ?",
        (new_start, int(freed), part),
    )
    # Fold time-index entries below the new start into one entry at the start, keeping the
    # running maximum they carried (lookups start at the log start anyway).
    folded = conn.execute(
        "SELECT max(max_ts) FROM tindex WHERE part = ? AND base_offset < ?", (part, new_start)
    ).fetchone()[0]
    if folded is not None:
        conn.execute("DELETE FROM tindex WHERE part = ? AND base_offset < ?", (part, new_start))
        conn.execute("INSERT OR IGNORE INTO tindex VALUES (?, ?, ?)", (part, folded, new_start))
    return int(removed)


def enforce_retention_time(conn: sqlite3.Connection, part: int, cutoff_ts: int) -> int:
    """Delete the oldest chunks whose newest record is older than `cutoff_ts`, up to the first
    chunk that is not (Kafka does the same with segments); returns records removed."""
    with _rewrite_tx(conn, part):
        start, end = bounds(conn, "", part)
        row = conn.execute(
            f"SELECT base FROM {_table(part)} WHERE max_ts >= ? ORDER BY base LIMIT 1",
            (cutoff_ts,),
        ).fetchone()
        new_start = end if row is None else int(row[0])
        if new_start <= start:
            return 0
        return _truncate_before(conn, part, new_start)


def enforce_retention_bytes(conn: sqlite3.Connection, part: int, limit: int) -> int:
    """Delete the oldest chunks while the partition would still hold at least `limit` bytes
    without them (Kafka's rule for segments); returns records removed."""
    with _rewrite_tx(conn, part):
        (held,) = conn.execute("SELECT bytes FROM partitions WHERE part = ?", (part,)).fetchone()
        if held <= limit:
            return 0
        _, end = bounds(conn, "", part)
        new_start = end
        remaining = int(held)
        for base, size in conn.execute(f"SELECT base, size FROM {_table(part)} ORDER BY base"):
            if remaining - size < limit:
                new_start = base
                break
            remaining -= size
        return _truncate_before(conn, part, int(new_start))


def compact(
    conn: sqlite3.Connection, part: int, now_ms: int, delete_retention_ms: int, min_lag_ms: int
) -> int:
    """Keep only the latest record per key among records older than `min_lag_ms`, and drop
    tombstones older than `delete_retention_ms`; offsets are kept (gaps). Returns removed.

    Two passes over the chunks, one chunk in memory at a time: the first finds the cleanable
    part and each key's latest offset in it, the second rewrites the chunks that change."""
    table = _table(part)
    with _rewrite_tx(conn, part) as reader:
        _, end = bounds(conn, "", part)
        limit = end  # the first offset that must not be cleaned yet
        young = now_ms - min_lag_ms
        latest: dict[bytes, int] = {}
        for base, kind, data in conn.execute(f"SELECT base, kind, data FROM {table} ORDER BY base"):
            entries = iter_entries(entries_of(*_blob(reader, part, kind, data)), base)
            for offset, ts, key, _value, _headers in entries:
                if min_lag_ms > 0 and ts > young and offset < limit:
                    limit = offset
                if offset < limit and key is not None:
                    latest[key] = offset
        tombstone_cutoff = now_ms - delete_retention_ms
        bases = [b for (b,) in conn.execute(f"SELECT base FROM {table} WHERE base < ?", (limit,))]
        removed = 0
        for base in bases:
            kind, data = conn.execute(
                f"SELECT kind, data FROM {table} WHERE base = ?", (base,)
            ).fetchone()
            entries = iter_entries(entries_of(*_blob(reader, part, kind, data)), base)
            kept = [
                e
                for e in entries
                if e[0] >= limit
                or e[2] is None
                or (latest[e[2]] == e[0] and not (e[3] is None and e[1] < tombstone_cutoff))
            ]
            if len(kept) == len(entries):
                continue
            removed += len(entries) - len(kept)
            if not kept:
                conn.execute(f"DELETE FROM {table} WHERE base = ?", (base,))
                continue
            size = sum(len(f) for e in kept for f in e[2:] if f)
            conn.execute(
                f"UPDATE {table} SET count = ?, max_ts = ?, size = ?, data = ?, kind = ? "
                "WHERE base = ?",
                (
                    len(kept),
                    max(e[1] for e in kept),
                    size,
                    pack_entries(kept, base),
                    KIND_ENTRIES,
                    base,
                ),
            )
        if removed:
            (held,) = conn.execute(f"SELECT total(size) FROM {table}").fetchone()
            conn.execute("UPDATE partitions SET bytes = ? WHERE part = ?", (int(held), part))
        return removed
