"""`EmbeddedEngine`: the `Cluster` protocol over a directory of SQLite databases.

Layout of a cluster directory:

* `cluster.db`: topic metadata (name, id, partition count, config overrides);
* `groups.db`: consumer groups, their members and committed offsets;
* `topics/<topic id>.db`: the partitioned log of one topic (see `engine.embedded.log`).

Splitting the log per topic keeps writers of different topics from waiting on one another,
and keeps group heartbeats and offset commits off the log's write lock. Each thread uses its
own connections; any number of processes may open the same directory.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import logging
import os
import random
import shutil
import sqlite3
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from engine.cluster import (
    DEFAULT_FETCH_MAX_BYTES,
    DEFAULT_FETCH_MAX_RECORDS,
    Assignor,
    AutoOffsetReset,
)
from engine.embedded import groups, log, metadata, segments
from engine.embedded.checkpoint import Checkpointer
from engine.embedded.chunks import KIND_BATCH, Chunk, StoredChunk, make_metadata
from engine.embedded.codec import check_headers, encode_headers
from engine.embedded.ends import EndOffsets, ends_path, lost_ranges
from engine.embedded.segment_sync import SegmentSyncer
from engine.embedded.sqlite import connect, data_version, write_tx
from engine.errors import (
    DamagedFileError,
    DataLossError,
    EngineError,
    InvalidPartitionsError,
    InvalidRecordError,
    InvalidTopicError,
    RecordTooLargeError,
    TopicAlreadyExistsError,
    UnknownTopicOrPartitionError,
)
from engine.topics import (
    RESERVED_TOPICS,
    apply_config_updates,
    collides,
    is_internal,
    validate_config,
    validate_partitions,
    validate_topic_name,
)
from engine.types import (
    ConsumedRecord,
    GroupDescription,
    GroupListing,
    OffsetAndMetadata,
    OffsetSpec,
    PartitionInfo,
    Record,
    RecordMetadata,
    TopicDescription,
    TopicPartition,
    TopicSettings,
)

if TYPE_CHECKING:
    from engine.embedded.clients import EmbeddedConsumer, EmbeddedProducer

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Default interval of the background retention and compaction pass (Kafka's
#: `log.retention.check.interval.ms` is five minutes).
DEFAULT_MAINTENANCE_INTERVAL_S = 300.0

#: How long an idempotent producer's batches are remembered after its last append (Kafka's
#: `producer.id.expiration.ms`, one day).
PRODUCER_EXPIRATION_MS = 24 * 60 * 60 * 1000

_CLUSTER_DB = "cluster.db"
_GROUPS_DB = "groups.db"
_SHARED_DBS = frozenset({_CLUSTER_DB, _GROUPS_DB})


def now_ms() -> int:
    """Wall-clock time in milliseconds (record timestamps, group sessions)."""
    return time.time_ns() // 1_000_000


@dataclass
class MaintenanceReport:
    """What one retention and compaction pass removed, per partition."""

    retention_deleted: dict[TopicPartition, int] = field(default_factory=dict)
    compaction_deleted: dict[TopicPartition, int] = field(default_factory=dict)

    @property
    def total_deleted(self) -> int:
        """Records removed by the pass."""
        return sum(self.retention_deleted.values()) + sum(self.compaction_deleted.values())


#: Topic databases one thread keeps open at most (each holds about three file descriptors in
#: WAL mode); the least recently used one beyond it is closed, so a cluster of tens of
#: thousands of topics does not run out of descriptors.
MAX_OPEN_TOPIC_DBS = 256


class _Connections:
    """One thread's connections by database, most recently used last; closed when the thread
    ends (its thread-local state is dropped) or when the engine closes."""

    def __init__(self) -> None:
        self.by_key: collections.OrderedDict[str, sqlite3.Connection] = collections.OrderedDict()

    def get(self, key: str) -> sqlite3.Connection | None:
        """The open connection to `key`, marked as just used."""
        conn = self.by_key.get(key)
        if conn is not None:
            self.by_key.move_to_end(key)
        return conn

    def add(self, key: str, conn: sqlite3.Connection, keep: frozenset[str]) -> None:
        """Remember a new connection; close the least recently used topic connections beyond
        `MAX_OPEN_TOPIC_DBS` (never those in `keep`, never one inside a transaction)."""
        self.by_key[key] = conn
        excess = len(self.by_key) - len(keep) - MAX_OPEN_TOPIC_DBS
        for old_key in list(self.by_key):
            if excess <= 0:
                break
            old = self.by_key[old_key]
            if old_key in keep or old_key == key or old.in_transaction:
                continue
            del self.by_key[old_key]
            with contextlib.suppress(sqlite3.Error):
                old.close()
            excess -= 1

    def close_all(self) -> None:
        """Close every connection of the thread."""
        by_key, self.by_key = self.by_key, collections.OrderedDict()
        for conn in by_key.values():
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    def __del__(self) -> None:
        self.close_all()


class _ThreadState(threading.local):
    def __init__(self, registry: weakref.WeakSet[_Connections]) -> None:
        self.conns = _Connections()
        registry.add(self.conns)
        self.topics: dict[str, metadata.TopicMeta] = {}
        self.version: int | None = None


class EmbeddedEngine:
    """The embedded stream engine: topics, the partitioned log and consumer groups in SQLite.

    `EmbeddedCluster` is the public face (it adds authorization); use this class directly
    only where the authorization layer is not wanted."""

    #: Every offset holds its record until retention or compaction removes it, so a gap
    #: below the end is lost data or an aborted transaction (see `Cluster.gaps_hide_records`).
    gaps_hide_records = True

    def __init__(
        self,
        path: str | Path,
        name: str = "default",
        *,
        maintenance_interval_s: float | None = DEFAULT_MAINTENANCE_INTERVAL_S,
        durable: bool = False,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self.name = name
        self.durable = durable
        (self.path / "topics").mkdir(parents=True, exist_ok=True)
        self._registry: weakref.WeakSet[_Connections] = weakref.WeakSet()
        self._state = _ThreadState(self._registry)
        self._clients: weakref.WeakSet[Any] = weakref.WeakSet()
        self._closed = False
        self._ends: dict[str, EndOffsets] = {}
        self._ends_lock = threading.Lock()
        #: Topics (by id) whose log ends before its acknowledged end: writes are refused.
        self._lost: dict[str, DataLossError] = {}
        self._sticky = itertools.count(random.randrange(1 << 16))
        self._checkpointer = Checkpointer(self._open_for_checkpoint, name=f"streamgov-wal-{name}")
        self._segment_syncer = SegmentSyncer(
            self._open_for_checkpoint, log.sync_segments, name=f"streamgov-segsync-{name}"
        )
        self._recovered: set[str] = set()  # topics whose segment files this process checked
        self._recover_lock = threading.Lock()
        metadata.init_metadata(self._db(_CLUSTER_DB))
        self._groups_ready = False
        try:
            self._groups()
        except DamagedFileError as exc:  # topics still work; group operations raise it
            logger.error("%s", exc)
        self._stop = threading.Event()
        self._maintenance: threading.Thread | None = None
        if maintenance_interval_s is not None:
            self._maintenance = threading.Thread(
                target=self._maintenance_loop,
                args=(maintenance_interval_s,),
                name=f"streamgov-maintenance-{name}",
                daemon=True,
            )
            self._maintenance.start()

    def __repr__(self) -> str:
        return f"EmbeddedEngine({str(self.path)!r}, name={self.name!r})"

    # -- connections and the metadata cache --------------------------------------------------

    def _db(self, key: str, *, create: bool = True, topic: str | None = None) -> sqlite3.Connection:
        conn = self._state.conns.get(key)
        if conn is None:
            if self._closed:
                raise RuntimeError(f"cluster {self.name!r} is closed")
            if key in (_CLUSTER_DB, _GROUPS_DB):
                file, page_size = self.path / key, None
            else:
                file, page_size = self.topic_file(key), log.PAGE_SIZE
            conn = connect(
                file,
                create=create,
                durable=self.durable,
                page_size=page_size,
                directory=self.path,
                topic=topic,
                background_checkpoints=key not in _SHARED_DBS,
            )
            self._state.conns.add(key, conn, _SHARED_DBS)
        return conn

    def _open_for_checkpoint(self, topic_id: str) -> sqlite3.Connection:
        """A connection of the checkpointer's own to a topic's log (FileNotFoundError once
        the topic is gone)."""
        return connect(
            self.topic_file(topic_id),
            create=False,
            durable=self.durable,
            directory=self.path,
            background_checkpoints=True,
        )

    def _groups(self) -> sqlite3.Connection:
        """The connection to `groups.db`, whose schema is created on first use."""
        conn = self._db(_GROUPS_DB)
        if not self._groups_ready:
            groups.init_groups(conn)
            self._groups_ready = True
        return conn

    def topic_file(self, topic_id: str) -> Path:
        """The database file holding the log of the topic with this id."""
        return self.path / "topics" / f"{topic_id}.db"

    def _drop_conn(self, key: str) -> None:
        conn = self._state.conns.by_key.pop(key, None)
        if conn is not None:
            conn.close()

    def _topics(self) -> dict[str, metadata.TopicMeta]:
        state = self._state
        version = data_version(self._db(_CLUSTER_DB))
        if version != state.version:
            fresh = metadata.load_topics(self._db(_CLUSTER_DB))
            live_ids = {meta.topic_id for meta in fresh.values()}
            for meta in state.topics.values():
                if meta.topic_id not in live_ids:
                    self._drop_conn(meta.topic_id)
            state.topics = fresh
            state.version = version
        return state.topics

    def _invalidate(self) -> None:
        # A connection's own commits do not change its data_version: reload explicitly.
        self._state.version = None

    def _meta(self, topic: str) -> metadata.TopicMeta:
        meta = self._topics().get(topic)
        if meta is None:
            raise UnknownTopicOrPartitionError(f"topic {topic!r} does not exist")
        return meta

    def _log(self, meta: metadata.TopicMeta) -> sqlite3.Connection:
        opened = meta.topic_id in self._state.conns.by_key
        try:
            conn = self._db(meta.topic_id, create=False, topic=meta.name)
        except FileNotFoundError:
            self._invalidate()
            raise UnknownTopicOrPartitionError(f"topic {meta.name!r} does not exist") from None
        if not opened:
            log.upgrade(conn)
            self._recover_segments(meta, conn)
            self._check_ends(meta, conn)
        return conn

    def _recover_segments(self, meta: metadata.TopicMeta, conn: sqlite3.Connection) -> None:
        """Check the batches of the topic's segment files not yet known to be on disk, once
        per process (see `log.recover_segments`)."""
        with self._recover_lock:  # claimed by one thread, checked outside the lock
            if meta.topic_id in self._recovered:
                return
            self._recovered.add(meta.topic_id)
        try:
            damaged = log.recover_segments(conn)
        except BaseException:
            with self._recover_lock:
                self._recovered.discard(meta.topic_id)  # the next opening thread tries again
            raise
        for part, (end, problem) in damaged.items():
            logger.error(
                "topic %r partition %d: a stored batch at offset %d is damaged (%s); "
                "the partition now ends there",
                meta.name,
                part,
                end,
                problem,
            )

    def _end_offsets(self, topic_id: str) -> EndOffsets:
        with self._ends_lock:
            ends = self._ends.get(topic_id)
            if ends is None:
                path = ends_path(self.topic_file(topic_id))
                ends = self._ends[topic_id] = EndOffsets(path, durable=self.durable)
            return ends

    def _check_ends(self, meta: metadata.TopicMeta, conn: sqlite3.Connection) -> None:
        """Compare the log's end offsets with the acknowledged ones (read first: both only
        grow, and the recorded ones follow the log)."""
        ends = self._end_offsets(meta.topic_id)
        recorded = ends.read()
        lost = lost_ranges(recorded, {p: e for p, _, e in log.all_bounds(conn)}) if recorded else {}
        if not lost:
            self._lost.pop(meta.topic_id, None)
            return
        error = DataLossError(str(self.topic_file(meta.topic_id)), str(ends.path), meta.name, lost)
        if meta.topic_id not in self._lost:
            logger.error("%s", error)
        self._lost[meta.topic_id] = error

    def _refuse_if_lost(self, meta: metadata.TopicMeta) -> None:
        if meta.topic_id in self._lost:
            self._check_ends(meta, self._log(meta))  # recovered by another process meanwhile?
            error = self._lost.get(meta.topic_id)
            if error is not None:
                raise error

    def _partition_counts(self, topics: Iterable[str]) -> dict[str, int]:
        known = self._topics()
        return {t: known[t].partitions for t in topics if t in known}

    # -- topics ------------------------------------------------------------------------------

    def create_topic(
        self, name: str, partitions: int = 1, config: Mapping[str, str] | None = None
    ) -> None:
        """Create a topic with `partitions` partitions and config overrides."""
        validate_topic_name(name)
        if name in RESERVED_TOPICS:
            raise InvalidTopicError(f"Topic {name!r} is reserved for Kafka's own use")
        validate_partitions(partitions)
        overrides = {k: v for k, v in validate_config(config).items() if v is not None}
        meta = metadata.TopicMeta(name, uuid.uuid4().hex, partitions, overrides)
        if name in self._topics():
            raise TopicAlreadyExistsError(f"Topic {name!r} already exists.")
        file = self.topic_file(meta.topic_id)
        conn = self._db(_CLUSTER_DB)
        try:
            log.init_topic(self._db(meta.topic_id, topic=name), name, meta.topic_id, partitions)
            with write_tx(conn):
                existing = metadata.load_topics(conn)
                if name in existing:
                    raise TopicAlreadyExistsError(f"Topic {name!r} already exists.")
                for other in existing:
                    if collides(name, other):
                        raise InvalidTopicError(
                            f"Topic {name!r} collides with existing topic {other!r} "
                            "('.' and '_' are interchangeable in metric names)"
                        )
                metadata.insert_topic(conn, meta, now_ms())
        except BaseException:
            self._drop_conn(meta.topic_id)
            _unlink_db(file)
            raise
        finally:
            self._invalidate()

    def delete_topic(self, name: str) -> None:
        """Delete a topic, its records and the groups' committed offsets for it."""
        conn = self._db(_CLUSTER_DB)
        with write_tx(conn):
            meta = metadata.load_topics(conn).get(name)
            if meta is None:
                raise UnknownTopicOrPartitionError(f"topic {name!r} does not exist")
            metadata.remove_topic(conn, name)
        self._invalidate()
        with contextlib.suppress(FileNotFoundError, DamagedFileError):
            log.mark_deleted(self._db(meta.topic_id, create=False, topic=name))
        self._drop_conn(meta.topic_id)
        self._forget_ends(meta.topic_id)
        _unlink_db(self.topic_file(meta.topic_id))
        groups.forget_topic(self._groups(), name)

    def _forget_ends(self, topic_id: str) -> None:
        with self._ends_lock:
            ends = self._ends.pop(topic_id, None)
        if ends is not None:
            ends.close()
        self._lost.pop(topic_id, None)

    def list_topics(self, include_internal: bool = False) -> list[str]:
        """Topic names, sorted; internal ones (leading underscore) only when asked."""
        return sorted(t for t in self._topics() if include_internal or not is_internal(t))

    def topic_metadata(self) -> dict[str, metadata.TopicMeta]:
        """Every topic's metadata (id, partition count, config overrides), from this
        thread's cache: no log database is opened (the Kafka listener's Metadata answers)."""
        return dict(self._topics())

    def topic_settings(self, names: Sequence[str]) -> dict[str, TopicSettings]:
        """Partition count and effective config of each named topic that exists, from the
        metadata cache: no log database is opened."""
        topics = self._topics()
        return {
            name: TopicSettings(topics[name].partitions, topics[name].config)
            for name in names
            if name in topics
        }

    def describe_topic(self, name: str) -> TopicDescription:
        """Partitions with earliest/latest offsets and bytes held, and the effective config.

        The size is the key, value and header bytes of the records the partition holds
        (storage overhead not counted), read from a per-partition counter: no scan."""
        meta = self._meta(name)
        parts = tuple(
            PartitionInfo(p, s, e, b) for p, s, e, b in log.partition_states(self._log(meta))
        )
        return TopicDescription(name, parts, meta.config, is_internal(name))

    def add_partitions(self, name: str, total: int) -> None:
        """Grow the topic to `total` partitions."""
        validate_partitions(total)
        conn = self._db(_CLUSTER_DB)
        try:
            with write_tx(conn):
                meta = metadata.load_topics(conn).get(name)
                if meta is None:
                    raise UnknownTopicOrPartitionError(f"topic {name!r} does not exist")
                if total == meta.partitions:
                    raise InvalidPartitionsError(f"Topic already has {total} partitions.")
                if total < meta.partitions:
                    raise InvalidPartitionsError(
                        f"Topic currently has {meta.partitions} partitions, which is higher "
                        f"than the requested {total}."
                    )
                log.add_partitions(self._log(meta), total)
                metadata.set_partitions(conn, name, total)
        finally:
            self._invalidate()

    def alter_topic_config(self, name: str, updates: Mapping[str, str | None]) -> None:
        """Set config overrides; None resets a key to its default."""
        conn = self._db(_CLUSTER_DB)
        try:
            with write_tx(conn):
                meta = metadata.load_topics(conn).get(name)
                if meta is None:
                    raise UnknownTopicOrPartitionError(f"topic {name!r} does not exist")
                overrides = apply_config_updates(meta.overrides, updates)
                metadata.set_overrides(conn, name, overrides)
        finally:
            self._invalidate()

    # -- the log -----------------------------------------------------------------------------

    def produce(self, topic: str, records: Sequence[Record]) -> list[RecordMetadata]:
        """Append records atomically (one transaction) and return where each landed."""
        stamp = now_ms()
        rows: list[log.Row] = []
        for record in records:
            rows.append(
                make_row(
                    record.key,
                    record.value,
                    record.headers,
                    stamp if record.timestamp_ms is None else record.timestamp_ms,
                    record.partition,
                )
            )
        return self.append_rows(topic, rows)

    def append_rows(
        self, topic: str, rows: list[log.Row], producers: Sequence[log.ProducerBatch] = ()
    ) -> list[RecordMetadata]:
        """Append prepared rows (see `make_row`) in one transaction; the producer's fast path.
        `producers`: idempotent producers' batches among the rows, remembered with them (see
        `producer_batches`)."""
        if not rows:
            self._meta(topic)
            return []
        meta = self._meta(topic)
        _check_append(
            meta, max(row[5] for row in rows), meta.compacted and any(r[0] is None for r in rows)
        )
        if meta.log_append_time:
            stamp = now_ms()
            rows = [(k, v, h, stamp, p, s) for k, v, h, _, p, s in rows]
        sticky = next(self._sticky)

        def write(conn: sqlite3.Connection) -> tuple[tuple[list[int], list[int]], dict[int, int]]:
            parts, bases, ends = log.append(conn, topic, rows, sticky, producers, now_ms())
            return (parts, bases), ends

        parts, bases = self._write(meta, write, sum(row[5] for row in rows))
        return make_metadata(RecordMetadata, topic, parts, bases, rows)

    def _write(
        self,
        meta: metadata.TopicMeta,
        write: Callable[[sqlite3.Connection], tuple[T, dict[int, int]]],
        nbytes: int,
    ) -> T:
        """Run an append of about `nbytes` on the topic's log (`write` returns its result and
        the partitions' new end offsets), then record the end offsets; the background
        checkpointer is told what was written."""
        conn = self._log(meta)
        self._refuse_if_lost(meta)
        try:
            result, ends = write(conn)
        except UnknownTopicOrPartitionError:
            self._invalidate()
            raise
        # What the commit added to the WAL: whole pages, at least one per partition written
        # and the partitions row's, however few bytes were appended. Counting the records'
        # bytes alone let a stream of small appends grow the WAL to the commits' own fallback
        # limit, whose checkpoint then ran inside a producer's commit.
        self._checkpointer.wrote(meta.topic_id, nbytes + (len(ends) + 1) * log.PAGE_SIZE)
        try:
            self._end_offsets(meta.topic_id).raise_to(ends)
        except OSError as exc:  # the records are stored: report them as written
            logger.warning("cannot record the end offsets of topic %r: %s", meta.name, exc)
        return result

    def append_packed(
        self,
        topic: str,
        per_partition: dict[int, list[Chunk]] | dict[int, list[Chunk | StoredChunk]],
        largest: int,
        keyless: bool,
        producers: Sequence[log.ProducerBatch] = (),
    ) -> dict[int, int]:
        """Append record chunks already packed per partition (`chunks.pack_chunks`, the
        Kafka listener's C codec, which packs Kafka batches without building rows, or Kafka
        batches stored as they arrived: `chunks.KIND_BATCH`) in one
        transaction; `largest` is the largest record's size and `keyless` whether any record
        has no key (both checked as `append_rows` checks them); `producers` as for
        `append_rows`. Returns each partition's first new offset. Topics with LogAppendTime
        need `append_rows` (it rewrites timestamps): ValueError here."""
        meta = self._meta(topic)
        if meta.log_append_time:
            raise ValueError(f"topic {topic!r} uses LogAppendTime: append rows instead")
        _check_append(meta, largest, meta.compacted and keyless)
        # What reaches the WAL: a batch goes to a segment file, only its place to the log.
        chunks = [chunk for listed in per_partition.values() for chunk in listed]
        batches = [chunk for chunk in chunks if len(chunk) > 4 and chunk[4] == KIND_BATCH]
        nbytes = sum(len(chunk[3]) for chunk in chunks) - sum(len(c[3]) for c in batches)
        result = self._write(
            meta,
            lambda conn: log.append_packed(
                conn, topic, per_partition, producers, now_ms(), meta.segment_bytes
            ),
            nbytes,
        )
        if batches:
            self._segment_syncer.wrote(meta.topic_id)
        return result

    def fetch(
        self,
        topic: str,
        partition: int,
        offset: int,
        max_records: int = DEFAULT_FETCH_MAX_RECORDS,
        max_bytes: int = DEFAULT_FETCH_MAX_BYTES,
    ) -> list[ConsumedRecord]:
        """Records from `offset` on; `OffsetOutOfRangeError` outside [earliest, latest]."""
        return self.fetch_to_end(topic, partition, offset, max_records, max_bytes)[0]

    def fetch_to_end(
        self,
        topic: str,
        partition: int,
        offset: int,
        max_records: int = DEFAULT_FETCH_MAX_RECORDS,
        max_bytes: int = DEFAULT_FETCH_MAX_BYTES,
    ) -> tuple[list[ConsumedRecord], int]:
        """`fetch`, plus the log end offset of the same snapshot (used by the consumer)."""
        meta = self._meta(topic)
        return log.fetch(self._log(meta), topic, partition, offset, max_records, max_bytes)

    def remove_records(self, topic: str, partition: int, ranges: Sequence[tuple[int, int]]) -> int:
        """Remove the records whose offsets fall in the inclusive `ranges`, keeping every other
        offset (gaps, as compaction leaves); returns how many were removed. The Kafka listener
        uses it to drop the records of an aborted transaction."""
        meta = self._meta(topic)
        return log.remove_ranges(self._log(meta), topic, partition, ranges)

    def delete_records(self, topic: str, partition: int, before: int | None) -> int:
        """Kafka's DeleteRecords: remove every record below `before` (None: the log end) and
        move the partition's log start there; returns the new log start offset."""
        meta = self._meta(topic)
        return log.delete_before(self._log(meta), topic, partition, before)

    def fetch_chunks(
        self, topic: str, partition: int, offset: int, max_bytes: int
    ) -> tuple[list[tuple[int, int, int, bytes]], int, int]:
        """Stored chunks (base offset, last offset, kind, blob) from the one holding
        `offset`, about `max_bytes` of them, with the log start and end offsets: the Kafka
        listener's fetch path, which serves stored batches as they are and encodes other
        chunks straight into record batches (see `log.read_chunks`)."""
        meta = self._meta(topic)
        return log.read_chunks(self._log(meta), topic, partition, offset, max_bytes)

    def producer_batches(
        self, topic: str, partition: int, producer_id: int
    ) -> list[tuple[int, int, int, int]]:
        """The last batches an idempotent producer appended to a partition (at most five, of
        its latest epoch), oldest first: (epoch, first sequence, last sequence, base offset).
        They outlive the process, so that a retried batch is recognised after a restart."""
        return log.producer_batches(self._log(self._meta(topic)), partition, producer_id)

    def partition_bounds(self, topic: str) -> dict[int, tuple[int, int]]:
        """Per partition: (log start, log end), in one query."""
        return {p: (s, e) for p, s, e in log.all_bounds(self._log(self._meta(topic)))}

    def list_offsets(self, topic: str, spec: OffsetSpec | int) -> dict[int, int]:
        """Per partition: earliest, latest, or the first offset at or after a timestamp."""
        conn = self._log(self._meta(topic))
        bounds = log.all_bounds(conn)
        if spec is OffsetSpec.EARLIEST:
            return {p: s for p, s, _ in bounds}
        if spec is OffsetSpec.LATEST:
            return {p: e for p, _, e in bounds}
        if isinstance(spec, bool) or not isinstance(spec, int):
            raise TypeError(f"an offset spec is OffsetSpec or a timestamp in ms, got {spec!r}")
        return {p: log.offset_for_timestamp(conn, topic, p, spec) for p, _, _ in bounds}

    # -- consumer groups ---------------------------------------------------------------------

    def _check_partitions(self, offsets: Iterable[TopicPartition]) -> None:
        known = self._topics()
        for tp in offsets:
            meta = known.get(tp.topic)
            if meta is None or not 0 <= tp.partition < meta.partitions:
                raise UnknownTopicOrPartitionError(
                    f"cannot commit an offset for {tp.topic}-{tp.partition}: no such partition"
                )

    def commit_offsets(
        self, group_id: str, offsets: Mapping[TopicPartition, OffsetAndMetadata]
    ) -> None:
        """Commit offsets as an admin or a standalone consumer (refused while members live)."""
        self._check_partitions(offsets)
        groups.commit(self._groups(), group_id, offsets, self._clock(), self._partition_counts)

    def commit_member_offsets(
        self,
        group_id: str,
        member_id: str,
        generation: int,
        offsets: Mapping[TopicPartition, OffsetAndMetadata],
    ) -> None:
        """Commit offsets as a group member of the given generation."""
        self._check_partitions(offsets)
        groups.commit(
            self._groups(),
            group_id,
            offsets,
            self._clock(),
            self._partition_counts,
            member=(member_id, generation),
        )

    def committed_offsets(
        self, group_id: str, topics: Iterable[str] | None = None
    ) -> dict[TopicPartition, OffsetAndMetadata]:
        """The group's committed offsets, optionally only for some topics."""
        return groups.committed(self._groups(), group_id, topics)

    def list_groups(self) -> list[GroupListing]:
        """Every consumer group that has members or committed offsets."""
        return groups.list_groups(self._groups(), self._clock(), self._partition_counts)

    def describe_group(self, group_id: str) -> GroupDescription:
        """State, protocol, generation and members with their assignment."""
        return groups.describe(self._groups(), group_id, self._clock(), self._partition_counts)

    def delete_group(self, group_id: str) -> None:
        """Delete an empty group and its offsets."""
        groups.delete(self._groups(), group_id, self._clock(), self._partition_counts)

    def delete_group_offsets(self, group_id: str, partitions: Iterable[TopicPartition]) -> set[str]:
        """Delete committed offsets of some partitions (Kafka's OffsetDelete) except on topics
        live members subscribe to; returns those topics. `GroupIdNotFoundError` if unknown."""
        return groups.delete_offsets(
            self._db(_GROUPS_DB), group_id, partitions, now_ms(), self._partition_counts
        )

    def group_join(
        self, group_id: str, member_id: str | None, spec: groups.MemberSpec
    ) -> groups.Heartbeat:
        """Join or rejoin a group (used by `EmbeddedConsumer`)."""
        return groups.join(
            self._groups(), group_id, member_id, spec, self._clock(), self._partition_counts
        )

    def mark_external_group(self, description: GroupDescription, ttl_ms: int = 0) -> None:
        """Record a group of Kafka-protocol members as the Kafka listener sees it, for `ttl_ms`
        (the listener refreshes it; no members clears it): `describe_group` and `list_groups`
        show it, and the engine's own consumers are refused from it meanwhile."""
        groups.mark_external(self._db(_GROUPS_DB), description, now_ms() + ttl_ms)

    def group_member_count(self, group_id: str) -> int:
        """Live members of the group among the engine's own consumers."""
        return groups.member_count(self._db(_GROUPS_DB), group_id, now_ms(), self._partition_counts)

    def group_heartbeat(self, group_id: str, member_id: str) -> groups.Heartbeat:
        """Heartbeat a member (used by `EmbeddedConsumer`)."""
        return groups.heartbeat(
            self._groups(), group_id, member_id, self._clock(), self._partition_counts
        )

    def group_leave(self, group_id: str, member_id: str) -> None:
        """Leave a group (used by `EmbeddedConsumer`)."""
        groups.leave(self._groups(), group_id, member_id, self._clock(), self._partition_counts)

    # -- clients -----------------------------------------------------------------------------

    def producer(self, **options: object) -> EmbeddedProducer:
        """A batching producer: `send` buffers, `flush` writes one transaction per topic.

        `batch_records` is its one option; Kafka client options with no meaning here
        (`linger_ms`, `acks`, ...) are accepted and ignored, so callers work on both backends."""
        from engine.embedded.clients import PRODUCER_OPTIONS, EmbeddedProducer, client_options

        producer = EmbeddedProducer(self, **client_options(options, PRODUCER_OPTIONS, "producer"))
        self._clients.add(producer)
        return producer

    def consumer(
        self,
        group_id: str | None = None,
        *,
        auto_offset_reset: AutoOffsetReset = "latest",
        assignor: Assignor = "range",
        session_timeout_ms: int = 10_000,
        heartbeat_interval_ms: int = 3_000,
        client_id: str = "streamgov",
        **options: object,
    ) -> EmbeddedConsumer:
        """A consumer; with `group_id` it can `subscribe` and take part in rebalances.

        Options: `max_poll_interval_ms`, `enable_auto_commit`, `auto_commit_interval_ms`;
        Kafka client options with no meaning here (`fetch_min_bytes`, ...) are ignored."""
        from engine.embedded.clients import CONSUMER_OPTIONS, EmbeddedConsumer, client_options

        consumer = EmbeddedConsumer(
            self,
            group_id,
            auto_offset_reset=auto_offset_reset,
            assignor=assignor,
            session_timeout_ms=session_timeout_ms,
            heartbeat_interval_ms=heartbeat_interval_ms,
            client_id=client_id,
            **client_options(options, CONSUMER_OPTIONS, "consumer"),
        )
        self._clients.add(consumer)
        return consumer

    # -- damage and recovery -----------------------------------------------------------------

    def check_storage(self) -> list[DamagedFileError]:
        """Open every database of the cluster and report the damaged ones: topics whose log
        lost acknowledged records (`DataLossError`, writes refused), unreadable topic files,
        and an unreadable `groups.db`. Listing them does not change anything."""
        found: list[DamagedFileError] = []
        for meta in self._topics().values():
            try:
                conn = self._log(meta)
                self._check_ends(meta, conn)
                log.all_bounds(conn)
            except UnknownTopicOrPartitionError:
                continue
            except DamagedFileError as exc:
                found.append(exc)
                continue
            lost = self._lost.get(meta.topic_id)
            if lost is not None:
                found.append(lost)
        try:
            self._groups().execute("SELECT count(*) FROM offsets").fetchone()
        except DamagedFileError as exc:
            found.append(exc)
        return found

    def recover(self, *, include_internal: bool = False) -> list[DataLossError]:
        """Accept the loss of records that `check_storage` reports: each damaged partition's
        next offset moves up to its acknowledged end, so the lost offsets stay unused (a
        consumer reading past them skips the gap) and writes are accepted again. Returns the
        losses accepted. Damaged (unreadable) files are left alone: delete their topic.

        Internal topics (state logs such as `_schemas`) keep refusing writes unless
        `include_internal`: the commands they lost are gone from their component's state (the
        state log tells the fold of the gap, so the registry hands out no lost id again, but
        lost versions, deletes and settings are gone), so restoring a backup is the safe way
        back."""
        accepted: list[DataLossError] = []
        for meta in self._topics().values():
            if is_internal(meta.name) and not include_internal:
                continue
            try:
                conn = self._log(meta)
                self._check_ends(meta, conn)
            except (UnknownTopicOrPartitionError, DamagedFileError):
                continue
            lost = self._lost.get(meta.topic_id)
            if lost is None:
                continue
            log.raise_ends(conn, {part: end for part, (_, end) in lost.lost.items()})
            self._check_ends(meta, conn)
            logger.warning("recovered: accepted the loss in %s", lost)
            accepted.append(lost)
        return accepted

    # -- maintenance -------------------------------------------------------------------------

    def run_maintenance(self, now: int | None = None) -> MaintenanceReport:
        """Enforce retention (time, bytes) and compaction on every topic now."""
        stamp = now_ms() if now is None else now
        report = MaintenanceReport()
        for meta in list(self._topics().values()):
            try:
                self._maintain_topic(meta, stamp, report)
            except UnknownTopicOrPartitionError:
                continue  # deleted meanwhile
            except DamagedFileError as exc:  # the others are still maintained
                logger.warning("maintenance skipped: %s", exc)
        self._sweep_orphans()
        return report

    def _maintain_topic(
        self, meta: metadata.TopicMeta, stamp: int, report: MaintenanceReport
    ) -> None:
        config = meta.config
        policy = config["cleanup.policy"].split(",")
        conn = self._log(meta)
        log.sync_segments(conn)
        for name in log.remove_orphan_segments(conn):
            logger.info(
                "topic %r: removed the segment file %s, which no row names", meta.name, name
            )
        log.expire_producers(conn, stamp - PRODUCER_EXPIRATION_MS)
        for part, _, _ in log.all_bounds(conn):
            tp = TopicPartition(meta.name, part)
            removed = 0
            if "delete" in policy:
                retention_ms = int(config["retention.ms"])
                retention_bytes = int(config["retention.bytes"])
                if retention_ms >= 0:
                    removed += log.enforce_retention_time(conn, part, stamp - retention_ms)
                if retention_bytes >= 0:
                    removed += log.enforce_retention_bytes(conn, part, retention_bytes)
            if removed:
                report.retention_deleted[tp] = removed
            if "compact" in policy:
                compacted = log.compact(
                    conn,
                    part,
                    stamp,
                    int(config["delete.retention.ms"]),
                    int(config["min.compaction.lag.ms"]),
                )
                if compacted:
                    report.compaction_deleted[tp] = compacted

    def _sweep_orphans(self) -> None:
        """Remove the files of topics no topic refers to (left by a crash during create or
        delete): databases, end-offset files, segment folders."""
        live = {meta.topic_id for meta in self._topics().values()}
        cutoff = time.time() - 600
        topics = self.path / "topics"
        for file in [*topics.glob("*.db"), *topics.glob("*.ends"), *topics.glob("*.segments")]:
            with contextlib.suppress(OSError):
                if file.stem not in live and file.stat().st_mtime < cutoff:
                    _unlink_db(file.with_suffix(".db"))

    def _maintenance_loop(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.run_maintenance()
            except Exception:  # keep the thread alive; the next pass retries
                logger.exception("maintenance pass on cluster %s failed", self.name)

    def close(self) -> None:
        """Close every client made by this engine, stop maintenance, close the databases."""
        if self._closed:
            return
        for client in list(self._clients):
            with contextlib.suppress(Exception):
                client.close()
        self._stop.set()
        if self._maintenance is not None and self._maintenance is not threading.current_thread():
            self._maintenance.join(timeout=30)
        self._checkpointer.close()
        self._segment_syncer.close()
        self._closed = True
        self._checkpoint_all()
        for conns in list(self._registry):
            conns.close_all()
        with self._ends_lock:
            ends, self._ends = list(self._ends.values()), {}
        for end_offsets in ends:
            end_offsets.close()

    def _checkpoint_all(self) -> None:
        """Copy every write-ahead log into its database and empty it, so that the `.db` files
        alone hold the data after a clean stop (best effort: a database another process is
        reading keeps the frames that reader still needs)."""
        checkpointed: set[str] = set()
        for conns in list(self._registry):
            for key, conn in list(conns.by_key.items()):
                if key in checkpointed:
                    continue
                checkpointed.add(key)
                try:
                    if key not in _SHARED_DBS:  # a topic: its segment files are on disk
                        log.sync_segments(conn)
                    # Wait briefly only: another process writing on must not hold up a stop.
                    conn.execute("PRAGMA busy_timeout=200")
                    (busy, _, _) = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                    if busy:  # copy what can be copied without waiting
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except (sqlite3.Error, EngineError) as exc:
                    logger.debug("checkpoint of %s on close failed: %s", key, exc)


def _check_append(meta: metadata.TopicMeta, largest: int, keyless_on_compacted: bool) -> None:
    """Refuse a whole append whose largest record passes max.message.bytes, or that puts a
    record without a key on a compacted topic."""
    limit = meta.max_message_bytes
    if largest > limit:
        raise RecordTooLargeError(
            f"a record of {largest} bytes is larger than max.message.bytes={limit} of "
            f"topic {meta.name!r}; nothing from this batch was written"
        )
    if keyless_on_compacted:
        raise InvalidRecordError(
            f"topic {meta.name!r} is compacted (cleanup.policy={meta.config['cleanup.policy']})"
            " and cannot accept a record without a key; nothing from this batch was written"
        )


def make_row(
    key: bytes | None,
    value: bytes | None,
    headers: Any,
    timestamp_ms: int,
    partition: int | None,
) -> log.Row:
    """Check one record's types and turn it into a storable row."""
    if key is not None and type(key) is not bytes:
        key = _as_bytes(key, "key")
    if value is not None and type(value) is not bytes:
        value = _as_bytes(value, "value")
    blob = encode_headers(check_headers(headers)) if headers else None
    if type(timestamp_ms) is not int:
        raise TypeError(f"a timestamp is an int of milliseconds, got {timestamp_ms!r}")
    if partition is not None and (type(partition) is not int or partition < 0):
        raise UnknownTopicOrPartitionError(f"partition {partition!r} is not valid")
    size = (0 if key is None else len(key)) + (0 if value is None else len(value))
    if blob is not None:
        size += len(blob)
    return (key, value, blob, timestamp_ms, partition, size)


def _as_bytes(data: object, what: str) -> bytes:
    if isinstance(data, bytearray | memoryview):
        return bytes(data)
    raise TypeError(f"a record {what} must be bytes or None, got {type(data).__name__}")


def _unlink_db(file: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{file}{suffix}")
    if file.suffix == ".db":
        with contextlib.suppress(FileNotFoundError):
            os.unlink(ends_path(file))
        shutil.rmtree(segments.directory(file), ignore_errors=True)
