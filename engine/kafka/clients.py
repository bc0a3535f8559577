"""`Producer` and `Consumer` (the engine protocols) over confluent-kafka's clients.

Group membership, heartbeats and rebalancing are the broker's: these classes only translate
types and errors, and fill the gaps between librdkafka's and the protocol's semantics
(`position` before the first poll, `commit()` of the current positions).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import confluent_kafka

from engine.errors import ClusterUnavailableError, EngineError
from engine.kafka.errors import translate, translate_exception
from engine.types import (
    ConsumedRecord,
    Headers,
    OffsetAndMetadata,
    RecordMetadata,
    TopicPartition,
)

#: librdkafka's marker for "no offset" in positions and committed offsets.
INVALID_OFFSET = confluent_kafka.OFFSET_INVALID

#: How long a full local producer queue may block a send before it is an error.
_QUEUE_FULL_PATIENCE_S = 30.0


def to_consumed(message: confluent_kafka.Message) -> ConsumedRecord:
    """A confluent-kafka message as the engine's `ConsumedRecord`."""
    raw_headers: Any = message.headers() or []
    headers: Headers = tuple(
        (str(k), v if isinstance(v, bytes) else (v or "").encode()) for k, v in raw_headers
    )
    _ts_type, ts = message.timestamp()
    topic = message.topic()
    partition = message.partition()
    offset = message.offset()
    assert topic is not None and partition is not None and offset is not None
    return ConsumedRecord(
        topic=topic,
        partition=partition,
        offset=offset,
        timestamp_ms=ts,
        key=message.key(),
        value=message.value(),
        headers=headers,
    )


def send_with_backpressure(producer: confluent_kafka.Producer, topic: str, **kwargs: Any) -> None:
    """`producer.produce`, serving delivery callbacks while the local queue is full."""
    deadline = time.monotonic() + _QUEUE_FULL_PATIENCE_S
    while True:
        try:
            producer.produce(topic, **kwargs)
            return
        except BufferError:
            if time.monotonic() > deadline:
                raise
            producer.poll(0.05)


class DeliveryOutcome:
    """Where one sent record's delivery report lands (metadata or the error)."""

    __slots__ = ("result",)

    def __init__(self) -> None:
        self.result: RecordMetadata | EngineError | None = None

    def delivered(self, error: confluent_kafka.KafkaError | None, msg: Any) -> None:
        topic = msg.topic() or ""
        if error is not None:
            self.result = translate(error, "produce to topic", topic)
        else:
            self.result = RecordMetadata(topic, msg.partition(), msg.offset(), msg.timestamp()[1])


class KafkaProducer:
    """The engine `Producer` over an idempotent confluent-kafka producer."""

    def __init__(self, config: Mapping[str, Any], timeout: float) -> None:
        self._timeout = timeout
        self._producer = confluent_kafka.Producer(dict(config))
        self._lock = threading.Lock()
        self._pending: list[DeliveryOutcome] = []

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
        outcome = DeliveryOutcome()
        with self._lock:
            self._pending.append(outcome)
        try:
            send_with_backpressure(
                self._producer,
                topic,
                value=value,
                key=key,
                headers=list(headers),
                partition=-1 if partition is None else partition,
                timestamp=timestamp_ms or 0,
                on_delivery=outcome.delivered,
            )
        except (confluent_kafka.KafkaException, BufferError) as exc:
            outcome.result = translate_exception(exc, "produce to topic", topic)

    def flush(self, timeout: float | None = None) -> list[RecordMetadata]:
        """Wait until every queued record is acknowledged; their metadata in send order.

        Raises the first failure once the records settled, so none goes unnoticed. Records
        not acknowledged in time stay pending for the next `flush`."""
        self._producer.flush(self._timeout if timeout is None else timeout)
        with self._lock:
            settled = [o for o in self._pending if o.result is not None]
            self._pending = [o for o in self._pending if o.result is None]
            unsettled = len(self._pending)
        for outcome in settled:
            if isinstance(outcome.result, EngineError):
                raise outcome.result
        if unsettled:
            raise ClusterUnavailableError(
                f"{unsettled} record(s) were not acknowledged within the flush timeout"
            )
        return [o.result for o in settled if isinstance(o.result, RecordMetadata)]

    def close(self) -> None:
        """Flush and release resources."""
        try:
            self.flush()
        finally:
            self._producer.close()


class KafkaConsumer:
    """The engine `Consumer` over a confluent-kafka consumer (broker-side group membership)."""

    def __init__(
        self,
        config: Mapping[str, Any],
        group_id: str | None,
        timeout: float,
        start_position: Callable[[TopicPartition], int],
    ) -> None:
        """`start_position` answers `position` before anything was fetched (committed offset,
        else the reset policy), as the Java client's `position` does."""
        self._timeout = timeout
        self._consumer = confluent_kafka.Consumer(dict(config))
        self._group = group_id
        self._start_position = start_position
        self._subscribed = False
        self._closed = False
        # librdkafka reports the new position only once a record from there is consumed;
        # until then `position` answers the offset sought, as the Java client does.
        self._sought: dict[TopicPartition, int] = {}

    def subscribe(self, topics: Sequence[str]) -> None:
        """Join the group and take part in partition assignment for these topics."""
        if not self._group:
            raise EngineError("subscribe needs a consumer created with a group_id")
        self._subscribed = True
        self._sought.clear()
        self._consumer.subscribe(list(topics))

    def assign(self, partitions: Sequence[TopicPartition]) -> None:
        """Read exactly these partitions, without group membership."""
        self._sought.clear()
        self._consumer.assign(
            [confluent_kafka.TopicPartition(tp.topic, tp.partition) for tp in partitions]
        )

    def assignment(self) -> list[TopicPartition]:
        """The partitions this consumer currently reads."""
        return sorted(TopicPartition(tp.topic, tp.partition) for tp in self._consumer.assignment())

    def poll(self, timeout: float = 1.0, max_records: int = 500) -> list[ConsumedRecord]:
        """The next records (possibly none after `timeout` seconds); keeps the membership."""
        messages = self._consumer.consume(num_messages=max(1, max_records), timeout=timeout)
        records: list[ConsumedRecord] = []
        for message in messages:
            error = message.error()
            if error is None:
                record = to_consumed(message)
                self._sought.pop(record.topic_partition, None)
                records.append(record)
            elif error.code() != confluent_kafka.KafkaError._PARTITION_EOF:
                raise translate(error, "consume from topic", message.topic() or "")
        return records

    def commit(self, offsets: Mapping[TopicPartition, OffsetAndMetadata] | None = None) -> None:
        """Commit the given offsets, or the current positions when none are given."""
        if offsets is None:
            to_commit = []
            for assigned in self.assignment():
                with contextlib.suppress(EngineError):
                    to_commit.append(
                        confluent_kafka.TopicPartition(
                            assigned.topic, assigned.partition, self.position(assigned)
                        )
                    )
        else:
            to_commit = [
                confluent_kafka.TopicPartition(tp.topic, tp.partition, om.offset, om.metadata)
                for tp, om in offsets.items()
            ]
        if not to_commit:
            return
        try:
            result = self._consumer.commit(offsets=to_commit, asynchronous=False)
        except confluent_kafka.KafkaException as exc:
            raise translate_exception(exc, "commit offsets for group", self._group or "") from exc
        for tp in result or []:
            if tp.error is not None:
                raise translate(tp.error, "commit offsets for group", self._group or "")

    def seek(self, partition: TopicPartition, offset: int) -> None:
        """Set the next offset to read from an assigned partition."""
        target = confluent_kafka.TopicPartition(partition.topic, partition.partition, offset)
        assigned = self._consumer.assignment()
        if not any((tp.topic, tp.partition) == partition for tp in assigned):
            raise EngineError(
                f"cannot seek {partition.topic}[{partition.partition}]: it is not assigned "
                "to this consumer"
            )
        self._sought[partition] = offset
        try:
            self._consumer.seek(target)
        except confluent_kafka.KafkaException as exc:
            if self._subscribed:
                raise translate_exception(exc, "seek in topic", partition.topic) from exc
            # The fetcher of a just-assigned partition has not started yet; re-assigning with
            # the offset starts it there.
            self._consumer.assign(
                [target if (tp.topic, tp.partition) == partition else tp for tp in assigned]
            )

    def position(self, partition: TopicPartition) -> int:
        """The next offset this consumer will read from the partition."""
        if partition in self._sought:
            return self._sought[partition]
        [tp] = self._consumer.position(
            [confluent_kafka.TopicPartition(partition.topic, partition.partition)]
        )
        if tp.offset >= 0:
            return int(tp.offset)
        return self._start_position(partition)

    def close(self) -> None:
        """Leave the group (the others rebalance) and release resources."""
        if not self._closed:
            self._closed = True
            self._consumer.close()
