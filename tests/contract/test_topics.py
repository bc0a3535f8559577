"""Topic lifecycle and validation, identical on both backends."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from engine.cluster import Cluster
from engine.errors import (
    InvalidConfigError,
    InvalidPartitionsError,
    InvalidTopicError,
    TopicAlreadyExistsError,
    UnknownTopicOrPartitionError,
)
from engine.topics import DEFAULT_CONFIG
from engine.types import OffsetSpec, Record
from tests.contract.conftest import Names


def test_create_list_describe_delete(cluster: Cluster, names: Names) -> None:
    topic = names.topic()
    cluster.create_topic(topic, partitions=3, config={"retention.ms": "3600000"})

    assert topic in cluster.list_topics()
    description = cluster.describe_topic(topic)
    assert description.name == topic
    assert [p.partition for p in description.partitions] == [0, 1, 2]
    assert all(p.earliest_offset == p.latest_offset == 0 for p in description.partitions)
    assert description.config["retention.ms"] == "3600000"
    assert description.config["cleanup.policy"] == DEFAULT_CONFIG["cleanup.policy"]
    assert not description.internal

    cluster.delete_topic(topic)
    assert topic not in cluster.list_topics()
    with pytest.raises(UnknownTopicOrPartitionError):
        cluster.describe_topic(topic)


def test_create_twice_is_refused(cluster: Cluster, names: Names) -> None:
    topic = names.topic()
    cluster.create_topic(topic)
    with pytest.raises(TopicAlreadyExistsError):
        cluster.create_topic(topic, partitions=2)
    assert len(cluster.describe_topic(topic).partitions) == 1


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("", "empty"),
        (".", '"." or ".."'),
        ("..", '"." or ".."'),
        ("has space", "character"),
        ("slash/name", "character"),
        ("x" * 250, "longer than 249"),
    ],
)
def test_illegal_names_are_refused_naming_the_rule(cluster: Cluster, name: str, rule: str) -> None:
    with pytest.raises(InvalidTopicError, match=re.escape(rule)):
        cluster.create_topic(name)
    assert name not in cluster.list_topics(include_internal=True)


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"retention.ms": "soon"}, "retention.ms"),
        ({"cleanup.policy": "shred"}, "cleanup.policy"),
        ({"no.such.key": "1"}, "no.such.key"),
    ],
)
def test_invalid_config_is_refused_naming_the_key(
    cluster: Cluster, names: Names, config: dict[str, str], key: str
) -> None:
    topic = names.topic()
    with pytest.raises(InvalidConfigError, match=re.escape(key)):
        cluster.create_topic(topic, config=config)
    assert topic not in cluster.list_topics()


@pytest.mark.parametrize("partitions", [0, -1])
def test_partition_count_must_be_positive(cluster: Cluster, names: Names, partitions: int) -> None:
    with pytest.raises(InvalidPartitionsError):
        cluster.create_topic(names.topic(), partitions=partitions)


def test_unknown_topic_errors(cluster: Cluster, names: Names) -> None:
    missing = names.topic("missing")
    with pytest.raises(UnknownTopicOrPartitionError):
        cluster.delete_topic(missing)
    with pytest.raises(UnknownTopicOrPartitionError):
        cluster.fetch(missing, 0, 0)


def test_internal_topics_are_listed_only_on_request(cluster: Cluster, names: Names) -> None:
    internal = "_" + names.topic("internal")
    cluster.create_topic(internal)
    assert internal not in cluster.list_topics()
    assert internal in cluster.list_topics(include_internal=True)
    assert cluster.describe_topic(internal).internal


def test_alter_config_sets_and_resets(cluster: Cluster, names: Names) -> None:
    topic = names.topic()
    cluster.create_topic(topic, config={"retention.ms": "1000"})
    cluster.alter_topic_config(topic, {"retention.ms": "5000", "cleanup.policy": "compact"})
    config = cluster.describe_topic(topic).config
    assert (config["retention.ms"], config["cleanup.policy"]) == ("5000", "compact")

    cluster.alter_topic_config(topic, {"retention.ms": None})
    assert cluster.describe_topic(topic).config["retention.ms"] == DEFAULT_CONFIG["retention.ms"]

    with pytest.raises(InvalidConfigError, match=r"retention\.ms"):
        cluster.alter_topic_config(topic, {"retention.ms": "-5"})
    assert cluster.describe_topic(topic).config["retention.ms"] == DEFAULT_CONFIG["retention.ms"]


def test_add_partitions_grows_the_topic(
    cluster: Cluster, names: Names, broker_lacks: Callable[[str], None]
) -> None:
    broker_lacks("the broker does not implement the CreatePartitions API")
    topic = names.topic()
    cluster.create_topic(topic, partitions=2)
    cluster.produce(topic, [Record(b"a", partition=1), Record(b"b", partition=0)])
    cluster.add_partitions(topic, 5)
    assert [p.partition for p in cluster.describe_topic(topic).partitions] == [0, 1, 2, 3, 4]
    # the new partitions take records at once (a producer's cached metadata is refreshed)
    cluster.produce(topic, [Record(b"c", partition=4), Record(b"d", partition=3)])
    assert [r.value for r in cluster.fetch(topic, 4, 0)] == [b"c"]


@pytest.mark.parametrize("total", [1, 2])
def test_add_partitions_never_shrinks(cluster: Cluster, names: Names, total: int) -> None:
    topic = names.topic()
    cluster.create_topic(topic, partitions=2)
    with pytest.raises(InvalidPartitionsError):
        cluster.add_partitions(topic, total)
    assert len(cluster.describe_topic(topic).partitions) == 2


def test_partition_size_grows_with_produce(cluster: Cluster, names: Names, backend: str) -> None:
    """Embedded reports the bytes each partition holds; Kafka reports None (the installed
    confluent-kafka AdminClient has no DescribeLogDirs), as docs/engine.md says."""
    topic = names.topic()
    cluster.create_topic(topic, partitions=2)
    before = cluster.describe_topic(topic).partitions
    cluster.produce(topic, [Record(b"v" * 100, key=b"k", partition=1) for _ in range(3)])
    after = cluster.describe_topic(topic).partitions
    if backend != "embedded":
        assert all(p.size_bytes is None for p in before + after)
        return
    assert [p.size_bytes for p in before] == [0, 0]
    assert after[0].size_bytes == 0
    assert after[1].size_bytes is not None and after[1].size_bytes >= 3 * 101


def test_a_missing_topic_is_named_alike_on_both_backends(cluster: Cluster, names: Names) -> None:
    topic = names.topic()
    for call in (
        lambda: cluster.describe_topic(topic),
        lambda: cluster.produce(topic, [Record(b"v")]),
        lambda: cluster.list_offsets(topic, OffsetSpec.LATEST),
    ):
        with pytest.raises(UnknownTopicOrPartitionError, match=f"topic '{topic}' does not exist"):
            call()


def test_topic_settings_answer_counts_and_configs_in_one_call(
    cluster: Cluster, names: Names
) -> None:
    small, large, missing = names.topic("small"), names.topic("large"), names.topic("missing")
    cluster.create_topic(small, 1)
    cluster.create_topic(large, 3, {"retention.ms": "3600000", "cleanup.policy": "compact"})
    settings = cluster.topic_settings([small, large, missing])
    assert sorted(settings) == sorted([small, large])
    assert settings[large].partitions == 3 and settings[small].partitions == 1
    assert settings[large].config["retention.ms"] == "3600000"
    assert settings[large].config["cleanup.policy"] == "compact"
    # the effective config, as describe_topic gives it
    assert (
        settings[small].config["retention.ms"]
        == cluster.describe_topic(small).config["retention.ms"]
    )
    assert cluster.topic_settings([]) == {}
