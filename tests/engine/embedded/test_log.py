"""Produce, fetch and offsets on the embedded engine."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.embedded import EmbeddedCluster
from engine.errors import (
    InvalidRecordError,
    OffsetOutOfRangeError,
    RecordTooLargeError,
    UnknownTopicOrPartitionError,
)
from engine.partitioner import partition_for_key
from engine.types import OffsetSpec, Record, TopicPartition

_TOPIC_NUMBERS = itertools.count()


def test_keyed_records_land_on_the_murmur2_partition(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 7)
    keys = [f"key-{i}".encode() for i in range(200)]
    metadata = cluster.produce("t", [Record(b"v", k) for k in keys])
    assert [m.partition for m in metadata] == [partition_for_key(k, 7) for k in keys]
    for key, meta in zip(keys, metadata, strict=True):
        (record,) = cluster.fetch("t", meta.partition, meta.offset, max_records=1)
        assert record.key == key


def test_offsets_are_dense_per_partition_in_send_order(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 3)
    first = cluster.produce("t", [Record(b"a", b"x"), Record(b"b", b"y"), Record(b"c", b"x")])
    second = cluster.produce("t", [Record(b"d", b"x")])
    on_x = [m.offset for m in first + second if m.partition == first[0].partition]
    assert on_x == list(range(len(on_x)))


def test_keyless_records_are_sticky_per_call_and_spread_across_calls(
    cluster: EmbeddedCluster,
) -> None:
    cluster.create_topic("t", 4)
    used = set()
    for _ in range(12):
        metadata = cluster.produce("t", [Record(b"v")] * 5)
        assert len({m.partition for m in metadata}) == 1
        used.add(metadata[0].partition)
    assert len(used) == 4


def test_explicit_partition_and_unknown_partition(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 2)
    (meta,) = cluster.produce("t", [Record(b"v", b"k", partition=1)])
    assert meta.partition == 1
    with pytest.raises(UnknownTopicOrPartitionError, match="no partition 2"):
        cluster.produce("t", [Record(b"v", partition=2)])
    with pytest.raises(UnknownTopicOrPartitionError):
        cluster.produce("missing", [Record(b"v")])
    with pytest.raises(UnknownTopicOrPartitionError):
        cluster.fetch("t", 5, 0)


def test_headers_timestamps_and_nulls_round_trip(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 1)
    before = int(time.time() * 1000)
    cluster.produce(
        "t",
        [
            Record(
                b"v", b"k", headers=(("a", b"1"), ("a", b""), ("\u00e9", b"\x00")), timestamp_ms=42
            ),
            Record(None, b"k"),
            Record(b"", None),
        ],
    )
    after = int(time.time() * 1000)
    first, tombstone, empty = cluster.fetch("t", 0, 0)
    assert first.headers == (("a", b"1"), ("a", b""), ("\u00e9", b"\x00"))
    assert first.timestamp_ms == 42
    assert tombstone.value is None and tombstone.key == b"k" and tombstone.headers == ()
    assert before <= tombstone.timestamp_ms <= after
    assert empty.key is None and empty.value == b""
    assert first.topic_partition == TopicPartition("t", 0)


def test_log_append_time_replaces_the_timestamp(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 1, {"message.timestamp.type": "LogAppendTime"})
    (meta,) = cluster.produce("t", [Record(b"v", timestamp_ms=1)])
    assert meta.timestamp_ms > 1
    assert cluster.fetch("t", 0, 0)[0].timestamp_ms == meta.timestamp_ms


def test_produce_is_all_or_nothing(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 2, {"max.message.bytes": "100"})
    batch = [Record(b"x" * 10, b"k1"), Record(b"y" * 200, b"k2")]
    with pytest.raises(RecordTooLargeError, match=r"202 bytes.*max.message.bytes=100"):
        cluster.produce("t", batch)
    with pytest.raises(UnknownTopicOrPartitionError):
        cluster.produce("t", [Record(b"ok", partition=0), Record(b"bad", partition=9)])
    assert cluster.list_offsets("t", OffsetSpec.LATEST) == {0: 0, 1: 0}


def test_compacted_topics_refuse_keyless_records(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 1, {"cleanup.policy": "compact"})
    with pytest.raises(InvalidRecordError, match="without a key"):
        cluster.produce("t", [Record(b"v", b"k"), Record(b"v")])
    assert cluster.list_offsets("t", OffsetSpec.LATEST) == {0: 0}


def test_wrong_types_are_refused(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 1)
    with pytest.raises(TypeError, match="value must be bytes"):
        cluster.produce("t", [Record("text")])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="header"):
        cluster.produce("t", [Record(b"v", headers=(("h", "text"),))])  # type: ignore[arg-type]


def test_fetch_limits(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 1)
    cluster.produce("t", [Record(b"x" * 10, b"k") for _ in range(30)])
    assert [r.offset for r in cluster.fetch("t", 0, 5, max_records=3)] == [5, 6, 7]
    # 11 bytes per record: 3 fit in 35 bytes.
    assert len(cluster.fetch("t", 0, 0, max_bytes=35)) == 3
    # The first record is always returned, even when larger than max_bytes.
    assert len(cluster.fetch("t", 0, 0, max_bytes=1)) == 1
    assert cluster.fetch("t", 0, 30) == []
    assert cluster.fetch("t", 0, 0, max_records=0) == []


def test_fetch_out_of_range(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 1)
    cluster.produce("t", [Record(b"v")] * 3)
    with pytest.raises(OffsetOutOfRangeError, match=r"offset 4 .* \[0, 3\]"):
        cluster.fetch("t", 0, 4)
    with pytest.raises(OffsetOutOfRangeError):
        cluster.fetch("t", 0, -1)


def test_fetch_spans_many_produce_calls_and_chunks(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 1)
    for start, count in [(0, 700), (700, 2600), (3300, 1)]:
        cluster.produce("t", [Record(str(i).encode(), b"k") for i in range(start, start + count)])
    seen: list[int] = []
    offset = 0
    while offset < 3301:
        batch = cluster.fetch("t", 0, offset, max_records=333)
        seen.extend(int(r.value or b"") for r in batch)
        offset = batch[-1].offset + 1
    assert seen == list(range(3301))


def test_list_offsets_by_timestamp(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 1)
    stamps = [100, 300, 200, 300, 500, 400]
    for stamp in stamps[:3]:
        cluster.produce("t", [Record(b"v", timestamp_ms=stamp)])
    cluster.produce("t", [Record(b"v", timestamp_ms=s) for s in stamps[3:]])
    assert cluster.list_offsets("t", OffsetSpec.EARLIEST) == {0: 0}
    assert cluster.list_offsets("t", OffsetSpec.LATEST) == {0: 6}
    for target in [0, 100, 101, 200, 250, 300, 301, 450, 500, 501]:
        expected = next((i for i, s in enumerate(stamps) if s >= target), 6)
        assert cluster.list_offsets("t", target) == {0: expected}, target


@settings(deadline=None, max_examples=25)
@given(
    batches=st.lists(
        st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=8),
        min_size=1,
        max_size=6,
    ),
    target=st.integers(min_value=-1, max_value=52),
)
def test_timestamp_lookup_matches_a_scan(
    make_cluster_for_hypothesis: EmbeddedCluster, batches: list[list[int]], target: int
) -> None:
    cluster = make_cluster_for_hypothesis
    name = f"t{next(_TOPIC_NUMBERS)}"
    cluster.create_topic(name, 1)
    stamps = [s for batch in batches for s in batch]
    for batch in batches:
        cluster.produce(name, [Record(b"v", timestamp_ms=s) for s in batch])
    expected = next((i for i, s in enumerate(stamps) if s >= target), len(stamps))
    assert cluster.list_offsets(name, target) == {0: expected}


@pytest.fixture(scope="module")
def make_cluster_for_hypothesis(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[EmbeddedCluster]:
    """One cluster shared by the examples of a property test (each uses its own topic)."""
    cluster = EmbeddedCluster(tmp_path_factory.mktemp("prop"), maintenance_interval_s=None)
    yield cluster
    cluster.close()


def test_list_offsets_rejects_bad_specs(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 1)
    with pytest.raises(TypeError):
        cluster.list_offsets("t", "earliest")  # type: ignore[arg-type]
