"""Produce, fetch and list offsets: the same log semantics on both backends.

On Kafka each `produce` call is one transaction, so a commit marker follows the records it
wrote to a partition: offsets there are increasing but not dense, and the latest offset lies
past the last record. Assertions below hold on both (records come back exactly; the latest
offset is beyond the last record) and the embedded engine's denser promise is checked where
it is the embedded engine's own.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.cluster import Cluster
from engine.errors import OffsetOutOfRangeError, RecordTooLargeError, UnknownTopicOrPartitionError
from engine.partitioner import partition_for_key
from engine.types import OffsetSpec, Record
from tests.contract.conftest import Names
from tests.engine.test_partitioner import KAFKA_VECTORS


def test_round_trip_keeps_keys_values_headers_timestamps(cluster: Cluster, names: Names) -> None:
    topic = names.topic()
    cluster.create_topic(topic)
    records = [
        Record(b"v0", b"k0", headers=(("trace", b"abc"), ("trace", b"def")), timestamp_ms=1_000),
        Record(None, b"tombstone", timestamp_ms=2_000),
        Record(b"no-key", None, headers=(("empty", b""),), timestamp_ms=3_000),
        Record(b"\x00\xff binary", b"\x01", timestamp_ms=4_000),
    ]
    metadata = cluster.produce(topic, records)

    assert [m.partition for m in metadata] == [0, 0, 0, 0]
    assert [m.timestamp_ms for m in metadata] == [1_000, 2_000, 3_000, 4_000]
    offsets = [m.offset for m in metadata]
    assert offsets == sorted(set(offsets))

    fetched = cluster.fetch(topic, 0, 0)
    assert [r.offset for r in fetched] == offsets
    assert [(r.key, r.value, r.headers, r.timestamp_ms) for r in fetched] == [
        (r.key, r.value, r.headers, r.timestamp_ms) for r in records
    ]
    assert all(r.topic == topic and r.partition == 0 for r in fetched)


def test_default_timestamp_is_now(cluster: Cluster, names: Names) -> None:
    topic = names.topic()
    cluster.create_topic(topic)
    before = int(time.time() * 1000)
    [meta] = cluster.produce(topic, [Record(b"v")])
    after = int(time.time() * 1000)
    assert before - 1000 <= meta.timestamp_ms <= after + 1000
    assert cluster.fetch(topic, 0, 0)[0].timestamp_ms == meta.timestamp_ms


def test_latest_offset_is_past_the_last_record(
    cluster: Cluster, names: Names, backend: str
) -> None:
    topic = names.topic()
    cluster.create_topic(topic, partitions=2)
    metadata = cluster.produce(topic, [Record(b"v", partition=1) for _ in range(5)])
    description = cluster.describe_topic(topic)
    assert description.partitions[0].latest_offset == 0
    assert description.partitions[1].earliest_offset == 0
    assert description.partitions[1].latest_offset > metadata[-1].offset
    assert cluster.list_offsets(topic, OffsetSpec.LATEST)[1] > metadata[-1].offset
    assert cluster.list_offsets(topic, OffsetSpec.EARLIEST) == {0: 0, 1: 0}
    if backend == "embedded":
        assert description.partitions[1].latest_offset == 5


def test_explicit_partition_and_unknown_partition(cluster: Cluster, names: Names) -> None:
    topic = names.topic()
    cluster.create_topic(topic, partitions=3)
    [meta] = cluster.produce(topic, [Record(b"v", b"key", partition=2)])
    assert meta.partition == 2
    with pytest.raises(UnknownTopicOrPartitionError):
        cluster.produce(topic, [Record(b"v", partition=3)])
    with pytest.raises(UnknownTopicOrPartitionError):
        cluster.fetch(topic, 3, 0)


def test_produce_call_is_all_or_nothing(cluster: Cluster, names: Names) -> None:
    topic = names.topic()
    cluster.create_topic(topic, config={"max.message.bytes": "1000"})
    with pytest.raises(RecordTooLargeError):
        cluster.produce(topic, [Record(b"fits"), Record(b"x" * 5000), Record(b"fits too")])
    with pytest.raises(UnknownTopicOrPartitionError):
        cluster.produce(topic, [Record(b"fits"), Record(b"bad partition", partition=7)])
    assert cluster.fetch(topic, 0, 0) == []
    assert cluster.list_offsets(topic, OffsetSpec.LATEST) == {0: 0}


def test_oversized_record_is_refused_with_a_clear_error(cluster: Cluster, names: Names) -> None:
    topic = names.topic()
    cluster.create_topic(topic, config={"max.message.bytes": "2048"})
    cluster.produce(topic, [Record(b"x" * 1500)])
    with pytest.raises(RecordTooLargeError, match=r"max\.message\.bytes"):
        cluster.produce(topic, [Record(b"x" * 3000)])
    assert [len(r.value or b"") for r in cluster.fetch(topic, 0, 0)] == [1500]


def test_produce_to_unknown_topic_is_refused(cluster: Cluster, names: Names) -> None:
    missing = names.topic("missing")
    with pytest.raises(UnknownTopicOrPartitionError):
        cluster.produce(missing, [Record(b"v")])
    assert missing not in cluster.list_topics()


def test_fetch_outside_the_log_is_an_error(cluster: Cluster, names: Names) -> None:
    topic = names.topic()
    cluster.create_topic(topic)
    metadata = cluster.produce(topic, [Record(b"a"), Record(b"b")])
    latest = cluster.list_offsets(topic, OffsetSpec.LATEST)[0]
    assert cluster.fetch(topic, 0, latest) == []
    with pytest.raises(OffsetOutOfRangeError, match="out of range"):
        cluster.fetch(topic, 0, latest + 1)
    with pytest.raises(OffsetOutOfRangeError):
        cluster.fetch(topic, 0, -1)
    assert [r.value for r in cluster.fetch(topic, 0, metadata[1].offset)] == [b"b"]


def test_fetch_limits(cluster: Cluster, names: Names) -> None:
    topic = names.topic()
    cluster.create_topic(topic)
    cluster.produce(topic, [Record(b"%03d" % i + b"." * 97) for i in range(20)])

    first = cluster.fetch(topic, 0, 0, max_records=7)
    assert [r.value[:3] for r in first if r.value] == [b"%03d" % i for i in range(7)]

    limited = cluster.fetch(topic, 0, 0, max_bytes=350)
    assert 1 <= len(limited) <= 4
    assert limited[0].offset == 0

    # A record larger than max_bytes is still returned alone, so a reader never stalls.
    assert len(cluster.fetch(topic, 0, 0, max_bytes=10)) == 1


def test_list_offsets_by_timestamp(
    cluster: Cluster, names: Names, broker_lacks: Callable[[str], None]
) -> None:
    broker_lacks("ListOffsets for a timestamp answers the earliest offset, whatever the timestamp")
    topic = names.topic()
    cluster.create_topic(topic)
    metadata = cluster.produce(
        topic, [Record(b"v", timestamp_ms=ts) for ts in (1_000, 2_000, 3_000, 4_000)]
    )
    latest = cluster.list_offsets(topic, OffsetSpec.LATEST)[0]
    assert cluster.list_offsets(topic, 0) == {0: metadata[0].offset}
    assert cluster.list_offsets(topic, 2_000) == {0: metadata[1].offset}
    assert cluster.list_offsets(topic, 2_001) == {0: metadata[2].offset}
    assert cluster.list_offsets(topic, 4_001) == {0: latest}


def test_keys_land_where_kafkas_murmur2_puts_them(cluster: Cluster, names: Names) -> None:
    topic = names.topic()
    partitions = 7
    cluster.create_topic(topic, partitions=partitions)
    keys = [data for data, _ in KAFKA_VECTORS] + [b"order-%d" % i for i in range(40)]
    metadata = cluster.produce(topic, [Record(b"v", key) for key in keys])
    placed = [m.partition for m in metadata]
    assert placed == [partition_for_key(key, partitions) for key in keys]
    for (key, expected_hash), partition in zip(KAFKA_VECTORS, placed, strict=False):
        assert partition == (expected_hash & 0x7FFFFFFF) % partitions, key


def test_keyless_records_spread_over_partitions(cluster: Cluster, names: Names) -> None:
    topic = names.topic()
    cluster.create_topic(topic, partitions=4)
    used = set()
    for _ in range(40):
        used |= {m.partition for m in cluster.produce(topic, [Record(b"v")])}
    assert len(used) > 1


def test_producer_client_round_trip(cluster: Cluster, names: Names) -> None:
    topic = names.topic()
    cluster.create_topic(topic, partitions=3)
    producer = cluster.producer()
    for i in range(30):
        producer.send(topic, b"v%d" % i, b"k%d" % (i % 5), headers=(("n", b"%d" % i),))
    metadata = producer.flush()
    producer.close()
    assert len(metadata) == 30
    assert [m.partition for m in metadata] == [
        partition_for_key(b"k%d" % (i % 5), 3) for i in range(30)
    ]
    seen = {(r.partition, r.offset): r for p in range(3) for r in cluster.fetch(topic, p, 0)}
    for i, meta in enumerate(metadata):
        record = seen[(meta.partition, meta.offset)]
        assert (record.key, record.value, record.headers) == (
            b"k%d" % (i % 5),
            b"v%d" % i,
            (("n", b"%d" % i),),
        )


def test_latest_offset_after_batched_sends(
    cluster: Cluster, names: Names, broker_lacks: Callable[[str], None]
) -> None:
    broker_lacks(
        "the high watermark is reported as the last batch's base offset + 1, so a batch of "
        "several records hides all but its first"
    )
    topic = names.topic()
    cluster.create_topic(topic)
    producer = cluster.producer()
    for i in range(10):
        producer.send(topic, b"v%d" % i, partition=0)
    metadata = producer.flush()
    producer.close()
    assert cluster.list_offsets(topic, OffsetSpec.LATEST)[0] == metadata[-1].offset + 1


@settings(
    deadline=None,
    max_examples=8,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.binary(max_size=24), min_size=1, max_size=30), st.integers(1, 12))
def test_any_keys_land_on_their_murmur2_partition(
    cluster: Cluster, names: Names, keys: list[bytes], partitions: int
) -> None:
    topic = names.topic(f"p{partitions}-{uuid.uuid4().hex[:6]}")
    cluster.create_topic(topic, partitions=partitions)
    metadata = cluster.produce(topic, [Record(b"v", key) for key in keys])
    assert [m.partition for m in metadata] == [partition_for_key(k, partitions) for k in keys]


def test_a_time_before_the_epoch_lists_the_first_offset(cluster: Cluster, names: Names) -> None:
    """Kafka's ListOffsets reads negative timestamps as symbolic positions (-1 is the latest
    offset); a time before 1970 must still mean "from the first record"."""
    topic = names.topic()
    cluster.create_topic(topic)
    metadata = cluster.produce(topic, [Record(b"v", timestamp_ms=ts) for ts in (1_000, 2_000)])
    for before_epoch in (-1, -2, -3, -86_400_000):
        assert cluster.list_offsets(topic, before_epoch) == {0: metadata[0].offset}
