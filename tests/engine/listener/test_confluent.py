"""confluent-kafka (librdkafka) against the listener: producing with every codec and with
idempotence, consuming, keys on their murmur2 partitions, and records shared with the
engine's own clients both ways."""

from __future__ import annotations

from typing import Any

import confluent_kafka
import pytest

from engine.partitioner import partition_for_key
from engine.types import Record
from tests.engine.listener.conftest import Served, unique

pytestmark = pytest.mark.kafka


def produce_all(bootstrap: str, topic: str, count: int, **config: Any) -> list[Any]:
    """Produce `count` keyed records and return their delivery reports."""
    producer = confluent_kafka.Producer(
        {"bootstrap.servers": bootstrap, "partitioner": "murmur2_random", **config}
    )
    delivered: list[Any] = []

    def report(err: Any, msg: Any) -> None:
        assert err is None, err
        delivered.append(msg)

    for i in range(count):
        producer.produce(
            topic, b"value-%d" % i, b"key-%d" % i, headers=[("n", b"%d" % i)], on_delivery=report
        )
    assert producer.flush(30) == 0
    return delivered


def consume_all(bootstrap: str, topic: str, count: int, **config: Any) -> list[Any]:
    """Read `count` records from the start of `topic` (assigned, no group)."""
    consumer = confluent_kafka.Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": unique("reader"),
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            **config,
        }
    )
    try:
        consumer.subscribe([topic])
        out: list[Any] = []
        for _ in range(300):
            for msg in consumer.consume(1000, timeout=0.2):
                assert msg.error() is None, msg.error()
                out.append(msg)
            if len(out) >= count:
                return out
        raise AssertionError(f"read {len(out)} of {count} records")
    finally:
        consumer.close()


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_every_codec_round_trips_and_keys_land_on_their_murmur2_partition(
    served: Served, codec: str
) -> None:
    topic = unique(f"codec-{codec}")
    served.cluster.create_topic(topic, partitions=5)
    delivered = produce_all(
        served.bootstrap, topic, 300, **{"compression.type": codec, "linger.ms": 5}
    )
    for msg in delivered:
        assert msg.partition() == partition_for_key(msg.key(), 5)
    read = consume_all(served.bootstrap, topic, 300)
    assert sorted((m.key(), m.value(), m.headers()) for m in read) == sorted(
        (b"key-%d" % i, b"value-%d" % i, [("n", b"%d" % i)]) for i in range(300)
    )
    # The engine's own readers see the same records at the same offsets.
    for msg in delivered[:20]:
        [stored] = served.cluster.fetch(topic, msg.partition(), msg.offset(), max_records=1)
        assert (stored.key, stored.value) == (msg.key(), msg.value())


def test_records_produced_by_the_engine_are_read_by_kafka_clients(served: Served) -> None:
    topic = unique("engine-side")
    served.cluster.create_topic(topic, partitions=2)
    metadata = served.cluster.produce(
        topic, [Record(b"v%d" % i, b"k%d" % i, (("h", b"x"),), 1_000 + i) for i in range(50)]
    )
    read = consume_all(served.bootstrap, topic, 50)
    got = {(m.partition(), m.offset()): m for m in read}
    for i, meta in enumerate(metadata):
        msg = got[(meta.partition, meta.offset)]
        assert (msg.key(), msg.value(), msg.headers(), msg.timestamp()[1]) == (
            b"k%d" % i,
            b"v%d" % i,
            [("h", b"x")],
            1_000 + i,
        )


def test_an_idempotent_producer_writes_every_record_exactly_once(served: Served) -> None:
    topic = unique("idempotent")
    served.cluster.create_topic(topic, partitions=3)
    delivered = produce_all(
        served.bootstrap,
        topic,
        2_000,
        **{"enable.idempotence": True, "acks": "all", "linger.ms": 2, "batch.num.messages": 50},
    )
    assert len(delivered) == 2_000
    total = sum(p.record_count for p in served.cluster.describe_topic(topic).partitions)
    assert total == 2_000
    offsets = {(m.partition(), m.offset()) for m in delivered}
    assert len(offsets) == 2_000


def test_acks_zero_is_written_without_an_answer(served: Served) -> None:
    topic = unique("acks0")
    served.cluster.create_topic(topic)
    produce_all(served.bootstrap, topic, 100, acks=0)
    assert len(consume_all(served.bootstrap, topic, 100)) == 100


def test_producing_to_a_missing_partition_fails_the_delivery(served: Served) -> None:
    topic = unique("missing-part")
    served.cluster.create_topic(topic)
    producer = confluent_kafka.Producer(
        {"bootstrap.servers": served.bootstrap, "message.timeout.ms": 3000}
    )
    errors: list[Any] = []
    producer.produce(topic, b"v", partition=7, on_delivery=lambda err, _msg: errors.append(err))
    producer.flush(10)
    assert errors and errors[0] is not None
    assert errors[0].code() == confluent_kafka.KafkaError._UNKNOWN_PARTITION


def test_a_record_over_max_message_bytes_is_refused(served: Served) -> None:
    topic = unique("too-large")
    served.cluster.create_topic(topic, config={"max.message.bytes": "1000"})
    producer = confluent_kafka.Producer({"bootstrap.servers": served.bootstrap})
    errors: list[Any] = []
    producer.produce(topic, b"x" * 5000, on_delivery=lambda err, _msg: errors.append(err))
    producer.flush(10)
    assert (
        errors[0] is not None and errors[0].code() == confluent_kafka.KafkaError.MSG_SIZE_TOO_LARGE
    )
    assert served.cluster.describe_topic(topic).partitions[0].record_count == 0


def test_list_offsets_by_timestamp_and_read_committed_bounds(served: Served) -> None:
    topic = unique("times")
    served.cluster.create_topic(topic)
    served.cluster.produce(topic, [Record(b"v", timestamp_ms=ts) for ts in (100, 200, 300)])
    consumer = confluent_kafka.Consumer(
        {"bootstrap.servers": served.bootstrap, "group.id": unique("times")}
    )
    try:
        tps = consumer.offsets_for_times(
            [confluent_kafka.TopicPartition(topic, 0, ts) for ts in (150,)], timeout=10
        )
        assert tps[0].offset == 1
        low, high = consumer.get_watermark_offsets(
            confluent_kafka.TopicPartition(topic, 0), timeout=10
        )
        assert (low, high) == (0, 3)
    finally:
        consumer.close()


def test_log_append_time_topics_get_the_brokers_timestamps(served: Served) -> None:
    topic = unique("append-time")
    served.cluster.create_topic(topic, config={"message.timestamp.type": "LogAppendTime"})
    producer = confluent_kafka.Producer({"bootstrap.servers": served.bootstrap})
    producer.produce(topic, b"v", timestamp=1_000)
    assert producer.flush(10) == 0
    [stored] = served.cluster.fetch(topic, 0, 0)
    assert stored.timestamp_ms > 1_000_000_000_000
