"""confluent-kafka's AdminClient against the listener: topics, partitions, configs, records
and the cluster description, with the engine's validation and messages."""

from __future__ import annotations

import confluent_kafka
import pytest
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewPartitions,
    NewTopic,
    ResourceType,
)

from engine.types import Record
from tests.engine.listener.conftest import Served, unique

pytestmark = pytest.mark.kafka


@pytest.fixture(scope="module")
def admin(served: Served) -> AdminClient:
    return AdminClient({"bootstrap.servers": served.bootstrap})


def test_topics_are_created_grown_and_deleted(served: Served, admin: AdminClient) -> None:
    name = unique("admin")
    admin.create_topics([NewTopic(name, 2, 1, config={"retention.ms": "1000"})])[name].result(10)
    assert served.cluster.describe_topic(name).config["retention.ms"] == "1000"
    with pytest.raises(confluent_kafka.KafkaException) as exists:
        admin.create_topics([NewTopic(name, 2, 1)])[name].result(10)
    assert exists.value.args[0].code() == confluent_kafka.KafkaError.TOPIC_ALREADY_EXISTS
    with pytest.raises(confluent_kafka.KafkaException) as replicated:
        rf = unique("rf")
        admin.create_topics([NewTopic(rf, 1, 3)])[rf].result(10)
    assert replicated.value.args[0].code() == confluent_kafka.KafkaError.INVALID_REPLICATION_FACTOR
    admin.create_partitions([NewPartitions(name, 5)])[name].result(10)
    assert len(served.cluster.describe_topic(name).partitions) == 5
    with pytest.raises(confluent_kafka.KafkaException) as shrink:
        admin.create_partitions([NewPartitions(name, 3)])[name].result(10)
    assert shrink.value.args[0].code() == confluent_kafka.KafkaError.INVALID_PARTITIONS
    metadata = admin.list_topics(timeout=10)
    assert len(metadata.topics[name].partitions) == 5
    assert metadata.controller_id == metadata.orig_broker_id
    admin.delete_topics([name])[name].result(10)
    assert name not in served.cluster.list_topics()


def test_configs_are_described_and_altered(served: Served, admin: AdminClient) -> None:
    name = unique("configs")
    served.cluster.create_topic(name, config={"cleanup.policy": "compact"})
    resource = ConfigResource(ResourceType.TOPIC, name)
    described = admin.describe_configs([resource])[resource].result(10)
    assert described["cleanup.policy"].value == "compact"
    assert not described["cleanup.policy"].is_default
    assert described["retention.ms"].is_default
    change = ConfigResource(
        ResourceType.TOPIC,
        name,
        incremental_configs=[
            ConfigEntry("retention.ms", "5000", incremental_operation=AlterConfigOpType.SET),
            ConfigEntry("cleanup.policy", "delete", incremental_operation=AlterConfigOpType.APPEND),
        ],
    )
    admin.incremental_alter_configs([change])[change].result(10)
    config = served.cluster.describe_topic(name).config
    assert (config["retention.ms"], config["cleanup.policy"]) == ("5000", "compact,delete")
    bad = ConfigResource(
        ResourceType.TOPIC,
        name,
        incremental_configs=[
            ConfigEntry("retention.ms", "soon", incremental_operation=AlterConfigOpType.SET)
        ],
    )
    with pytest.raises(confluent_kafka.KafkaException) as refused:
        admin.incremental_alter_configs([bad])[bad].result(10)
    assert refused.value.args[0].code() == confluent_kafka.KafkaError.INVALID_CONFIG
    assert served.cluster.describe_topic(name).config["retention.ms"] == "5000"


def test_delete_records_moves_the_log_start(served: Served, admin: AdminClient) -> None:
    name = unique("delete-records")
    served.cluster.create_topic(name)
    served.cluster.produce(name, [Record(b"%d" % i) for i in range(10)])
    result = admin.delete_records([confluent_kafka.TopicPartition(name, 0, 4)])
    [future] = result.values()
    future.result(10)
    assert [r.value for r in served.cluster.fetch(name, 0, 4)][:1] == [b"4"]
    partition = served.cluster.describe_topic(name).partitions[0]
    assert (partition.earliest_offset, partition.latest_offset) == (4, 10)


def test_describe_cluster_names_this_node_as_controller(admin: AdminClient) -> None:
    described = admin.describe_cluster().result(10)
    assert len(described.nodes) == 1
    assert described.controller.id == described.nodes[0].id


def test_internal_topics_are_not_changed_through_the_kafka_api(
    served: Served, admin: AdminClient
) -> None:
    """A state log such as `_schemas` cannot be deleted, truncated, grown or reconfigured by
    a Kafka client: POLICY_VIOLATION naming what the topic holds."""
    name = "_" + unique("state")
    served.cluster.create_topic(name)
    served.cluster.produce(name, [Record(b"%d" % i) for i in range(3)])
    refusals = [
        lambda: admin.delete_topics([name])[name].result(10),
        lambda: admin.create_partitions([NewPartitions(name, 2)])[name].result(10),
        lambda: [
            f.result(10)
            for f in admin.delete_records([confluent_kafka.TopicPartition(name, 0, 2)]).values()
        ],
        lambda: [
            f.result(10)
            for f in admin.incremental_alter_configs(
                [
                    ConfigResource(
                        ResourceType.TOPIC,
                        name,
                        incremental_configs=[
                            ConfigEntry(
                                "retention.ms", "1", incremental_operation=AlterConfigOpType.SET
                            )
                        ],
                    )
                ]
            ).values()
        ],
    ]
    for attempt in refusals:
        with pytest.raises(confluent_kafka.KafkaException) as refused:
            attempt()
        assert refused.value.args[0].code() == confluent_kafka.KafkaError.POLICY_VIOLATION
    description = served.cluster.describe_topic(name)
    assert name in served.cluster.list_topics(include_internal=True)
    assert (len(description.partitions), description.partitions[0].earliest_offset) == (1, 0)
    assert description.config["retention.ms"] != "1"
