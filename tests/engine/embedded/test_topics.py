"""Topic administration on the embedded engine."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine.embedded import EmbeddedCluster
from engine.errors import (
    InvalidConfigError,
    InvalidPartitionsError,
    InvalidTopicError,
    TopicAlreadyExistsError,
    UnknownTopicOrPartitionError,
)
from engine.types import OffsetSpec, Record


def test_create_list_describe(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("orders", 3, {"retention.ms": "1000"})
    cluster.create_topic("_schemas")
    assert cluster.list_topics() == ["orders"]
    assert cluster.list_topics(include_internal=True) == ["_schemas", "orders"]
    description = cluster.describe_topic("orders")
    assert [p.partition for p in description.partitions] == [0, 1, 2]
    assert all(p.earliest_offset == p.latest_offset == 0 for p in description.partitions)
    assert description.config["retention.ms"] == "1000"
    assert description.config["cleanup.policy"] == "delete"
    assert not description.internal
    assert cluster.describe_topic("_schemas").internal


def test_create_refuses_bad_input(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("a.b")
    with pytest.raises(TopicAlreadyExistsError, match=r"'a\.b' already exists"):
        cluster.create_topic("a.b")
    with pytest.raises(InvalidTopicError, match=r"collides with existing topic 'a\.b'"):
        cluster.create_topic("a_b")
    with pytest.raises(InvalidTopicError, match="character other than"):
        cluster.create_topic("bad name")
    with pytest.raises(InvalidTopicError, match="reserved"):
        cluster.create_topic("__consumer_offsets")
    with pytest.raises(InvalidPartitionsError):
        cluster.create_topic("zero", 0)
    with pytest.raises(InvalidConfigError, match=r"cleanup\.policy"):
        cluster.create_topic("cfg", 1, {"cleanup.policy": "sometimes"})
    assert cluster.list_topics() == ["a.b"]


def test_delete_and_recreate_starts_empty(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 2)
    cluster.produce("t", [Record(b"v", b"k")] * 5)
    cluster.delete_topic("t")
    assert cluster.list_topics() == []
    with pytest.raises(UnknownTopicOrPartitionError):
        cluster.describe_topic("t")
    with pytest.raises(UnknownTopicOrPartitionError):
        cluster.delete_topic("t")
    cluster.create_topic("t", 1)
    assert cluster.list_offsets("t", OffsetSpec.LATEST) == {0: 0}
    assert list((cluster.path / "topics").glob("*.db")).__len__() == 1


def test_add_partitions_only_grows(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 2)
    cluster.add_partitions("t", 4)
    assert len(cluster.describe_topic("t").partitions) == 4
    cluster.produce("t", [Record(b"v", partition=3)])
    with pytest.raises(InvalidPartitionsError, match="already has 4"):
        cluster.add_partitions("t", 4)
    with pytest.raises(InvalidPartitionsError, match="higher than the requested 3"):
        cluster.add_partitions("t", 3)
    with pytest.raises(UnknownTopicOrPartitionError):
        cluster.add_partitions("nope", 3)


def test_alter_config_sets_and_resets(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 1, {"retention.ms": "5000"})
    cluster.alter_topic_config("t", {"retention.ms": None, "cleanup.policy": "compact"})
    config = cluster.describe_topic("t").config
    assert config["retention.ms"] == "604800000"
    assert config["cleanup.policy"] == "compact"
    with pytest.raises(InvalidConfigError, match=r"max.message.bytes.*\[0, "):
        cluster.alter_topic_config("t", {"max.message.bytes": "-1"})
    with pytest.raises(UnknownTopicOrPartitionError):
        cluster.alter_topic_config("nope", {"retention.ms": "1"})


def test_metadata_changes_are_seen_by_other_instances(
    make_cluster: Callable[..., EmbeddedCluster],
) -> None:
    first = make_cluster("shared")
    second = make_cluster("shared")
    first.create_topic("t", 1)
    assert second.list_topics() == ["t"]
    second.alter_topic_config("t", {"max.message.bytes": "10"})
    assert first.describe_topic("t").config["max.message.bytes"] == "10"
    second.delete_topic("t")
    with pytest.raises(UnknownTopicOrPartitionError):
        first.produce("t", [Record(b"v")])


def test_named_clusters_are_separate(make_cluster: Callable[..., EmbeddedCluster]) -> None:
    east, west = make_cluster("east"), make_cluster("west")
    east.create_topic("t")
    assert west.list_topics() == []
    assert east.name == "east" and east.path.name == "east"
