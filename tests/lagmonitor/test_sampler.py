"""The sampler on real clusters: group filters, compacted gaps, retention, transaction markers."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engine.cluster import Cluster
from engine.embedded import EmbeddedCluster
from engine.types import OffsetAndMetadata, OffsetSpec, Record, TopicPartition
from lagmonitor.monitor import LagMonitor, MonitorConfig
from lagmonitor.sampler import GroupFilter, Sampler
from lagmonitor.tracker import TrackerConfig


def test_group_filter() -> None:
    only = GroupFilter(include=["^billing-", "^audit$"], exclude=["-test$"])
    assert only("billing-eu")
    assert only("audit")
    assert not only("audit-2")
    assert not only("billing-test")
    assert not GroupFilter()("streamgov-fetch-1234")  # the engine's own helpers
    with pytest.raises(ValueError, match="exclude pattern '\\[' is not a valid regex"):
        GroupFilter(exclude=["["])
    with pytest.raises(ValueError, match="longer than"):
        GroupFilter(include=["a" * 5000])


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="lag interval must be between"):
        MonitorConfig(interval_seconds=0)
    with pytest.raises(ValueError, match="history_size must be between"):
        TrackerConfig(history_size=0)
    with pytest.raises(ValueError, match="no_commit"):
        TrackerConfig(no_commit="sometimes")  # type: ignore[arg-type]


@pytest.fixture()
def embedded(tmp_path: Path) -> EmbeddedCluster:
    cluster = EmbeddedCluster(tmp_path / "cluster", name="sampler")
    yield cluster  # type: ignore[misc]
    cluster.close()


def test_compacted_gap_without_records_counts_as_caught_up(embedded: EmbeddedCluster) -> None:
    embedded.create_topic(
        "profiles",
        config={
            "cleanup.policy": "compact",
            "delete.retention.ms": "0",
            "min.compaction.lag.ms": "0",
        },
    )
    embedded.produce("profiles", [Record(b"v1", key=b"k"), Record(None, key=b"k")])
    embedded.commit_offsets("reader", {TopicPartition("profiles", 0): OffsetAndMetadata(0)})
    embedded.run_maintenance(now_ms=int(time.time() * 1000) + 1000)  # a second later
    assert embedded.fetch("profiles", 0, 0) == []
    sample = Sampler(embedded).sample()
    [group] = sample.groups
    [partition] = group.partitions
    assert (partition.committed, partition.end, partition.no_records_behind) == (0, 2, True)
    monitor = LagMonitor(embedded, MonitorConfig(events_topic=None))
    monitor.run_once()
    detail = monitor.group_detail("reader")
    assert detail is not None
    assert detail.total_lag == 0


def test_commit_below_retention_reads_the_oldest_record(embedded: EmbeddedCluster) -> None:
    embedded.create_topic("logs", config={"retention.ms": "60000"})
    now_ms = int(time.time() * 1000)
    old = [Record(b"old", timestamp_ms=now_ms - 3_600_000) for _ in range(5)]
    new = [Record(b"new", timestamp_ms=now_ms - 30_000) for _ in range(3)]
    embedded.produce("logs", old)
    embedded.produce("logs", new)
    embedded.commit_offsets("slow", {TopicPartition("logs", 0): OffsetAndMetadata(1)})
    embedded.run_maintenance()
    [partition] = Sampler(embedded).sample().groups[0].partitions
    assert (partition.committed, partition.earliest, partition.end) == (1, 5, 8)
    assert partition.head_timestamp == pytest.approx((now_ms - 30_000) / 1000)
    monitor = LagMonitor(embedded, MonitorConfig(events_topic=None))
    monitor.run_once()
    detail = monitor.group_detail("slow")
    assert detail is not None
    assert detail.total_lag == 7  # offsets, as Kafka counts them
    assert detail.time_lag_seconds is not None and 29 < detail.time_lag_seconds < 120


def test_interpolate_mode_on_the_embedded_engine(embedded: EmbeddedCluster) -> None:
    embedded.create_topic("clicks")
    embedded.produce("clicks", [Record(b"x") for _ in range(10)])
    embedded.commit_offsets("ui", {TopicPartition("clicks", 0): OffsetAndMetadata(4)})
    sampler = Sampler(embedded, timestamps="interpolate")
    assert not sampler.fetch_timestamps
    [partition] = sampler.sample().groups[0].partitions
    assert partition.head_timestamp is None
    with pytest.raises(ValueError, match="timestamps must be"):
        Sampler(embedded, timestamps="guess")  # type: ignore[arg-type]


def test_unknown_group_on_its_own_yields_nothing(embedded: EmbeddedCluster) -> None:
    assert Sampler(embedded).sample("nobody").groups == ()


@pytest.mark.kafka
def test_transaction_marker_is_not_lag_on_kafka(kafka_bootstrap: str, unique: str) -> None:
    from engine.kafka import KafkaCluster

    cluster: Cluster = KafkaCluster(kafka_bootstrap)
    try:
        topic, group = f"tx-{unique}", f"tx-reader-{unique}"
        cluster.create_topic(topic)
        cluster.produce(topic, [Record(b"a"), Record(b"b"), Record(b"c")])  # one transaction
        records = cluster.fetch(topic, 0, 0)
        last = records[-1].offset
        end = cluster.list_offsets(topic, OffsetSpec.LATEST)[0]
        if end == last + 1:
            pytest.skip("this broker wrote no commit marker")
        cluster.commit_offsets(group, {TopicPartition(topic, 0): OffsetAndMetadata(last + 1)})
        [partition] = Sampler(cluster).sample(group).groups[0].partitions
        assert partition.end - partition.committed >= 1  # type: ignore[operator]
        assert partition.no_records_behind
        monitor = LagMonitor(cluster, MonitorConfig(events_topic=None))
        monitor.run_once(group)
        detail = monitor.group_detail(group)
        assert detail is not None
        assert detail.total_lag == 0
    finally:
        cluster.close()
