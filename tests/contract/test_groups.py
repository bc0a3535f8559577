"""Consumer groups: committed offsets, listing, describing, deleting, and live membership."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from engine.cluster import Cluster, Consumer
from engine.errors import GroupIdNotFoundError, GroupNotEmptyError
from engine.types import GroupState, OffsetAndMetadata, Record, TopicPartition
from tests.contract.conftest import Names

FAST_GROUP = {"session_timeout_ms": 6_000, "heartbeat_interval_ms": 500}


def poll_until(
    consumers: Sequence[Consumer], done: Callable[[], bool], timeout: float = 30.0
) -> None:
    """Poll every consumer (keeping its membership) until `done()` or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for consumer in consumers:
            consumer.poll(timeout=0.1)
        if done():
            return
    raise AssertionError(f"condition not reached within {timeout}s")


def test_committed_offsets_keep_their_metadata(
    cluster: Cluster, names: Names, broker_lacks: Callable[[str], None]
) -> None:
    broker_lacks("OffsetCommit drops the metadata string; OffsetFetch answers it empty")
    topic, group = names.topic(), names.group()
    cluster.create_topic(topic, partitions=2)
    cluster.commit_offsets(group, {TopicPartition(topic, 1): OffsetAndMetadata(0, "node-7")})
    assert cluster.committed_offsets(group)[TopicPartition(topic, 1)].metadata == "node-7"


def test_commit_and_read_offsets(cluster: Cluster, names: Names) -> None:
    topic, other, group = names.topic("a"), names.topic("b"), names.group()
    cluster.create_topic(topic, partitions=2)
    cluster.create_topic(other)
    cluster.produce(topic, [Record(b"v", partition=p) for p in (0, 0, 1)])
    cluster.produce(other, [Record(b"v")])
    cluster.commit_offsets(
        group,
        {
            TopicPartition(topic, 0): OffsetAndMetadata(2),
            TopicPartition(topic, 1): OffsetAndMetadata(1),
            TopicPartition(other, 0): OffsetAndMetadata(1),
        },
    )
    committed = cluster.committed_offsets(group)
    assert {tp: om.offset for tp, om in committed.items()} == {
        TopicPartition(topic, 0): 2,
        TopicPartition(topic, 1): 1,
        TopicPartition(other, 0): 1,
    }
    assert set(cluster.committed_offsets(group, [other])) == {TopicPartition(other, 0)}

    cluster.commit_offsets(group, {TopicPartition(topic, 0): OffsetAndMetadata(0)})
    assert cluster.committed_offsets(group)[TopicPartition(topic, 0)].offset == 0
    assert cluster.committed_offsets(names.group("never")) == {}


def test_group_with_offsets_is_listed_described_and_deleted(cluster: Cluster, names: Names) -> None:
    topic, group = names.topic(), names.group()
    cluster.create_topic(topic)
    cluster.commit_offsets(group, {TopicPartition(topic, 0): OffsetAndMetadata(0)})

    assert group in {g.group_id for g in cluster.list_groups()}
    description = cluster.describe_group(group)
    assert description.group_id == group
    assert description.state == GroupState.EMPTY
    assert description.members == ()

    cluster.delete_group(group)
    assert group not in {g.group_id for g in cluster.list_groups()}
    assert cluster.committed_offsets(group) == {}
    with pytest.raises(GroupIdNotFoundError):
        cluster.delete_group(group)


def test_unknown_group_is_dead(cluster: Cluster, names: Names) -> None:
    description = cluster.describe_group(names.group("unknown"))
    assert (description.state, description.members) == (GroupState.DEAD, ())
    assert names.group("unknown") not in {g.group_id for g in cluster.list_groups()}


def test_two_members_rebalance_and_one_leaves(cluster: Cluster, names: Names) -> None:
    topic, group = names.topic(), names.group()
    cluster.create_topic(topic, partitions=4)
    everything = {TopicPartition(topic, p) for p in range(4)}
    first = cluster.consumer(group, auto_offset_reset="earliest", client_id="first", **FAST_GROUP)
    second = cluster.consumer(group, auto_offset_reset="earliest", client_id="second", **FAST_GROUP)
    try:
        first.subscribe([topic])
        poll_until([first], lambda: set(first.assignment()) == everything)

        second.subscribe([topic])

        def split() -> bool:
            a, b = set(first.assignment()), set(second.assignment())
            return bool(a) and bool(b) and not a & b and a | b == everything

        poll_until([first, second], split)
        # Range assignment: members in id order take consecutive halves.
        assert sorted(len(c.assignment()) for c in (first, second)) == [2, 2]
        with pytest.raises(GroupNotEmptyError):
            cluster.delete_group(group)

        second.close()
        poll_until([first], lambda: set(first.assignment()) == everything)
    finally:
        first.close()
        second.close()


def test_describe_shows_live_members_and_their_assignment(
    cluster: Cluster, names: Names, broker_lacks: Callable[[str], None]
) -> None:
    broker_lacks("DescribeGroups answers without members and with a member id as the protocol")
    topic, group = names.topic(), names.group()
    cluster.create_topic(topic, partitions=3)
    consumer = cluster.consumer(group, client_id="describer", assignor="roundrobin", **FAST_GROUP)
    try:
        consumer.subscribe([topic])
        poll_until([consumer], lambda: len(consumer.assignment()) == 3)
        description = cluster.describe_group(group)
        assert description.state == GroupState.STABLE
        assert description.protocol == "roundrobin"
        [member] = description.members
        assert member.client_id == "describer"
        assert set(member.assignment) == {TopicPartition(topic, p) for p in range(3)}
    finally:
        consumer.close()


def test_group_members_commit_and_a_new_member_resumes(cluster: Cluster, names: Names) -> None:
    topic, group = names.topic(), names.group()
    cluster.create_topic(topic)
    cluster.produce(topic, [Record(b"%d" % i) for i in range(5)])
    consumer = cluster.consumer(group, auto_offset_reset="earliest", **FAST_GROUP)
    seen: list[bytes | None] = []
    try:
        consumer.subscribe([topic])

        deadline = time.monotonic() + 30
        while len(seen) < 3 and time.monotonic() < deadline:
            batch = consumer.poll(timeout=0.2, max_records=3 - len(seen))
            seen.extend(r.value for r in batch)
            if batch:
                consumer.commit({TopicPartition(topic, 0): OffsetAndMetadata(batch[-1].offset + 1)})
        assert seen == [b"0", b"1", b"2"]
    finally:
        consumer.close()

    resumed = cluster.consumer(group, auto_offset_reset="earliest", **FAST_GROUP)
    rest: list[bytes | None] = []
    try:
        resumed.subscribe([topic])
        deadline = time.monotonic() + 30
        while len(rest) < 2 and time.monotonic() < deadline:
            rest.extend(r.value for r in resumed.poll(timeout=0.2))
        assert rest == [b"3", b"4"]
        resumed.commit()
        # A member may seek within its assignment, like any consumer.
        resumed.seek(TopicPartition(topic, 0), 1)
        assert resumed.position(TopicPartition(topic, 0)) == 1
        again: list[bytes | None] = []
        deadline = time.monotonic() + 30
        while len(again) < 4 and time.monotonic() < deadline:
            again.extend(r.value for r in resumed.poll(timeout=0.2))
        assert again == [b"1", b"2", b"3", b"4"]
    finally:
        resumed.close()
    assert cluster.committed_offsets(group)[TopicPartition(topic, 0)].offset > 4


def test_assigned_consumer_seek_and_position(cluster: Cluster, names: Names) -> None:
    topic = names.topic()
    cluster.create_topic(topic, partitions=2)
    metadata = cluster.produce(topic, [Record(b"%d" % i, partition=1) for i in range(4)])
    tp = TopicPartition(topic, 1)
    consumer = cluster.consumer(auto_offset_reset="earliest")
    try:
        consumer.assign([tp])
        assert consumer.assignment() == [tp]
        assert consumer.position(tp) == 0

        values: list[bytes | None] = []
        deadline = time.monotonic() + 20
        while len(values) < 4 and time.monotonic() < deadline:
            values.extend(r.value for r in consumer.poll(timeout=0.2))
        assert values == [b"0", b"1", b"2", b"3"]
        assert consumer.position(tp) > metadata[-1].offset

        consumer.seek(tp, metadata[2].offset)
        again: list[bytes | None] = []
        deadline = time.monotonic() + 20
        while len(again) < 2 and time.monotonic() < deadline:
            again.extend(r.value for r in consumer.poll(timeout=0.2))
        assert again == [b"2", b"3"]
    finally:
        consumer.close()


@pytest.mark.slow
def test_a_member_that_dies_is_expired_and_its_partitions_reassigned(
    cluster: Cluster, names: Names, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    topic, group = names.topic(), names.group()
    cluster.create_topic(topic, partitions=4)
    where = (
        str(tmp_path / "cluster")
        if backend == "embedded"
        else str(
            request.getfixturevalue(
                "listener_bootstrap" if backend == "listener" else "kafka_bootstrap"
            )
        )
    )
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.contract.member_process", backend, where, group, topic],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    survivor = cluster.consumer(group, client_id="survivor", **FAST_GROUP)
    everything = {TopicPartition(topic, p) for p in range(4)}
    try:
        assert child.stdout is not None
        first = child.stdout.readline().strip()  # the child owns partitions
        assert first, "the member process ended before it was assigned partitions"
        survivor.subscribe([topic])

        def shared() -> bool:
            mine = set(survivor.assignment())
            return bool(mine) and mine != everything

        poll_until([survivor], shared, timeout=40)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        # No LeaveGroup was sent: the group notices only when the session times out.
        poll_until([survivor], lambda: set(survivor.assignment()) == everything, timeout=40)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        survivor.close()
