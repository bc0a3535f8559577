"""Produce, Fetch and ListOffsets: the log through the Kafka protocol.

Produced batches are checked (CRC, codec, sequences), decompressed and stored as the engine's
rows; fetched records are written back as one uncompressed batch per partition.
"""

from __future__ import annotations

import time
from typing import Any

from engine.auth import Operation, ResourceType
from engine.embedded.chunks import Row
from engine.errors import EngineError, OffsetOutOfRangeError, UnknownTopicOrPartitionError
from engine.kafka_listener import errors
from engine.kafka_listener.broker import Broker
from engine.kafka_listener.context import Connection, Request
from engine.kafka_listener.records import (
    CorruptBatchError,
    check_crc,
    read_rows,
    split_batches,
    write_batch,
)
from engine.types import OffsetSpec

#: Records one fetch of one partition reads from the engine at most (bytes limit first).
_FETCH_RECORDS = 100_000
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


def _produce_partition(
    broker: Broker, topic: str, partition: int, records: bytes | None, txn_id: str | None
) -> dict[str, Any]:
    """Validate and append one partition's record set; the reply for that partition."""
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
        rows = read_rows(header, raw, partition)
    except CorruptBatchError:
        return _partition_reply(partition, errors.CORRUPT_MESSAGE)
    if header.transactional:
        error = broker.transactions.check_produce(
            txn_id, header.producer_id, header.producer_epoch, topic, partition
        )
        if error:
            return _partition_reply(partition, error)
    pid, epoch = header.producer_id, header.producer_epoch
    with broker.producer_lock:
        verdict = broker.producers.check(
            pid, epoch, topic, partition, header.base_sequence, header.last_sequence
        )
        if verdict.error:
            return _partition_reply(partition, verdict.error)
        if verdict.duplicate_offset is not None:
            return _partition_reply(partition, errors.NONE, verdict.duplicate_offset)
        base = _append(broker, topic, rows)
        if isinstance(base, int):
            broker.producers.appended(
                pid, epoch, topic, partition, header.base_sequence, header.last_sequence, base
            )
    if not isinstance(base, int):
        return _partition_reply(partition, base[0])
    if header.transactional:
        broker.transactions.appended(
            header.producer_id, topic, partition, base, base + len(rows) - 1
        )
    return _partition_reply(partition, errors.NONE, base)


def _append(broker: Broker, topic: str, rows: list[Row]) -> int | tuple[int]:
    """The base offset of the appended rows, or (error code,)."""
    try:
        return broker.engine.append_rows(topic, rows)[0].offset
    except EngineError as exc:
        return (errors.code_of(exc),)


def produce_sync(broker: Broker, conn: Connection, body: Any) -> dict[str, Any]:
    """Append every partition of a Produce request (runs on the pool)."""
    known = broker.topics()
    responses = []
    appended = False
    for topic_data in body.topic_data:
        topic = topic_data.name
        replies = []
        for part in topic_data.partition_data:
            if not conn.allowed(Operation.WRITE, ResourceType.TOPIC, topic):
                replies.append(_partition_reply(part.index, errors.TOPIC_AUTHORIZATION_FAILED))
            elif topic not in known or not 0 <= part.index < known[topic].partitions:
                replies.append(_partition_reply(part.index, errors.UNKNOWN_TOPIC_OR_PARTITION))
            else:
                reply = _produce_partition(
                    broker, topic, part.index, part.records, body.transactional_id
                )
                appended = appended or reply["error_code"] == errors.NONE
                replies.append(reply)
        responses.append({"name": topic, "partition_responses": replies})
    if appended:
        broker.notify_appended()
    return {"responses": responses}


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
    reply = await broker.run(produce_sync, broker, conn, body)
    return None if body.acks == 0 else reply


def _fetch_partition(
    broker: Broker,
    topic: str,
    partition: int,
    offset: int,
    max_bytes: int,
    committed_only: bool,
) -> tuple[dict[str, Any], int]:
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
        start = engine.list_offsets(topic, OffsetSpec.EARLIEST).get(partition)
        if start is None:
            raise UnknownTopicOrPartitionError(f"topic {topic!r} has no partition {partition}")
        records, end = engine.fetch_to_end(topic, partition, offset, _FETCH_RECORDS, max_bytes)
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
    if committed_only:
        records = [r for r in records if r.offset < stable]
    if not records:
        return reply, 0
    reply["records"] = write_batch(records)
    return reply, len(reply["records"])


def fetch_sync(broker: Broker, conn: Connection, body: Any) -> tuple[dict[str, Any], int]:
    """One pass over every partition of a Fetch request; the reply and the bytes it holds."""
    known = broker.topics()
    committed_only = getattr(body, "isolation_level", 0) == 1
    remaining = body.max_bytes if body.max_bytes > 0 else 0x7FFFFFFF
    total = 0
    responses = []
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
            # KIP-74: the first partition with data gets at least one whole batch.
            limit = min(part.partition_max_bytes, remaining) if total else part.partition_max_bytes
            if limit <= 0:
                limit = 1 if not total else 0
            if limit <= 0:
                reply, size = _fetch_partition(broker, topic, part.partition, -1, 0, False)
                reply.update(error_code=errors.NONE, records=b"")
                parts.append(reply)
                continue
            reply, size = _fetch_partition(
                broker, topic, part.partition, part.fetch_offset, limit, committed_only
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
