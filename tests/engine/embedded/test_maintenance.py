"""Retention and compaction on the embedded engine, on demand and in the background."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.embedded import EmbeddedCluster
from engine.types import OffsetSpec, Record, TopicPartition

DAY = 86_400_000


def values(
    cluster: EmbeddedCluster, topic: str, partition: int = 0
) -> list[tuple[int, bytes | None]]:
    start = cluster.list_offsets(topic, OffsetSpec.EARLIEST)[partition]
    return [
        (r.offset, r.value)
        for r in cluster.fetch(topic, partition, start, max_records=10_000, max_bytes=1 << 30)
    ]


def test_retention_ms_deletes_old_records_from_the_start(cluster: EmbeddedCluster) -> None:
    now = int(time.time() * 1000)
    cluster.create_topic("t", 1, {"retention.ms": str(DAY)})
    cluster.produce("t", [Record(b"a", timestamp_ms=now - 3 * DAY)] * 3)
    cluster.produce("t", [Record(b"b", timestamp_ms=now - 2 * DAY)] * 2)
    cluster.produce("t", [Record(b"c", timestamp_ms=now)])
    cluster.produce("t", [Record(b"d", timestamp_ms=now - 5 * DAY)])  # old, but after a new one
    report = cluster.run_maintenance(now)
    assert report.retention_deleted == {TopicPartition("t", 0): 5}
    assert cluster.list_offsets("t", OffsetSpec.EARLIEST) == {0: 5}
    assert cluster.list_offsets("t", OffsetSpec.LATEST) == {0: 7}
    assert [v for _, v in values(cluster, "t")] == [b"c", b"d"]
    assert cluster.list_offsets("t", now - 10 * DAY) == {0: 5}
    assert cluster.run_maintenance(now).total_deleted == 0


def test_infinite_retention_keeps_everything(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 1, {"retention.ms": "-1"})
    cluster.produce("t", [Record(b"a", timestamp_ms=0)])
    assert cluster.run_maintenance().total_deleted == 0


def test_retention_bytes_keeps_at_least_the_limit(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 1, {"retention.bytes": "250"})
    for i in range(10):
        cluster.produce("t", [Record(bytes([i]) * 100)])
    cluster.run_maintenance()
    kept = values(cluster, "t")
    assert [offset for offset, _ in kept] == [7, 8, 9]  # 300 bytes: without 7 it would be 200
    assert cluster.describe_topic("t").partitions[0].earliest_offset == 7
    assert cluster.describe_topic("t").partitions[0].size_bytes == 300


def test_compaction_keeps_the_latest_value_per_key_and_the_offsets(
    cluster: EmbeddedCluster,
) -> None:
    now = int(time.time() * 1000)
    cluster.create_topic("t", 1, {"cleanup.policy": "compact"})
    cluster.produce(
        "t",
        [
            Record(b"k1-a", b"k1", timestamp_ms=now),
            Record(b"k2-a", b"k2", timestamp_ms=now),
            Record(b"k1-b", b"k1", timestamp_ms=now),
        ],
    )
    cluster.produce("t", [Record(b"k3-a", b"k3", timestamp_ms=now)])
    cluster.produce("t", [Record(b"k2-b", b"k2", timestamp_ms=now)])
    report = cluster.run_maintenance(now)
    assert report.compaction_deleted == {TopicPartition("t", 0): 2}
    assert values(cluster, "t") == [(2, b"k1-b"), (3, b"k3-a"), (4, b"k2-b")]
    # The log start stays; a fetch inside the gap returns the next records.
    assert cluster.list_offsets("t", OffsetSpec.EARLIEST) == {0: 0}
    assert [r.offset for r in cluster.fetch("t", 0, 1)] == [2, 3, 4]
    assert cluster.list_offsets("t", OffsetSpec.LATEST) == {0: 5}


def test_tombstones_are_removed_after_delete_retention(cluster: EmbeddedCluster) -> None:
    now = int(time.time() * 1000)
    cluster.create_topic("t", 1, {"cleanup.policy": "compact", "delete.retention.ms": str(DAY)})
    cluster.produce("t", [Record(b"v", b"old", timestamp_ms=now - 3 * DAY)])
    cluster.produce("t", [Record(None, b"old", timestamp_ms=now - 2 * DAY)])
    cluster.produce("t", [Record(b"v", b"new", timestamp_ms=now)])
    cluster.produce("t", [Record(None, b"new", timestamp_ms=now)])
    cluster.run_maintenance(now)
    # The recent tombstone stays (consumers must still see the delete); the old one is gone.
    assert values(cluster, "t") == [(3, None)]


def test_min_compaction_lag_protects_recent_records(cluster: EmbeddedCluster) -> None:
    now = int(time.time() * 1000)
    cluster.create_topic("t", 1, {"cleanup.policy": "compact", "min.compaction.lag.ms": str(DAY)})
    cluster.produce("t", [Record(b"1", b"k", timestamp_ms=now - 3 * DAY)])
    cluster.produce("t", [Record(b"2", b"k", timestamp_ms=now - 2 * DAY)])
    cluster.produce("t", [Record(b"3", b"k", timestamp_ms=now)])
    cluster.run_maintenance(now)
    assert values(cluster, "t") == [(1, b"2"), (2, b"3")]


def test_compact_and_delete_together(cluster: EmbeddedCluster) -> None:
    now = int(time.time() * 1000)
    cluster.create_topic("t", 1, {"cleanup.policy": "compact,delete", "retention.ms": str(DAY)})
    cluster.produce("t", [Record(b"x", b"a", timestamp_ms=now - 2 * DAY)])
    cluster.produce(
        "t", [Record(b"y", b"b", timestamp_ms=now), Record(b"z", b"b", timestamp_ms=now)]
    )
    cluster.run_maintenance(now)
    assert values(cluster, "t") == [(2, b"z")]
    assert cluster.list_offsets("t", OffsetSpec.EARLIEST) == {0: 1}


def test_background_maintenance_runs_on_its_own(
    make_cluster: Callable[..., EmbeddedCluster],
) -> None:
    cluster = make_cluster(maintenance_interval_s=0.05)
    cluster.create_topic("t", 1, {"retention.ms": "1000"})
    cluster.produce("t", [Record(b"old", timestamp_ms=1)])
    deadline = time.monotonic() + 10
    while cluster.list_offsets("t", OffsetSpec.EARLIEST) != {0: 1}:
        assert time.monotonic() < deadline, "the background pass never ran"
        time.sleep(0.02)


def test_a_consumer_skips_a_gap_that_reaches_the_log_end(cluster: EmbeddedCluster) -> None:
    now = int(time.time() * 1000)
    cluster.create_topic("t", 1, {"cleanup.policy": "compact", "delete.retention.ms": "0"})
    cluster.produce("t", [Record(b"v", b"k", timestamp_ms=now - 10)])
    cluster.produce("t", [Record(None, b"k", timestamp_ms=now - 10)])
    cluster.run_maintenance(now)
    assert values(cluster, "t") == []
    consumer = cluster.engine.consumer(auto_offset_reset="earliest")
    consumer.assign([TopicPartition("t", 0)])
    assert consumer.poll(0.05) == []
    assert consumer.position(TopicPartition("t", 0)) == 2
    consumer.close()


_TOPICS = itertools.count()


@settings(deadline=None, max_examples=30)
@given(
    batches=st.lists(
        st.lists(
            st.tuples(st.sampled_from([b"a", b"b", b"c", b"d"]), st.booleans(), st.integers(0, 9)),
            min_size=1,
            max_size=6,
        ),
        min_size=1,
        max_size=5,
    )
)
def test_compaction_matches_a_model(
    shared_cluster: EmbeddedCluster, batches: list[list[tuple[bytes, bool, int]]]
) -> None:
    now = 10 * DAY
    topic = f"c{next(_TOPICS)}"
    shared_cluster.create_topic(
        topic, 1, {"cleanup.policy": "compact", "delete.retention.ms": str(5 * DAY)}
    )
    offset = 0
    records: list[tuple[int, bytes, bytes | None, int]] = []
    for batch in batches:
        shared_cluster.produce(
            topic,
            [
                Record(None if tomb else f"{offset + i}".encode(), key, timestamp_ms=day * DAY)
                for i, (key, tomb, day) in enumerate(batch)
            ],
        )
        for key, tomb, day in batch:
            records.append((offset, key, None if tomb else f"{offset}".encode(), day * DAY))
            offset += 1
    shared_cluster.run_maintenance(now)
    latest = {key: (off, value, ts) for off, key, value, ts in records}
    expected = sorted(
        (off, value)
        for off, value, ts in latest.values()
        if not (value is None and ts < now - 5 * DAY)
    )
    assert values(shared_cluster, topic) == expected
    assert shared_cluster.list_offsets(topic, OffsetSpec.LATEST) == {0: offset}
    kept = {off for off, _ in expected}
    held = sum(len(key) + len(value or b"") for off, key, value, _ in records if off in kept)
    assert shared_cluster.describe_topic(topic).partitions[0].size_bytes == held
    shared_cluster.run_maintenance(now)  # idempotent
    assert values(shared_cluster, topic) == expected


@pytest.fixture(scope="module")
def shared_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedCluster]:
    """One cluster for the examples of a property test (each uses its own topic)."""
    with EmbeddedCluster(tmp_path_factory.mktemp("compaction"), maintenance_interval_s=None) as c:
        yield c
