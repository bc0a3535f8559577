"""End to end with real consumers on both backends: a group falls behind, its status and
recommendation change, then it recovers."""

from __future__ import annotations

import json
import threading
import time

from engine.cluster import Cluster, Consumer
from engine.types import OffsetAndMetadata, OffsetSpec, Record, TopicPartition
from lagmonitor.controller import ControllerConfig
from lagmonitor.model import Status
from lagmonitor.monitor import LagMonitor, MonitorConfig
from lagmonitor.status import StatusPolicy
from lagmonitor.tracker import LagEvent, TrackerConfig
from tests.lagmonitor.conftest import ManualClock

PARTITIONS = 4


def produce(cluster: Cluster, topic: str, count: int) -> None:
    cluster.produce(topic, [Record(value=b"v%d" % i, key=b"k%d" % i) for i in range(count)])


def consume(consumer: Consumer, at_most: int, deadline_s: float = 15.0) -> int:
    """Poll up to `at_most` records (waiting for the first ones) and commit them."""
    got = 0
    deadline = time.monotonic() + deadline_s
    while got < at_most and time.monotonic() < deadline:
        records = consumer.poll(timeout=0.2, max_records=at_most - got)
        got += len(records)
        if not records and got:
            break
    consumer.commit()
    return got


def drain(consumer: Consumer, cluster: Cluster, group: str, topic: str) -> None:
    """Consume until the group's committed offsets reach the log end."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        consume(consumer, 5000, deadline_s=1.0)
        ends = cluster.list_offsets(topic, OffsetSpec.LATEST)
        committed = cluster.committed_offsets(group, [topic])
        if all(
            committed.get(tp) is not None and committed[tp].offset >= ends[tp.partition] - 1
            for tp in (TopicPartition(topic, p) for p in range(PARTITIONS))
        ):
            return
    raise AssertionError("consumer did not catch up")


def monitor_for(cluster: Cluster, group: str, clock: ManualClock) -> LagMonitor:
    """A monitor of one group whose time passes only when the test advances `clock`."""
    return LagMonitor(
        cluster,
        MonitorConfig(
            interval_seconds=0.05,
            include=(f"^{group}$",),
            tracker=TrackerConfig(
                history_size=3,
                status=StatusPolicy(),
                controller=ControllerConfig(
                    scale_up_samples=2,
                    cooldown_seconds=0.0,
                    stabilization_seconds=0.5,
                    target_catchup_seconds=1.0,
                ),
            ),
        ),
        clock=clock,
    )


def test_group_falls_behind_then_recovers(
    cluster: Cluster, unique: str, clock: ManualClock
) -> None:
    topic, group = f"orders-{unique}", f"billing-{unique}"
    cluster.create_topic(topic, partitions=PARTITIONS)
    consumer = cluster.consumer(group, auto_offset_reset="earliest", client_id="billing-1")
    consumer.subscribe([topic])
    try:
        produce(cluster, topic, 40)
        drain(consumer, cluster, group, topic)
        monitor = monitor_for(cluster, group, clock)
        for _ in range(3):
            monitor.run_once()
            clock.advance(0.05)
        healthy = monitor.group_detail(group)
        assert healthy is not None
        assert healthy.status is Status.OK
        assert healthy.total_lag == 0
        assert healthy.recommended_replicas == 1
        if cluster.describe_group(group).members:  # not every broker reports members
            assert healthy.members == 1
            assert {p.owner for p in healthy.partitions} == {"billing-1"}

        # Falls behind: far more is produced than the consumer takes each interval. The slow
        # consumer commits 25 more records on every partition each round.
        positions = {tp: om.offset for tp, om in cluster.committed_offsets(group).items()}
        for _ in range(5):
            produce(cluster, topic, 400)
            positions = {tp: offset + 25 for tp, offset in positions.items()}
            consumer.commit({tp: OffsetAndMetadata(offset) for tp, offset in positions.items()})
            monitor.run_once()
            clock.advance(0.1)
        behind = monitor.group_detail(group)
        assert behind is not None
        assert behind.total_lag > 1000
        assert behind.status is Status.WARN, behind.status_reason
        assert "grew" in behind.status_reason
        assert behind.recommended_replicas > 1
        if behind.members:  # compared with the real member count when the broker reports it
            assert behind.recommendation.action == "scale_up"
        assert behind.time_lag_seconds is not None and behind.time_lag_seconds > 0
        assert behind.production_rate is not None and behind.production_rate > 0

        # Recovers: the consumer drains everything, the status returns to OK and, once the
        # demand stayed low for the stabilization window, the recommendation comes back down.
        for tp, offset in positions.items():
            consumer.seek(tp, offset)
        drain(consumer, cluster, group, topic)
        # Bounded by monitor cycles on the manual clock (the stabilization window is 0.5 s of
        # it), not by wall time, so a loaded machine cannot cut the recovery short.
        for _ in range(100):
            monitor.run_once()
            recovered = monitor.group_detail(group)
            assert recovered is not None
            if recovered.status is Status.OK and recovered.recommended_replicas == 1:
                break
            consume(consumer, 100, deadline_s=0.2)
            clock.advance(0.1)
        assert recovered.status is Status.OK
        assert recovered.total_lag == 0
        assert recovered.recommended_replicas == 1
        assert recovered.time_lag_seconds == 0.0

        events = [
            json.loads(r.value or b"{}")
            for r in cluster.fetch("_lag_signals", 0, 0, max_records=10_000)
            if r.key == group.encode()
        ]
        statuses = [e["status"] for e in events if e["type"] == "status"]
        replicas = [e["replicas"] for e in events if e["type"] == "recommendation"]
        assert statuses[0] == "OK" and "WARN" in statuses and statuses[-1] == "OK"
        assert replicas[0] == 1 and max(replicas) > 1 and replicas[-1] == 1
    finally:
        consumer.close()


def test_stopped_consumer_goes_stop_and_deleted_group_disappears(
    cluster: Cluster, unique: str, clock: ManualClock
) -> None:
    topic, group = f"events-{unique}", f"audit-{unique}"
    cluster.create_topic(topic, partitions=1)
    produce(cluster, topic, 20)
    consumer = cluster.consumer(group, auto_offset_reset="earliest")
    consumer.subscribe([topic])
    consume(consumer, 5)
    consumer.close()
    monitor = monitor_for(cluster, group, clock)
    # Until the broker has seen the member leave (real time on Kafka), samples are taken as
    # the test's clock advances; the wait is on that condition, with a deadline.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        monitor.run_once()
        clock.advance(0.1)
        detail = monitor.group_detail(group)
        if detail is not None and detail.members == 0 and detail.status is Status.ERR:
            break
        if detail is not None and detail.members:
            cluster.describe_group(group)  # a round trip to the broker, not a sleep
    assert detail is not None
    assert detail.partitions[0].status is Status.STOP, detail.partitions[0].reason
    assert detail.status_reason.startswith(f"{topic}[0] STOP")

    cluster.delete_group(group)
    events = monitor.run_once()
    assert [(e.kind, e.group) for e in events] == [("group_removed", group)]
    assert monitor.group_detail(group) is None


def test_background_loop_samples_on_its_own(
    cluster: Cluster, unique: str, clock: ManualClock
) -> None:
    topic, group = f"loop-{unique}", f"loop-{unique}"
    cluster.create_topic(topic, partitions=1)
    produce(cluster, topic, 3)
    consumer = cluster.consumer(group, auto_offset_reset="earliest")
    consumer.subscribe([topic])
    try:
        consume(consumer, 1)
        monitor = monitor_for(cluster, group, clock)
        cycled = threading.Event()
        run_once = monitor.run_once

        def counted(only_group: str | None = None) -> list[LagEvent]:
            events = run_once(only_group)
            if monitor.cycles >= 3:
                cycled.set()
            return events

        monitor.run_once = counted  # type: ignore[method-assign]
        monitor.start()
        try:
            assert cycled.wait(10), "the loop did not take three samples"
        finally:
            monitor.stop()
        assert monitor.cycles >= 3
        assert [g.group for g in monitor.group_list().groups] == [group]
    finally:
        consumer.close()
