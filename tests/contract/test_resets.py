"""Offset resets (`engine.resets`) planned and applied on both backends."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine.cluster import Cluster
from engine.errors import GroupNotEmptyError
from engine.resets import ResetTarget, apply_reset, plan_reset
from engine.types import OffsetAndMetadata, OffsetSpec, Record, TopicPartition
from tests.contract.conftest import Names
from tests.contract.test_groups import FAST_GROUP, poll_until


def _setup(cluster: Cluster, names: Names) -> tuple[str, str, list[int]]:
    """A 2-partition topic with 4 records on partition 0, and a group committed at the 2nd."""
    topic, group = names.topic(), names.group()
    cluster.create_topic(topic, partitions=2)
    metadata = cluster.produce(
        topic, [Record(b"v", partition=0, timestamp_ms=ts) for ts in (1_000, 2_000, 3_000, 4_000)]
    )
    offsets = [m.offset for m in metadata]
    cluster.commit_offsets(group, {TopicPartition(topic, 0): OffsetAndMetadata(offsets[1])})
    return topic, group, offsets


def test_plans_for_every_target(cluster: Cluster, names: Names) -> None:
    topic, group, offsets = _setup(cluster, names)
    latest = cluster.list_offsets(topic, OffsetSpec.LATEST)[0]

    def plan(target: ResetTarget) -> list[tuple[int, int | None, int]]:
        rows = plan_reset(cluster, group, [topic], target)
        return [(r.partition, r.current, r.new) for r in rows]

    assert plan(ResetTarget.earliest()) == [(0, offsets[1], 0), (1, None, 0)]
    assert plan(ResetTarget.latest()) == [(0, offsets[1], latest), (1, None, 0)]
    assert plan(ResetTarget.offset(offsets[3])) == [(0, offsets[1], offsets[3]), (1, None, 0)]
    assert plan(ResetTarget.offset(10_000)) == [(0, offsets[1], latest), (1, None, 0)]
    assert plan(ResetTarget.shift_by(-1)) == [(0, offsets[1], offsets[0]), (1, None, 0)]
    assert plan(ResetTarget.shift_by(-100)) == [(0, offsets[1], 0), (1, None, 0)]
    # Only the named partitions, in kafka-consumer-groups' TOPIC:P syntax.
    only = plan_reset(cluster, group, [f"{topic}:0"], ResetTarget.earliest())
    assert [(r.topic, r.partition) for r in only] == [(topic, 0)]
    # Without topics: every partition the group has a committed offset for.
    assert [r.partition for r in plan_reset(cluster, group, None, ResetTarget.earliest())] == [0]
    # Planning changes nothing.
    assert cluster.committed_offsets(group)[TopicPartition(topic, 0)].offset == offsets[1]


def test_plan_to_datetime(
    cluster: Cluster, names: Names, broker_lacks: Callable[[str], None]
) -> None:
    broker_lacks("ListOffsets for a timestamp answers the earliest offset, whatever the timestamp")
    topic, group, offsets = _setup(cluster, names)
    [row, _] = plan_reset(cluster, group, [topic], ResetTarget.datetime_ms(2_500))
    assert row.new == offsets[2]


def test_apply_commits_the_plan(cluster: Cluster, names: Names) -> None:
    topic, group, _offsets = _setup(cluster, names)
    plan = plan_reset(cluster, group, [topic], ResetTarget.earliest())
    apply_reset(cluster, group, plan)
    committed = cluster.committed_offsets(group)
    assert {tp.partition: om.offset for tp, om in committed.items()} == {0: 0, 1: 0}


def test_apply_is_refused_while_the_group_has_members(cluster: Cluster, names: Names) -> None:
    topic, group, offsets = _setup(cluster, names)
    consumer = cluster.consumer(group, **FAST_GROUP)
    try:
        consumer.subscribe([topic])
        poll_until([consumer], lambda: len(consumer.assignment()) == 2)
        plan = plan_reset(cluster, group, [topic], ResetTarget.earliest())
        with pytest.raises(GroupNotEmptyError, match="stop its consumers"):
            apply_reset(cluster, group, plan)
    finally:
        consumer.close()
    assert cluster.committed_offsets(group)[TopicPartition(topic, 0)].offset == offsets[1]
