"""The monitor loop's edges: events on the cluster, failures that must not stop it."""

from __future__ import annotations

import json
from pathlib import Path

from engine.embedded import EmbeddedCluster
from engine.types import OffsetAndMetadata, Record, TopicPartition
from lagmonitor.monitor import EVENTS_TOPIC, LagMonitor, MonitorConfig


def seeded(tmp_path: Path) -> EmbeddedCluster:
    cluster = EmbeddedCluster(tmp_path / "cluster", name="monitor")
    cluster.create_topic("orders")
    cluster.produce("orders", [Record(b"v") for _ in range(5)])
    cluster.commit_offsets("billing", {TopicPartition("orders", 0): OffsetAndMetadata(2)})
    return cluster


def test_events_are_json_records_keyed_by_group(tmp_path: Path) -> None:
    cluster = seeded(tmp_path)
    try:
        monitor = LagMonitor(cluster, MonitorConfig())
        events = monitor.run_once()
        assert [e.kind for e in events] == ["status", "recommendation"]
        assert monitor.run_once() == []  # nothing changed
        records = cluster.fetch(EVENTS_TOPIC, 0, 0)
        assert [r.key for r in records] == [b"billing", b"billing"]
        first = json.loads(records[0].value or b"")
        assert first["type"] == "status"
        assert first["status"] == "PENDING"  # lag 3 after one sample: not judged yet
        assert first["previous"] is None
        second = json.loads(records[1].value or b"")
        assert second["type"] == "recommendation"
        assert second["replicas"] == 1
        assert {"total_lag", "desired", "partitions"} <= set(second["inputs"])
    finally:
        cluster.close()


def test_a_failing_event_topic_is_reported_not_raised(tmp_path: Path) -> None:
    cluster = seeded(tmp_path)
    try:
        monitor = LagMonitor(cluster, MonitorConfig(events_topic="not a valid name!"))
        events = monitor.run_once()
        assert events
        assert monitor.last_error is not None
        assert "not a valid name!" in monitor.last_error
        assert monitor.group_detail("billing") is not None  # the sample itself still counts
    finally:
        cluster.close()


def test_no_events_when_disabled_and_loop_start_stop(tmp_path: Path) -> None:
    cluster = seeded(tmp_path)
    try:
        monitor = LagMonitor(cluster, MonitorConfig(events_topic=None, interval_seconds=0.05))
        monitor.run_once()
        assert EVENTS_TOPIC not in cluster.list_topics(include_internal=True)
        monitor.start()
        monitor.start()  # already running: no second thread
        monitor.stop()
        monitor.stop()
        assert monitor.cycles >= 1
    finally:
        cluster.close()


def test_start_samples_before_it_returns(tmp_path: Path) -> None:
    cluster = seeded(tmp_path)
    monitor = LagMonitor(cluster, MonitorConfig(events_topic=None, interval_seconds=3600))
    try:
        monitor.start()
        # No waiting: the first sample is taken by start itself.
        assert [g.group for g in monitor.group_list().groups] == ["billing"]
        assert monitor.cycles == 1
    finally:
        monitor.stop()
        cluster.close()
