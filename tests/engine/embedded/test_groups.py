"""Consumer groups on the embedded engine: offsets, membership, rebalances, generations."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import pytest

from engine.embedded import EmbeddedCluster, EmbeddedConsumer, groups
from engine.embedded.sqlite import connect
from engine.errors import (
    EngineError,
    GroupIdNotFoundError,
    GroupNotEmptyError,
    InconsistentGroupProtocolError,
    OffsetOutOfRangeError,
    RebalanceInProgressError,
    UnknownTopicOrPartitionError,
)
from engine.types import ConsumedRecord, GroupState, OffsetAndMetadata, Record, TopicPartition

# Short heartbeats make rebalances quick; generous timeouts keep a loaded machine from
# expiring members that are merely slow to be scheduled.
FAST = {"session_timeout_ms": 3000, "heartbeat_interval_ms": 30, "max_poll_interval_ms": 3000}


def fast_consumer(cluster: EmbeddedCluster, group: str, **options: object) -> EmbeddedConsumer:
    consumer = cluster.consumer(group, **{**FAST, **options})  # type: ignore[arg-type]
    assert isinstance(consumer, EmbeddedConsumer)
    return consumer


def settle(
    consumers: Sequence[EmbeddedConsumer],
    done: Callable[[], bool],
    timeout: float = 15.0,
) -> None:
    """Poll every consumer in turn until `done()` holds."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the group did not settle"
        for consumer in consumers:
            consumer.poll(0.01)


def partitions(consumer: EmbeddedConsumer) -> list[int]:
    return sorted(tp.partition for tp in consumer.assignment())


def test_commit_and_read_offsets(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 2)
    offsets = {
        TopicPartition("t", 0): OffsetAndMetadata(5, "meta"),
        TopicPartition("t", 1): OffsetAndMetadata(7),
    }
    cluster.commit_offsets("g", offsets)
    assert cluster.committed_offsets("g") == offsets
    assert cluster.committed_offsets("g", ["other"]) == {}
    assert cluster.list_groups()[0].group_id == "g"
    assert cluster.describe_group("g").state == GroupState.EMPTY
    with pytest.raises(UnknownTopicOrPartitionError):
        cluster.commit_offsets("g", {TopicPartition("t", 9): OffsetAndMetadata(1)})
    cluster.delete_group("g")
    assert cluster.committed_offsets("g") == {}
    assert cluster.list_groups() == []
    assert cluster.describe_group("g").state == GroupState.DEAD
    with pytest.raises(GroupIdNotFoundError):
        cluster.delete_group("g")


def test_deleting_a_topic_forgets_its_offsets(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 1)
    cluster.commit_offsets("g", {TopicPartition("t", 0): OffsetAndMetadata(1)})
    cluster.delete_topic("t")
    assert cluster.committed_offsets("g") == {}


def test_a_lone_member_gets_everything_and_commits(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 3)
    cluster.produce("t", [Record(str(i).encode(), str(i).encode()) for i in range(30)])
    consumer = fast_consumer(cluster, "g", auto_offset_reset="earliest")
    consumer.subscribe(["t"])
    seen: list[ConsumedRecord] = []
    deadline = time.monotonic() + 10
    while len(seen) < 30 and time.monotonic() < deadline:
        seen.extend(consumer.poll(0.1, max_records=7))
    assert sorted(int(r.value or b"") for r in seen) == list(range(30))
    assert partitions(consumer) == [0, 1, 2]
    consumer.commit()
    description = cluster.describe_group("g")
    assert description.state == GroupState.STABLE
    assert description.protocol == "range"
    (member,) = description.members
    assert member.member_id == consumer.member_id
    assert sorted(member.assignment) == [TopicPartition("t", p) for p in range(3)]
    committed = cluster.committed_offsets("g")
    assert sum(om.offset for om in committed.values()) == 30
    with pytest.raises(GroupNotEmptyError, match="active member"):
        cluster.delete_group("g")
    with pytest.raises(GroupNotEmptyError):
        cluster.commit_offsets("g", {TopicPartition("t", 0): OffsetAndMetadata(0)})
    consumer.close()
    assert cluster.describe_group("g").state == GroupState.EMPTY
    cluster.delete_group("g")


def test_a_second_consumer_resumes_from_committed_offsets(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 1)
    cluster.produce("t", [Record(str(i).encode()) for i in range(10)])
    first = fast_consumer(cluster, "g", auto_offset_reset="earliest")
    first.subscribe(["t"])
    records = first.poll(5, max_records=4)
    assert [r.offset for r in records] == [0, 1, 2, 3]
    first.commit()
    first.close()
    second = fast_consumer(cluster, "g", auto_offset_reset="earliest")
    second.subscribe(["t"])
    assert second.poll(5)[0].offset == 4
    second.close()


def test_join_and_leave_rebalance_with_new_generations(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 4)
    first = fast_consumer(cluster, "g")
    first.subscribe(["t"])
    settle([first], lambda: partitions(first) == [0, 1, 2, 3])
    generation = first.generation
    second = fast_consumer(cluster, "g")
    second.subscribe(["t"])
    settle(
        [first, second],
        lambda: len(first.assignment()) == 2 and len(second.assignment()) == 2,
    )
    assert first.generation == second.generation > generation
    assert sorted(partitions(first) + partitions(second)) == [0, 1, 2, 3]
    description = cluster.describe_group("g")
    assert description.generation == first.generation
    assert len(description.members) == 2
    second.close()
    settle([first], lambda: partitions(first) == [0, 1, 2, 3])
    assert first.generation > second.generation
    first.close()


def test_roundrobin_assignor_across_two_topics(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("a", 2)
    cluster.create_topic("b", 2)
    one = fast_consumer(cluster, "g", assignor="roundrobin")
    two = fast_consumer(cluster, "g", assignor="roundrobin")
    one.subscribe(["a", "b"])
    two.subscribe(["a", "b"])
    settle([one, two], lambda: len(one.assignment()) == 2 and len(two.assignment()) == 2)
    assert cluster.describe_group("g").protocol == "roundrobin"
    with pytest.raises(InconsistentGroupProtocolError, match="roundrobin"):
        fast_consumer(cluster, "g", assignor="range").subscribe(["a"])
    one.close()
    two.close()


class ManualClock:
    """The coordinator's clock in milliseconds, moved only by the test."""

    def __init__(self) -> None:
        self.now = 1_000_000

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Wait until `condition()` holds (a background thread makes it true)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.005)


def test_stale_member_commit_is_refused(make_cluster: Callable[..., EmbeddedCluster]) -> None:
    clock = ManualClock()
    cluster = make_cluster(clock=clock)
    cluster.create_topic("t", 2)
    seven = {TopicPartition("t", p): OffsetAndMetadata(7) for p in (0, 1)}
    rewind = {TopicPartition("t", p): OffsetAndMetadata(0) for p in (0, 1)}
    slow = fast_consumer(cluster, "g", max_poll_interval_ms=500)
    slow.subscribe(["t"])
    settle([slow], lambda: len(slow.assignment()) == 2)
    slow.commit(seven)  # current generation: accepted
    other = fast_consumer(cluster, "g", max_poll_interval_ms=500)
    other.subscribe(["t"])  # opens a rebalance that `slow` must join within 500 ms
    clock.advance(501)  # `slow` never polls, so the rebalance timeout runs out for it
    settle([other], lambda: len(other.assignment()) == 2)
    assert slow.member_id not in {m.member_id for m in cluster.describe_group("g").members}
    # Whether or not its heartbeat thread has learnt of the removal yet, the commit fails.
    with pytest.raises(RebalanceInProgressError, match="rejoin"):
        slow.commit(rewind)
    with pytest.raises(RebalanceInProgressError, match="generation"):
        cluster.engine.commit_member_offsets(
            "g",
            other.member_id or "",
            other.generation - 1,
            {TopicPartition("t", 0): OffsetAndMetadata(0)},
        )
    assert cluster.committed_offsets("g") == seven
    # Once the group is empty and `slow` knows it was removed, its commit still fails: it
    # must not be taken for an admin commit and rewind the group.
    other.close()
    wait_for(lambda: slow.member_id is None)
    with pytest.raises(RebalanceInProgressError, match="no longer a member"):
        slow.commit(rewind)
    assert cluster.committed_offsets("g") == seven
    # Polling again makes it rejoin; then it commits as a member.
    settle([slow], lambda: slow.member_id is not None and len(slow.assignment()) == 2)
    slow.commit(rewind)
    assert cluster.committed_offsets("g") == rewind
    slow.close()


def test_adding_partitions_triggers_a_rebalance(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 1)
    consumer = fast_consumer(cluster, "g")
    consumer.subscribe(["t"])
    settle([consumer], lambda: partitions(consumer) == [0])
    cluster.add_partitions("t", 3)
    settle([consumer], lambda: partitions(consumer) == [0, 1, 2])
    consumer.close()


def test_manual_assignment_seek_position_and_reset(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 2)
    cluster.produce("t", [Record(b"v", partition=0)] * 5)
    latest = cluster.consumer("g")
    latest.assign([TopicPartition("t", 0)])
    assert latest.position(TopicPartition("t", 0)) == 5
    latest.seek(TopicPartition("t", 0), 2)
    assert [r.offset for r in latest.poll(1)] == [2, 3, 4]
    latest.commit()
    assert cluster.committed_offsets("g")[TopicPartition("t", 0)].offset == 5
    with pytest.raises(EngineError, match="not assigned"):
        latest.seek(TopicPartition("t", 1), 0)
    latest.close()
    strict = cluster.consumer(None, auto_offset_reset="error")
    with pytest.raises(OffsetOutOfRangeError, match="auto_offset_reset"):
        strict.assign([TopicPartition("t", 1)])
    with pytest.raises(EngineError, match="group_id"):
        strict.subscribe(["t"])


def test_consumer_resets_when_its_position_was_deleted(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 1, {"retention.ms": "1000"})
    cluster.produce("t", [Record(b"old", timestamp_ms=1)])
    cluster.produce("t", [Record(b"new")])
    consumer = cluster.consumer(None, auto_offset_reset="earliest")
    consumer.assign([TopicPartition("t", 0)])
    cluster.run_maintenance()
    assert [r.value for r in consumer.poll(2)] == [b"new"]
    consumer.close()


def test_auto_commit_on_close(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 1)
    cluster.produce("t", [Record(b"v")] * 3)
    consumer = fast_consumer(cluster, "g", auto_offset_reset="earliest", enable_auto_commit=True)
    consumer.subscribe(["t"])
    assert len(consumer.poll(5)) == 3
    consumer.close()
    assert cluster.committed_offsets("g")[TopicPartition("t", 0)].offset == 3


def heard_from_all(cluster: EmbeddedCluster, group: str, since_ms: int) -> bool:
    """Whether every member of the group heartbeated at or after `since_ms` (coordinator time)."""
    conn = connect(cluster.path / "groups.db", create=False)
    try:
        (oldest,) = conn.execute(
            "SELECT min(last_seen_ms) FROM members WHERE group_id = ?", (group,)
        ).fetchone()
    finally:
        conn.close()
    return oldest is not None and oldest >= since_ms


def test_the_rebalance_timeout_not_the_session_bounds_a_slow_rejoin(
    make_cluster: Callable[..., EmbeddedCluster],
) -> None:
    clock = ManualClock()
    cluster = make_cluster(clock=clock)
    cluster.create_topic("t", 2)
    options = {"session_timeout_ms": 1000, "heartbeat_interval_ms": 50}
    slow = fast_consumer(cluster, "g", max_poll_interval_ms=10_000, **options)
    slow.subscribe(["t"])
    settle([slow], lambda: len(slow.assignment()) == 2)
    other = fast_consumer(cluster, "g", max_poll_interval_ms=10_000, **options)
    other.subscribe(["t"])
    # `slow` does not poll for 2.5 s of coordinator time, over two session timeouts; its
    # heartbeats go on (the test moves the clock only once both members beat at its time).
    for _ in range(25):
        clock.advance(100)
        wait_for(lambda: heard_from_all(cluster, "g", clock.now))
    description = cluster.describe_group("g")
    assert description.state == GroupState.PREPARING_REBALANCE
    assert len(description.members) == 2
    settle([slow, other], lambda: len(slow.assignment()) == 1 and len(other.assignment()) == 1)
    slow.close()
    other.close()


def test_coordinator_waits_for_the_rebalance_timeout(tmp_path: Path) -> None:
    """The same rule on the coordinator with a simulated clock."""
    conn = connect(tmp_path / "groups.db", create=True)
    groups.init_groups(conn)
    spec = groups.MemberSpec("c", "h", ("t",), "range", 300, 2000)

    def partition_counts(topics: Iterable[str]) -> dict[str, int]:
        return {t: 2 for t in topics if t == "t"}

    first = groups.join(conn, "g", None, spec, 0, partition_counts)
    assert first.status == groups.HeartbeatStatus.STABLE
    second = groups.join(conn, "g", None, spec, 100, partition_counts)
    assert second.status == groups.HeartbeatStatus.AWAITING
    for now in range(250, 2100, 250):  # both keep beating; `first` never rejoins
        assert groups.heartbeat(conn, "g", first.member_id, now, partition_counts).status == (
            groups.HeartbeatStatus.REJOIN
        )
        groups.heartbeat(conn, "g", second.member_id, now, partition_counts)
    assert len(groups.describe(conn, "g", 2099, partition_counts).members) == 2
    # Past the rebalance timeout (2000 ms after the rebalance began) `first` is removed.
    answer = groups.heartbeat(conn, "g", second.member_id, 2101, partition_counts)
    assert answer.status == groups.HeartbeatStatus.STABLE
    assert answer.assignment == (TopicPartition("t", 0), TopicPartition("t", 1))
    assert groups.heartbeat(conn, "g", first.member_id, 2102, partition_counts).status == (
        groups.HeartbeatStatus.UNKNOWN_MEMBER
    )
    conn.close()


def test_a_deleted_topic_is_rebalanced_away(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("keep", 1)
    cluster.create_topic("drop", 1)
    consumer = fast_consumer(cluster, "g")
    consumer.subscribe(["keep", "drop"])
    settle([consumer], lambda: len(consumer.assignment()) == 2)
    cluster.delete_topic("drop")
    assert consumer.poll(0.05) == []  # no error for the vanished partition
    settle([consumer], lambda: consumer.assignment() == [TopicPartition("keep", 0)])
    consumer.close()
