"""The embedded engine's clients: a batching `Producer` and a group-aware `Consumer`."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from engine.cluster import Assignor, AutoOffsetReset
from engine.embedded import log
from engine.embedded.engine import EmbeddedEngine, make_row, now_ms
from engine.embedded.groups import Heartbeat, HeartbeatStatus, MemberSpec
from engine.errors import (
    EngineError,
    OffsetOutOfRangeError,
    RebalanceInProgressError,
    UnknownTopicOrPartitionError,
)
from engine.fastpath import native
from engine.types import ConsumedRecord, Headers, OffsetAndMetadata, RecordMetadata, TopicPartition

logger = logging.getLogger(__name__)

_time_ns = time.time_ns

#: Records a producer buffers before it writes them without waiting for `flush`.
DEFAULT_BATCH_RECORDS = 100_000

#: Options the embedded producer and consumer act on.
PRODUCER_OPTIONS = frozenset({"batch_records"})
CONSUMER_OPTIONS = frozenset(
    {"max_poll_interval_ms", "enable_auto_commit", "auto_commit_interval_ms"}
)

#: Kafka client options (librdkafka names with '_') that mean nothing to the embedded engine:
#: accepted and ignored, so the same call works on both backends.
IGNORED_OPTIONS = frozenset(
    {
        "acks",
        "batch_num_messages",
        "batch_size",
        "compression_type",
        "enable_idempotence",
        "fetch_max_bytes",
        "fetch_max_wait_ms",
        "fetch_min_bytes",
        "isolation_level",
        "linger_ms",
        "max_in_flight_requests_per_connection",
        "max_partition_fetch_bytes",
        "message_max_bytes",
        "queue_buffering_max_kbytes",
        "queue_buffering_max_messages",
        "queue_buffering_max_ms",
        "request_timeout_ms",
        "retries",
        "retry_backoff_ms",
        "socket_keepalive_enable",
        "statistics_interval_ms",
    }
)


def client_options(
    options: Mapping[str, object], accepted: frozenset[str], what: str
) -> dict[str, Any]:
    """The options a client acts on; Kafka-only options are dropped, unknown ones refused."""
    unknown = sorted(set(options) - accepted - IGNORED_OPTIONS)
    if unknown:
        raise TypeError(
            f"unknown {what} option(s) {', '.join(unknown)}; the embedded {what} takes "
            f"{', '.join(sorted(accepted))}"
        )
    return {key: value for key, value in options.items() if key in accepted}


class SendBufferPy:
    """The producer's record buffer and send path in pure Python: the reference for (and the
    fallback of) `engine._fastpath.SendBuffer`, which does the same without a lock because it
    runs entirely under the GIL.

    `send` queues rows for one topic at a time; a subclass supplies `_send_slow` (records
    that need checking) and `_spill` (writes what `_take` returns)."""

    def __init__(self, batch_records: int) -> None:
        if not isinstance(batch_records, int) or batch_records < 1:
            raise ValueError("batch_records must be a positive integer")
        self._rows: list[log.Row] = []
        self._topic: str | None = None
        self._limit = batch_records
        self._is_closed = False
        self._guard = threading.Lock()

    def send(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None = None,
        *,
        headers: Headers = (),
        partition: int | None = None,
        timestamp_ms: int | None = None,
    ) -> None:
        """Queue one record; it is acknowledged by the next `flush`."""
        if (
            headers
            or partition is not None
            or timestamp_ms is not None
            or topic.__class__ is not str
            or (key is not None and key.__class__ is not bytes)
            or (value is not None and value.__class__ is not bytes)
        ):
            self._send_slow(topic, value, key, headers, partition, timestamp_ms)
            return
        size = (0 if key is None else len(key)) + (0 if value is None else len(value))
        row = (key, value, None, _time_ns() // 1_000_000, None, size)
        with self._guard:  # the common case of `_push`, inline: one call less per record
            if not self._is_closed and self._topic == topic and self._rows:
                rows = self._rows
                rows.append(row)
                if len(rows) < self._limit:
                    return
            else:
                rows = None
        if rows is None:
            self._push(topic, row)
        else:
            self._spill()

    def _send_slow(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None,
        headers: Headers,
        partition: int | None,
        timestamp_ms: int | None,
    ) -> None:
        raise NotImplementedError  # supplied by the producer

    def _spill(self) -> None:
        raise NotImplementedError  # supplied by the producer

    def _push(self, topic: str, row: log.Row) -> None:
        while True:
            with self._guard:
                if self._is_closed:
                    raise RuntimeError("the producer is closed")
                if not self._rows or self._topic == topic:
                    self._topic = topic
                    self._rows.append(row)
                    full = len(self._rows) >= self._limit
                    break
            self._spill()  # rows of another topic are queued: write them first
        if full:
            self._spill()

    def _take(self) -> tuple[str | None, list[log.Row]]:
        with self._guard:
            rows, self._rows = self._rows, []
            return self._topic, rows

    def _restore(self, topic: str, rows: list[log.Row]) -> bool:
        with self._guard:
            if self._rows and self._topic != topic:
                return False
            self._rows = rows + self._rows
            self._topic = topic
            return True

    def _close_buffer(self) -> None:
        self._is_closed = True

    @property
    def pending(self) -> int:
        """Rows queued and not written yet."""
        return len(self._rows)

    @property
    def closed(self) -> bool:
        """Whether new rows are refused."""
        return self._is_closed


if TYPE_CHECKING:  # the C class has the same interface
    _SendBuffer = SendBufferPy
else:
    _SendBuffer = SendBufferPy if native is None else native.SendBuffer


class EmbeddedProducer(_SendBuffer):
    """Buffers records; `flush` writes each topic's buffer in one transaction.

    Records written early (when the buffer reaches `batch_records`, or when a record for
    another topic follows) are acknowledged, and their metadata is returned by the next
    `flush`, in send order. Thread-safe."""

    def __init__(self, engine: EmbeddedEngine, *, batch_records: int = DEFAULT_BATCH_RECORDS):
        super().__init__(batch_records)
        self._engine = engine
        self._written: list[RecordMetadata] = []
        self._write_lock = threading.RLock()

    def _send_slow(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None,
        headers: Headers,
        partition: int | None,
        timestamp_ms: int | None,
    ) -> None:
        if not isinstance(topic, str):
            raise TypeError(f"a topic name is a str, got {type(topic).__name__}")
        stamp = _time_ns() // 1_000_000 if timestamp_ms is None else timestamp_ms
        self._push(topic, make_row(key, value, headers, stamp, partition))

    def _spill(self) -> None:
        with self._write_lock:
            topic, rows = self._take()
            if not rows or topic is None:
                return
            try:
                self._written.extend(self._engine.append_rows(topic, rows))
            except BaseException:
                if not self._restore(topic, rows):
                    logger.warning(
                        "dropped %d unwritten records for %s: records for another topic "
                        "were queued meanwhile",
                        len(rows),
                        topic,
                    )
                raise

    def flush(self, timeout: float | None = None) -> list[RecordMetadata]:
        """Write everything buffered and return the metadata of every record since the last
        flush. On error nothing of the failing batch is written and it stays buffered."""
        with self._write_lock:
            self._spill()
            written, self._written = self._written, []
            return written

    def purge(self) -> int:
        """Drop buffered records that were not written yet; returns how many."""
        with self._write_lock:
            return len(self._take()[1])

    def close(self) -> None:
        """Flush and release the producer."""
        if not self.closed:
            self.flush()
            self._close_buffer()


class EmbeddedConsumer:
    """A consumer of the embedded engine, with Kafka's group membership across processes.

    Membership is kept alive by a background heartbeat thread; `poll` performs rebalances
    (eager: all partitions are revoked, then the new assignment is taken)."""

    def __init__(
        self,
        engine: EmbeddedEngine,
        group_id: str | None = None,
        *,
        auto_offset_reset: AutoOffsetReset = "latest",
        assignor: Assignor = "range",
        session_timeout_ms: int = 10_000,
        heartbeat_interval_ms: int = 3_000,
        client_id: str = "streamgov",
        max_poll_interval_ms: int = 300_000,
        enable_auto_commit: bool = False,
        auto_commit_interval_ms: int = 5_000,
    ) -> None:
        if auto_offset_reset not in ("earliest", "latest", "error"):
            raise ValueError(
                f"auto_offset_reset must be earliest, latest or error, got {auto_offset_reset!r}"
            )
        if assignor not in ("range", "roundrobin"):
            raise ValueError(f"assignor must be range or roundrobin, got {assignor!r}")
        if heartbeat_interval_ms <= 0 or session_timeout_ms <= heartbeat_interval_ms:
            raise ValueError("heartbeat_interval_ms must be positive and below session_timeout_ms")
        self._engine = engine
        self.group_id = group_id
        self._reset = auto_offset_reset
        self._assignor: Assignor = assignor
        self._session_ms = session_timeout_ms
        self._heartbeat_s = heartbeat_interval_ms / 1000
        self._client_id = client_id
        self._rebalance_ms = max_poll_interval_ms
        self._auto_commit = enable_auto_commit
        self._auto_commit_s = auto_commit_interval_ms / 1000
        self._last_commit = time.monotonic()
        self._lock = threading.RLock()
        self._subscription: tuple[str, ...] = ()
        self._manual = False
        self._assignment: list[TopicPartition] = []
        self._positions: dict[TopicPartition, int] = {}
        self._next = 0
        self._member_id: str | None = None
        self._generation = -1
        self._needs_join = False
        self._awaiting = False
        self._last_heartbeat = 0.0
        self._closed = False
        self._stop = threading.Event()
        self._heartbeat_thread: threading.Thread | None = None

    # -- assignment --------------------------------------------------------------------------

    def subscribe(self, topics: Sequence[str]) -> None:
        """Join the group and take part in partition assignment for these topics."""
        if self.group_id is None:
            raise EngineError("subscribe needs a consumer created with a group_id")
        if isinstance(topics, str) or not topics:
            raise ValueError("subscribe takes a non-empty list of topic names")
        with self._lock:
            self._check_open()
            self._manual = False
            self._subscription = tuple(dict.fromkeys(topics))
            self._revoke()
            self._join()
            if self._heartbeat_thread is None:
                self._heartbeat_thread = threading.Thread(
                    target=self._heartbeat_loop, name="streamgov-heartbeat", daemon=True
                )
                self._heartbeat_thread.start()

    def assign(self, partitions: Sequence[TopicPartition]) -> None:
        """Read exactly these partitions, without group membership."""
        with self._lock:
            self._check_open()
            if self._member_id is not None:
                self._leave()
            self._subscription = ()
            self._manual = True
            self._take(list(dict.fromkeys(TopicPartition(*tp) for tp in partitions)))

    def assignment(self) -> list[TopicPartition]:
        """The partitions this consumer currently reads."""
        with self._lock:
            return list(self._assignment)

    def _take(self, partitions: list[TopicPartition]) -> None:
        committed = (
            self._engine.committed_offsets(self.group_id, {tp.topic for tp in partitions})
            if self.group_id
            else {}
        )
        positions: dict[TopicPartition, int] = {}
        for tp in partitions:
            if tp in self._positions:
                positions[tp] = self._positions[tp]
            elif tp in committed:
                positions[tp] = committed[tp].offset
            else:
                positions[tp] = self._reset_position(tp)
        self._assignment = partitions
        self._positions = positions
        self._next = 0

    def _reset_position(self, tp: TopicPartition) -> int:
        if self._reset == "error":
            raise OffsetOutOfRangeError(
                f"no valid offset for {tp.topic}-{tp.partition} and auto_offset_reset is 'error'"
            )
        start, end = self._bounds(tp)
        return start if self._reset == "earliest" else end

    def _bounds(self, tp: TopicPartition) -> tuple[int, int]:
        info = self._engine.describe_topic(tp.topic).partitions
        if not 0 <= tp.partition < len(info):
            return 0, 0
        return info[tp.partition].earliest_offset, info[tp.partition].latest_offset

    def _revoke(self) -> None:
        if self._auto_commit and self._member_id and self._assignment:
            with contextlib.suppress(EngineError, RuntimeError):
                self._commit_positions()
        self._assignment = []
        self._positions = {}

    # -- group membership --------------------------------------------------------------------

    def _spec(self) -> MemberSpec:
        return MemberSpec(
            client_id=self._client_id,
            host=f"{socket.gethostname()}/{os.getpid()}",
            topics=self._subscription,
            assignor=self._assignor,
            session_timeout_ms=self._session_ms,
            rebalance_timeout_ms=self._rebalance_ms,
        )

    def _join(self) -> None:
        assert self.group_id is not None
        answer = self._engine.group_join(self.group_id, self._member_id, self._spec())
        self._needs_join = False
        self._handle(answer)

    def _handle(self, answer: Heartbeat) -> None:
        self._last_heartbeat = time.monotonic()
        self._member_id = answer.member_id
        self._awaiting = answer.status == HeartbeatStatus.AWAITING
        if answer.status == HeartbeatStatus.STABLE:
            if answer.generation != self._generation or (
                not self._assignment and answer.assignment
            ):
                self._generation = answer.generation
                self._take(list(answer.assignment))
        elif answer.status == HeartbeatStatus.UNKNOWN_MEMBER:
            self._member_id = None
            self._generation = -1
            self._revoke()
            self._needs_join = True
        elif answer.status == HeartbeatStatus.REJOIN:
            self._revoke()
            self._needs_join = True

    def _coordinate(self) -> bool:
        """Advance group membership; True once this member has a current assignment."""
        if self._manual or not self._subscription:
            return True
        assert self.group_id is not None
        if self._needs_join or self._member_id is None:
            self._join()
        elif self._awaiting or time.monotonic() - self._last_heartbeat >= self._heartbeat_s:
            # While awaiting the others, ask on every poll round: the answer is the assignment.
            self._handle(self._engine.group_heartbeat(self.group_id, self._member_id))
        if self._needs_join:
            self._join()
        return (
            not self._needs_join
            and not self._awaiting
            and self._generation >= 0
            and bool(self._member_id)
        )

    def _heartbeat_loop(self) -> None:
        while not self._stop.wait(self._heartbeat_s / 2):
            with self._lock:
                # Beats go on while a rejoin is pending, as in Kafka: then the rebalance
                # timeout (max_poll_interval_ms), not the session, bounds how long the group
                # waits for this member to poll again.
                if self._closed or self._manual or self._member_id is None:
                    continue
                if time.monotonic() - self._last_heartbeat < self._heartbeat_s:
                    continue
                try:
                    answer = self._engine.group_heartbeat(self.group_id or "", self._member_id)
                except Exception:  # the next beat retries; poll surfaces persistent errors
                    logger.debug("heartbeat failed", exc_info=True)
                    continue
                self._last_heartbeat = time.monotonic()
                if answer.status in (HeartbeatStatus.REJOIN, HeartbeatStatus.UNKNOWN_MEMBER):
                    self._needs_join = True
                    if answer.status == HeartbeatStatus.UNKNOWN_MEMBER:
                        self._member_id = None

    def _leave(self) -> None:
        if self.group_id and self._member_id:
            self._revoke()
            # A closed cluster (RuntimeError) has nobody left to tell; the session expires.
            with contextlib.suppress(EngineError, RuntimeError):
                self._engine.group_leave(self.group_id, self._member_id)
        self._member_id = None
        self._generation = -1
        self._assignment = []
        self._positions = {}

    # -- reading -----------------------------------------------------------------------------

    def poll(self, timeout: float = 1.0, max_records: int = 500) -> list[ConsumedRecord]:
        """The next records from the assigned partitions (none after `timeout` seconds)."""
        deadline = time.monotonic() + max(timeout, 0.0)
        pause = 0.001
        while True:
            with self._lock:
                self._check_open()
                ready = self._coordinate()
                if ready:
                    self._maybe_auto_commit()
                    records = self._fetch(max_records)
                    if records:
                        return records
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, 0.05 if ready else 0.02)

    def _fetch(self, max_records: int) -> list[ConsumedRecord]:
        partitions = self._assignment
        if not partitions:
            return []
        result: list[ConsumedRecord] = []
        count = len(partitions)
        for step in range(count):
            if len(result) >= max_records:
                break
            tp = partitions[(self._next + step) % count]
            position = self._positions[tp]
            try:
                records, end = self._engine.fetch_to_end(
                    tp.topic, tp.partition, position, max_records - len(result)
                )
            except OffsetOutOfRangeError:
                if self._reset == "error":
                    raise
                self._positions[tp] = self._reset_position(tp)
                continue
            except UnknownTopicOrPartitionError:
                # Deleted meanwhile: nothing to read (a group rebalances it away), as a Kafka
                # consumer keeps polling through a missing topic.
                continue
            if records:
                self._positions[tp] = records[-1].offset + 1
                result.extend(records)
            elif position < end:  # compaction emptied the rest of the log: skip the gap
                self._positions[tp] = end
        self._next = (self._next + 1) % count
        return result

    # -- positions and commits ---------------------------------------------------------------

    def seek(self, partition: TopicPartition, offset: int) -> None:
        """Set the next offset to read from an assigned partition."""
        with self._lock:
            tp = TopicPartition(*partition)
            if tp not in self._positions:
                raise EngineError(f"{tp.topic}-{tp.partition} is not assigned to this consumer")
            if offset < 0:
                raise ValueError(f"an offset is not negative, got {offset}")
            self._positions[tp] = offset

    def position(self, partition: TopicPartition) -> int:
        """The next offset this consumer will read from the partition."""
        with self._lock:
            tp = TopicPartition(*partition)
            if tp not in self._positions:
                raise EngineError(f"{tp.topic}-{tp.partition} is not assigned to this consumer")
            return self._positions[tp]

    def commit(self, offsets: Mapping[TopicPartition, OffsetAndMetadata] | None = None) -> None:
        """Commit the given offsets, or the current positions; refused with
        `RebalanceInProgressError` when this member's generation is stale."""
        with self._lock:
            self._check_open()
            if self.group_id is None:
                raise EngineError("commit needs a consumer created with a group_id")
            if offsets is None:
                self._commit_positions()
            else:
                self._commit({TopicPartition(*tp): om for tp, om in offsets.items()})

    def _commit_positions(self) -> None:
        self._commit({tp: OffsetAndMetadata(off) for tp, off in self._positions.items()})

    def _commit(self, offsets: Mapping[TopicPartition, OffsetAndMetadata]) -> None:
        assert self.group_id is not None
        if not offsets:
            return
        if self._manual or not self._subscription:
            self._engine.commit_offsets(self.group_id, offsets)
        elif self._member_id is None:
            # Subscribed but not a member: evicted (missed a rebalance or its session), or not
            # joined yet. As on Kafka the commit fails; it must never take the admin path, which
            # would rewind the group's offsets once the group is empty.
            raise RebalanceInProgressError(
                f"this consumer is no longer a member of group {self.group_id!r} (removed after "
                "its session or max_poll_interval_ms ran out); it must rejoin by polling before "
                "committing"
            )
        else:
            self._engine.commit_member_offsets(
                self.group_id, self._member_id, self._generation, offsets
            )
        self._last_commit = time.monotonic()

    def _maybe_auto_commit(self) -> None:
        if self._auto_commit and time.monotonic() - self._last_commit >= self._auto_commit_s:
            with contextlib.suppress(EngineError):
                self._commit_positions()

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def member_id(self) -> str | None:
        """This consumer's member id in its group (None when not a member)."""
        return self._member_id

    @property
    def generation(self) -> int:
        """The group generation of the current assignment (-1 when none)."""
        return self._generation

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the consumer is closed")

    def close(self) -> None:
        """Leave the group (the others rebalance) and stop the heartbeat thread."""
        with self._lock:
            if self._closed:
                return
            self._leave()
            self._closed = True
            self._stop.set()
        if self._heartbeat_thread is not None and self._heartbeat_thread is not (
            threading.current_thread()
        ):
            self._heartbeat_thread.join(timeout=5)


__all__ = ["EmbeddedConsumer", "EmbeddedProducer", "now_ms"]
