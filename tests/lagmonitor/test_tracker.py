"""The tracker over hand-made samples: edge cases, totals and the events of changes."""

from __future__ import annotations

from engine.types import TopicPartition
from lagmonitor.controller import ControllerConfig
from lagmonitor.model import Status
from lagmonitor.reports import find_detail, group_list, keda_metric
from lagmonitor.sampler import ClusterSample, GroupObservation, PartitionObservation
from lagmonitor.tracker import LagTracker, TrackerConfig

OWNER = ("m-1", "client-1", "host-1")


def part(
    partition: int,
    committed: int | None,
    end: int,
    earliest: int = 0,
    topic: str = "orders",
    **extra: object,
) -> PartitionObservation:
    return PartitionObservation(topic, partition, committed, earliest, end, **extra)  # type: ignore[arg-type]


def group(
    name: str,
    *partitions: PartitionObservation,
    members: int = 1,
    owned: bool = True,
    **extra: object,
) -> GroupObservation:
    owners = (
        {TopicPartition(p.topic, p.partition): OWNER for p in partitions}
        if owned and members
        else {}
    )
    return GroupObservation(
        name,
        "Stable" if members else "Empty",
        members,
        owners,
        tuple(partitions),
        **extra,  # type: ignore[arg-type]
    )


def sample(at: float, *groups: GroupObservation, complete: bool = True) -> ClusterSample:
    offsets = {
        TopicPartition(p.topic, p.partition): (p.earliest, p.end)
        for g in groups
        for p in g.partitions
    }
    return ClusterSample(at, tuple(groups), offsets, poll_ms=1.0, complete=complete)


def tracker(window: int = 3) -> LagTracker:
    return LagTracker(TrackerConfig(history_size=window))


def test_totals_and_max() -> None:
    t = tracker()
    t.record(sample(0.0, group("g", part(0, 10, 50), part(1, 5, 8), part(2, None, 100))))
    g = t.groups["g"]
    assert g.total_lag == 43
    assert g.max_lag_track is not None and g.max_lag_track.partition == 0
    summary = group_list(t, 10.0).groups[0]
    assert (summary.total_lag, summary.max_lag, summary.partition_count) == (43, 40, 3)


def test_no_commit_policy_earliest_counts_every_record() -> None:
    t = LagTracker(TrackerConfig(no_commit="earliest"))
    t.record(sample(0.0, group("g", part(0, None, 100, earliest=30))))
    assert t.groups["g"].total_lag == 70


def test_status_goes_err_then_recovers_with_events() -> None:
    t = tracker(window=3)
    events = t.record(sample(0.0, group("g", part(0, 10, 50))))
    assert [e.kind for e in events] == ["status", "recommendation"]
    assert events[0].data["previous"] is None
    t.record(sample(10.0, group("g", part(0, 10, 60))))
    events = t.record(sample(20.0, group("g", part(0, 10, 70))))
    assert t.groups["g"].status is not None
    assert t.groups["g"].status.status is Status.ERR
    assert "STALL" in t.groups["g"].status.reason
    status_events = [e for e in events if e.kind == "status"]
    assert status_events[0].data == {
        "status": "ERR",
        "previous": Status.PENDING,
        "reason": t.groups["g"].status.reason,
        "total_lag": 60,
    }
    events = t.record(sample(30.0, group("g", part(0, 70, 70))))
    assert [e.data["status"] for e in events if e.kind == "status"] == ["OK"]


def test_unchanged_status_makes_no_event() -> None:
    t = tracker()
    t.record(sample(0.0, group("g", part(0, 10, 10))))
    assert t.record(sample(10.0, group("g", part(0, 20, 20)))) == []


def test_deleted_group_is_dropped_with_an_event() -> None:
    t = tracker()
    t.record(sample(0.0, group("g", part(0, 10, 50)), group("h", part(0, 1, 1))))
    events = t.record(sample(10.0, group("h", part(0, 1, 1))))
    assert [(e.kind, e.group) for e in events] == [("group_removed", "g")]
    assert "g" not in t.groups
    assert find_detail(t, "g") is None
    assert keda_metric(t, "g") is None


def test_incomplete_sample_never_drops_groups() -> None:
    t = tracker()
    t.record(sample(0.0, group("g", part(0, 10, 50))))
    assert t.record(sample(10.0, complete=False)) == []
    assert "g" in t.groups


def test_deleted_topic_is_listed_and_its_partitions_dropped() -> None:
    t = tracker()
    t.record(sample(0.0, group("g", part(0, 10, 50), part(0, 1, 9, topic="old"))))
    assert t.groups["g"].total_lag == 48
    t.record(sample(10.0, group("g", part(0, 10, 50), missing_topics=("old",))))
    detail = find_detail(t, "g")
    assert detail is not None
    assert detail.missing_topics == ["old"]
    assert detail.total_lag == 40
    assert [p.topic for p in detail.partitions] == ["orders"]
    assert TopicPartition("old", 0) not in t.tables


def test_added_partition_starts_a_fresh_window() -> None:
    t = tracker()
    t.record(sample(0.0, group("g", part(0, 10, 10))))
    t.record(sample(10.0, group("g", part(0, 20, 20), part(1, None, 5))))
    detail = find_detail(t, "g")
    assert detail is not None
    added = detail.partitions[1]
    assert (added.partition, added.committed, added.lag, added.status) == (1, None, 0, Status.OK)
    assert "no committed offset" in added.reason
    assert added.completeness < detail.partitions[0].completeness


def test_transaction_marker_gap_counts_as_caught_up() -> None:
    t = tracker(window=3)
    for at in (0.0, 10.0, 20.0, 30.0):
        t.record(sample(at, group("g", part(0, 99, 100, no_records_behind=True))))
    g = t.groups["g"]
    assert g.total_lag == 0
    assert g.status is not None and g.status.status is Status.OK


def test_quiet_topic_with_zero_lag_and_no_members_is_ok() -> None:
    t = tracker(window=3)
    for at in range(0, 100, 10):
        t.record(sample(float(at), group("g", part(0, 500, 500), members=0)))
    assert t.groups["g"].status is not None
    assert t.groups["g"].status.status is Status.OK


def test_members_without_assignment_info_own_every_partition() -> None:
    t = tracker(window=3)
    for at in (0.0, 10.0, 20.0):
        t.record(sample(at, group("g", part(0, 5, 50 + int(at)), owned=False)))
    detail = find_detail(t, "g")
    assert detail is not None
    assert detail.partitions[0].status is Status.STALL


def test_time_lag_exact_from_head_timestamp_and_interpolated_otherwise() -> None:
    t = tracker()
    t.record(sample(100.0, group("g", part(0, 5, 50, head_timestamp=40.0))))
    assert t.groups["g"].time_lag is not None
    assert t.groups["g"].time_lag.seconds == 60.0
    u = tracker()
    u.record(sample(0.0, group("h", part(0, 0, 100))))
    u.record(sample(10.0, group("h", part(0, 0, 200))))
    u.record(sample(20.0, group("h", part(0, 150, 300))))
    time_lag = u.groups["h"].time_lag
    assert time_lag is not None
    assert not time_lag.lower_bound
    assert abs(time_lag.seconds - 14.9) < 1e-6  # record 150 appended at 10.1 s


def test_group_rates_feed_the_controller() -> None:
    t = LagTracker(TrackerConfig(controller=ControllerConfig(scale_up_samples=1)))
    t.record(sample(0.0, group("g", part(0, 0, 100), part(1, 0, 100))))
    t.record(sample(10.0, group("g", part(0, 50, 300), part(1, 50, 300))))
    g = t.groups["g"]
    assert g.production_rate == 40.0
    assert g.consumption_rate == 10.0
    assert g.recommendation is not None
    assert g.recommendation.inputs["production_rate"] == 40.0


def test_history_lists_for_sparklines_are_bounded() -> None:
    t = LagTracker(TrackerConfig(lag_history_points=5, recommendation_history=4))
    for i in range(20):
        t.record(sample(float(i), group("g", part(0, i, 2 * i))))
    detail = find_detail(t, "g")
    assert detail is not None
    assert [p.lag for p in detail.lag_history] == [15, 16, 17, 18, 19]
    assert len(detail.recommendation_history) == 4
