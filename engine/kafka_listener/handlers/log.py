"""Produce, Fetch and ListOffsets: the log through the Kafka protocol.

Produced batches are checked (CRC, codec, sequences, every record) and stored as they arrived,
compressed or not (`chunks.KIND_BATCH`); a transaction's batches, and topics whose broker sets
timestamps, are stored as the engine's own entries instead. Fetch serves stored batches as they
are (only their base offset is set) and writes other stored records as uncompressed batches.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from engine.auth import Operation, ResourceType
from engine.embedded.chunks import Chunk, Row, StoredChunk
from engine.embedded.metadata import TopicMeta
from engine.errors import EngineError, OffsetOutOfRangeError
from engine.kafka_listener import errors
from engine.kafka_listener.broker import Broker
from engine.kafka_listener.context import Connection, Request
from engine.kafka_listener.records import (
    BatchHeader,
    CorruptBatchError,
    check_crc,
    read_chunks,
    read_rows,
    serve_chunks,
    split_batches,
    stored_batch,
)
from engine.types import OffsetSpec

#: The longest a fetch waits for data, whatever max_wait it asks for (clients ask 0.5 s).
MAX_FETCH_WAIT_S = 30.0
_LATEST, _EARLIEST, _MAX_TIMESTAMP = -1, -2, -3


def _partition_reply(index: int, error: int, base: int = -1, start: int = -1) -> dict[str, Any]:
    return {
        "index": index,
        "error_code": error,
        "base_offset": base,
        "log_append_time": -1,
        "log_start_offset": start,
    }


@dataclass
class _Pending:
    """A partition's batch that passed every check and waits to be appended: packed as the
    engine stores it (`chunks`), or as rows for topics whose timestamps the broker sets."""

    partition: int
    header: BatchHeader
    chunks: list[Chunk | StoredChunk]
    largest: int
    keyless: bool
    rows: list[Row] | None = None


def _parse_partition(
    broker: Broker,
    topic: str,
    partition: int,
    records: bytes | None,
    txn_id: str | None,
    as_rows: bool,
) -> _Pending | dict[str, Any]:
    """A partition's record set checked (CRC, counts, transaction, sequences): the batch to
    append, or the partition's reply when it is refused or a duplicate."""
    try:
        batches = split_batches(records or b"")
        if len(batches) != 1:
            raise CorruptBatchError("a produce request must carry one record batch per partition")
        header, raw = batches[0]
        check_crc(header, raw)
        if header.control:
            return _partition_reply(partition, errors.INVALID_RECORD)
        if header.count != header.last_offset_delta + 1 or header.count <= 0:
            raise CorruptBatchError("a record batch's count does not match its offsets")
        rows: list[Row] | None = None
        chunks: list[Chunk | StoredChunk] = []
        largest, keyless = 0, False
        if as_rows:
            rows = read_rows(header, raw, partition)
        elif (stored := stored_batch(header, raw)) is not None:
            chunk, largest, keyless = stored
            chunks.append(chunk)
        else:
            packed, largest, keyless = read_chunks(header, raw)
            chunks.extend(packed)
    except CorruptBatchError:
        return _partition_reply(partition, errors.CORRUPT_MESSAGE)
    if header.transactional:
        error = broker.transactions.check_produce(
            txn_id, header.producer_id, header.producer_epoch, topic, partition
        )
        if error:
            return _partition_reply(partition, error)
    verdict = broker.producers.check(
        header.producer_id,
        header.producer_epoch,
        topic,
        partition,
        header.base_sequence,
        header.last_sequence,
    )
    if verdict.error:
        return _partition_reply(partition, verdict.error)
    if verdict.duplicate_offset is not None:
        return _partition_reply(partition, errors.NONE, verdict.duplicate_offset)
    return _Pending(partition, header, chunks, largest, keyless, rows)


def _append(broker: Broker, topic: str, pending: list[_Pending]) -> dict[int, int] | int:
    """Append the batches of several partitions of a topic in one engine transaction: each
    partition's base offset, or the error code."""
    producers = [
        (p.partition, h.producer_id, h.producer_epoch, h.base_sequence, h.last_sequence)
        for p in pending
        if (h := p.header).producer_id >= 0
    ]
    try:
        if pending[0].rows is None:
            return broker.engine.append_packed(
                topic,
                {p.partition: p.chunks for p in pending},
                max(p.largest for p in pending),
                any(p.keyless for p in pending),
                producers,
            )
        rows = [row for p in pending for row in p.rows or ()]
        metadata = broker.engine.append_rows(topic, rows, producers)
    except EngineError as exc:
        return errors.code_of(exc)
    bases: dict[int, int] = {}
    at = 0
    for p in pending:
        bases[p.partition] = metadata[at].offset
        at += len(p.rows or ())
    return bases


def _produce_topic(
    broker: Broker,
    topic: str,
    meta: TopicMeta | None,
    partitions: list[Any],
    txn_id: str | None,
) -> list[dict[str, Any]]:
    """Check and append every partition of one topic (`meta`: its entry in the catalog the
    request was checked against); the replies in request order."""
    replies: dict[int, dict[str, Any]] = {}
    as_rows = meta is not None and meta.log_append_time
    with broker.topic_lock(topic):  # sequence checks and appends of a topic in one order
        pending: list[_Pending] = []
        for part in partitions:
            if part.index in replies or any(p.partition == part.index for p in pending):
                replies[part.index] = _partition_reply(part.index, errors.INVALID_REQUEST)
                continue
            parsed = _parse_partition(broker, topic, part.index, part.records, txn_id, as_rows)
            if isinstance(parsed, _Pending):
                pending.append(parsed)
            else:
                replies[part.index] = parsed
        if pending:
            outcome = _append(broker, topic, pending)
            if isinstance(outcome, int) and len(pending) > 1:
                # One partition's batch failed the whole append: retry each on its own, so
                # only the failing partition is refused (as Kafka answers per partition).
                outcome = {}
                for p in pending:
                    single = _append(broker, topic, [p])
                    if isinstance(single, int):
                        replies[p.partition] = _partition_reply(p.partition, single)
                    else:
                        outcome.update(single)
            elif isinstance(outcome, int):
                replies[pending[0].partition] = _partition_reply(pending[0].partition, outcome)
                outcome = {}
            for p in pending:
                if p.partition not in outcome:
                    continue
                base, h = outcome[p.partition], p.header
                broker.producers.appended(
                    h.producer_id,
                    h.producer_epoch,
                    topic,
                    p.partition,
                    h.base_sequence,
                    h.last_sequence,
                    base,
                )
                if h.transactional:
                    broker.transactions.appended(
                        h.producer_id, topic, p.partition, base, base + h.count - 1
                    )
                replies[p.partition] = _partition_reply(p.partition, errors.NONE, base)
    return [replies[part.index] for part in partitions]


def produce_sync(broker: Broker, conn: Connection, body: Any) -> tuple[dict[str, Any], bool]:
    """Append every partition of a Produce request (runs on the pool): the reply, and whether
    anything was appended (the caller wakes long-polling fetches on the loop, which saves a
    cross-thread wake-up per request)."""
    known = broker.topics()
    responses = []
    appended = False
    for topic_data in body.topic_data:
        topic = topic_data.name
        parts = topic_data.partition_data
        if not conn.allowed(Operation.WRITE, ResourceType.TOPIC, topic):
            replies = [_partition_reply(p.index, errors.TOPIC_AUTHORIZATION_FAILED) for p in parts]
        else:
            count = known[topic].partitions if topic in known else 0
            valid = [p for p in parts if 0 <= p.index < count]
            done = {
                r["index"]: r
                for r in _produce_topic(
                    broker, topic, known.get(topic), valid, body.transactional_id
                )
            }
            replies = [
                done.get(p.index) or _partition_reply(p.index, errors.UNKNOWN_TOPIC_OR_PARTITION)
                for p in parts
            ]
        if any(r["error_code"] == errors.NONE for r in replies):
            appended = True
            broker.observe_produce(conn.principal, conn.client_id, topic)
        responses.append({"name": topic, "partition_responses": replies})
    return {"responses": responses}, appended


async def produce(broker: Broker, conn: Connection, request: Request) -> dict[str, Any] | None:
    """Produce: acks=0 gets no answer at all, as in Kafka."""
    body = request.body
    if body.acks not in (0, 1, -1):
        return {
            "responses": [
                {
                    "name": t.name,
                    "partition_responses": [
                        _partition_reply(p.index, errors.INVALID_REQUIRED_ACKS)
                        for p in t.partition_data
                    ],
                }
                for t in body.topic_data
            ]
        }
    reply, appended = await broker.run(produce_sync, broker, conn, body)
    if appended:
        broker.wake_fetches()
    return None if body.acks == 0 else reply


def _fetch_partition(
    broker: Broker,
    topic: str,
    partition: int,
    offset: int,
    max_bytes: int,
    committed_only: bool,
    first: bool = True,
) -> tuple[dict[str, Any], int]:
    """A partition's part of a Fetch reply and the bytes of its batch, at most `max_bytes`
    (batch header included) unless it is the `first` partition with data, which gets its first
    record whatever its size (KIP-74)."""
    reply: dict[str, Any] = {
        "partition_index": partition,
        "error_code": errors.NONE,
        "high_watermark": -1,
        "last_stable_offset": -1,
        "log_start_offset": -1,
        "aborted_transactions": [] if committed_only else None,
        "preferred_read_replica": -1,
        "records": b"",
    }
    engine = broker.engine
    try:
        chunks, start, end = engine.fetch_chunks(topic, partition, offset, max_bytes)
    except OffsetOutOfRangeError:
        bounds = engine.list_offsets(topic, OffsetSpec.LATEST)
        reply["error_code"] = errors.OFFSET_OUT_OF_RANGE
        reply["high_watermark"] = bounds.get(partition, -1)
        return reply, 0
    except EngineError as exc:
        reply["error_code"] = errors.code_of(exc)
        return reply, 0
    stable = broker.transactions.last_stable_offset(topic, partition, end)
    reply.update(high_watermark=end, last_stable_offset=stable, log_start_offset=start)
    pieces, size = serve_chunks(
        chunks, offset, stable if committed_only else end, max_bytes, whole_first=first
    )
    if pieces:
        reply["records"] = b"".join(pieces)
    return reply, size


def _bounds(broker: Broker, topic: str) -> dict[int, tuple[int, int]]:
    try:
        return broker.engine.partition_bounds(topic)
    except EngineError:
        return {}


def _no_room(
    broker: Broker,
    topic: str,
    partition: int,
    bounds: dict[int, tuple[int, int]],
    committed_only: bool,
) -> dict[str, Any]:
    """A partition's reply when the response has no room left for its records: only its
    offsets (-1 when the partition is gone)."""
    start, end = bounds.get(partition, (-1, -1))
    return {
        "partition_index": partition,
        "error_code": errors.NONE,
        "high_watermark": end,
        "last_stable_offset": broker.transactions.last_stable_offset(topic, partition, end)
        if end >= 0
        else -1,
        "log_start_offset": start,
        "aborted_transactions": [] if committed_only else None,
        "preferred_read_replica": -1,
        "records": b"",
    }


def fetch_sync(broker: Broker, conn: Connection, body: Any) -> tuple[dict[str, Any], int]:
    """One pass over every partition of a Fetch request; the reply and the bytes it holds."""
    known = broker.topics()
    committed_only = getattr(body, "isolation_level", 0) == 1
    asked = body.max_bytes if body.max_bytes > 0 else 0x7FFFFFFF
    remaining = min(asked, broker.settings.fetch_max_bytes)
    total = 0
    responses = []
    bounds: dict[str, dict[int, tuple[int, int]]] = {}  # read once per topic, when needed
    for topic_data in body.topics:
        topic = topic_data.topic
        parts = []
        for part in topic_data.partitions:
            if not conn.allowed(Operation.READ, ResourceType.TOPIC, topic):
                code = errors.TOPIC_AUTHORIZATION_FAILED
            elif topic not in known or not 0 <= part.partition < known[topic].partitions:
                code = errors.UNKNOWN_TOPIC_OR_PARTITION
            else:
                code = errors.NONE
            if code != errors.NONE:
                parts.append(
                    {
                        "partition_index": part.partition,
                        "error_code": code,
                        "high_watermark": -1,
                        "aborted_transactions": None,
                        "preferred_read_replica": -1,
                        "records": b"",
                    }
                )
                continue
            # KIP-74: the first partition with data gets at least one whole batch, even past
            # the limits (chunks_to_records always takes the first record).
            limit = min(part.partition_max_bytes, remaining)
            if limit <= 0:
                limit = 1 if not total else 0
            if limit <= 0:
                if topic not in bounds:
                    bounds[topic] = _bounds(broker, topic)
                parts.append(_no_room(broker, topic, part.partition, bounds[topic], committed_only))
                continue
            reply, size = _fetch_partition(
                broker, topic, part.partition, part.fetch_offset, limit, committed_only, not total
            )
            total += size
            remaining -= size
            parts.append(reply)
        responses.append({"topic": topic, "partitions": parts})
    return {"error_code": errors.NONE, "session_id": 0, "responses": responses}, total


async def fetch(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """Fetch with long polling: wait up to max_wait for min_bytes."""
    body = request.body
    max_wait_s = min(max(body.max_wait.total_seconds(), 0.0), MAX_FETCH_WAIT_S)
    deadline = time.monotonic() + max_wait_s
    while True:
        reply, size = await broker.run(fetch_sync, broker, conn, body)
        remaining = deadline - time.monotonic()
        if size >= max(body.min_bytes, 1) or remaining <= 0:
            return reply
        await broker.wait_for_append(remaining)


def _list_partition(
    broker: Broker, topic: str, partition: int, timestamp: int, committed_only: bool
) -> dict[str, Any]:
    reply: dict[str, Any] = {
        "partition_index": partition,
        "error_code": errors.NONE,
        "timestamp": -1,
        "offset": -1,
        "leader_epoch": 0,
    }
    engine = broker.engine
    try:
        if timestamp == _EARLIEST:
            offsets = engine.list_offsets(topic, OffsetSpec.EARLIEST)
        elif timestamp in (_LATEST, _MAX_TIMESTAMP):
            offsets = engine.list_offsets(topic, OffsetSpec.LATEST)
        elif timestamp < 0:
            reply["error_code"] = errors.INVALID_REQUEST
            return reply
        else:
            offsets = engine.list_offsets(topic, timestamp)
    except EngineError as exc:
        reply["error_code"] = errors.code_of(exc)
        return reply
    if partition not in offsets:
        reply["error_code"] = errors.UNKNOWN_TOPIC_OR_PARTITION
        return reply
    offset = offsets[partition]
    if timestamp == _LATEST and committed_only:
        offset = broker.transactions.last_stable_offset(topic, partition, offset)
    if timestamp == _MAX_TIMESTAMP:
        offset = _max_timestamp_offset(broker, topic, partition, offset, reply)
    elif timestamp >= 0:
        reply["timestamp"] = _timestamp_at(broker, topic, partition, offset)
    reply["offset"] = offset
    return reply


def _timestamp_at(broker: Broker, topic: str, partition: int, offset: int) -> int:
    try:
        records = broker.engine.fetch(topic, partition, offset, max_records=1)
    except EngineError:
        return -1
    return records[0].timestamp_ms if records else -1


def _max_timestamp_offset(
    broker: Broker, topic: str, partition: int, end: int, reply: dict[str, Any]
) -> int:
    """The offset of the record with the largest timestamp (ListOffsets v7's -3)."""
    start = broker.engine.list_offsets(topic, OffsetSpec.EARLIEST)[partition]
    best_ts, best = -1, -1
    offset = start
    while offset < end:
        records = broker.engine.fetch(topic, partition, offset, max_records=10_000)
        if not records:
            break
        for record in records:
            if record.timestamp_ms > best_ts:
                best_ts, best = record.timestamp_ms, record.offset
        offset = records[-1].offset + 1
    reply["timestamp"] = best_ts
    return best


def list_offsets_sync(broker: Broker, conn: Connection, body: Any) -> dict[str, Any]:
    """ListOffsets for every requested partition (runs on the pool)."""
    committed_only = getattr(body, "isolation_level", 0) == 1
    topics = []
    for topic in body.topics:
        parts = []
        for part in topic.partitions:
            if not conn.allowed(Operation.DESCRIBE, ResourceType.TOPIC, topic.name):
                parts.append(
                    {
                        "partition_index": part.partition_index,
                        "error_code": errors.TOPIC_AUTHORIZATION_FAILED,
                    }
                )
                continue
            parts.append(
                _list_partition(
                    broker, topic.name, part.partition_index, part.timestamp, committed_only
                )
            )
        topics.append({"name": topic.name, "partitions": parts})
    return {"topics": topics}


async def list_offsets(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """ListOffsets: earliest (-2), latest (-1), max timestamp (-3) or by timestamp."""
    return await broker.run(list_offsets_sync, broker, conn, request.body)
