"""Flows with Kafka on either side: embedded -> Kafka (tansu), Kafka (tansu) -> embedded, and
Kafka (tansu) -> Kafka (streamgov's own listener serving an embedded cluster: a second
broker, with transactions); config changes and partition increases following into a Kafka
target."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.cluster import Cluster
from engine.embedded import EmbeddedCluster
from engine.kafka import KafkaCluster
from engine.topics import DEFAULT_CONFIG
from engine.types import OffsetAndMetadata, Record, TopicPartition
from replicator.flow import Flow
from replicator.worker import Replicator
from tests.brokers import listener_broker

pytestmark = pytest.mark.kafka

PARTITIONS = 2


@pytest.fixture(scope="module")
def listener_bootstrap() -> Iterator[str]:
    with listener_broker() as bootstrap:
        yield bootstrap


def rows(cluster: Cluster, topic: str) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for p in range(PARTITIONS):
        offset = 0
        while batch := cluster.fetch(topic, p, offset, max_records=1000):
            for r in batch:
                headers = tuple(h for h in r.headers if h[0] != "streamgov.replication")
                out.append((p, r.key, r.value, headers, r.timestamp_ms))
            offset = batch[-1].offset + 1
    return out


def fill(cluster: Cluster, topic: str, start: int, count: int) -> None:
    cluster.produce(
        topic,
        [
            Record(
                f"v{i}".encode(),
                f"k{i}".encode(),
                headers=(("n", str(i).encode()),),
                timestamp_ms=1_700_000_000_000 + i,
                partition=i % PARTITIONS,
            )
            for i in range(start, start + count)
        ],
    )


def exercise(source: Cluster, target: Cluster, source_alias: str, target_alias: str) -> None:
    topic = f"rep-{uuid.uuid4().hex[:8]}"
    group = f"g-{topic}"
    source.create_topic(topic, PARTITIONS)
    fill(source, topic, 0, 60)
    source.commit_offsets(group, {TopicPartition(topic, 0): OffsetAndMetadata(30)})
    flow = Flow(source_alias, target_alias, topics=topic, groups=group)
    Replicator(flow, source, target).run_once()
    remote = f"{source_alias}.{topic}"
    assert rows(target, remote) == rows(source, topic)
    # a second worker picks up where the first stopped: no record twice, none lost
    fill(source, topic, 60, 40)
    Replicator(flow, source, target).run_once()
    assert rows(target, remote) == rows(source, topic)
    committed = target.committed_offsets(group)
    offset = committed[TopicPartition(remote, 0)].offset
    # the source record at offset 30 of partition 0 sits at or after `offset` on the target
    landed = [
        r.offset for r in target.fetch(remote, 0, 0, max_records=1000) if (r.key or b"") == b"k60"
    ]
    assert 0 < offset <= landed[0]


@pytest.mark.parametrize(
    ("source_kind", "target_kind"),
    [("embedded", "tansu"), ("tansu", "embedded"), ("tansu", "listener")],
)
def test_pair(
    request: pytest.FixtureRequest, tmp_path: Path, source_kind: str, target_kind: str
) -> None:
    def open_kind(kind: str) -> Cluster:
        if kind == "embedded":
            return EmbeddedCluster(tmp_path / "e", name="emb")
        fixture = "kafka_bootstrap" if kind == "tansu" else "listener_bootstrap"
        return KafkaCluster(request.getfixturevalue(fixture))

    source, target = open_kind(source_kind), open_kind(target_kind)
    try:
        exercise(source, target, source_kind[:3], target_kind[:3])
    finally:
        source.close()
        target.close()


def on_suite_tansu() -> bool:
    """Whether `kafka_bootstrap` is the suite's own tansu (not a KAFKA_BOOTSTRAP cluster)."""
    return not os.environ.get("KAFKA_BOOTSTRAP")


def kafka_target(request: pytest.FixtureRequest, kind: str) -> KafkaCluster:
    return KafkaCluster(
        request.getfixturevalue("kafka_bootstrap" if kind == "tansu" else "listener_bootstrap")
    )


@pytest.mark.parametrize("target_kind", ["tansu", "listener"])
def test_config_changes_follow_into_a_kafka_target(
    request: pytest.FixtureRequest, tmp_path: Path, target_kind: str
) -> None:
    source = EmbeddedCluster(tmp_path / "e", name="emb")
    target = kafka_target(request, target_kind)
    try:
        topic = f"cfg-{uuid.uuid4().hex[:8]}"
        remote = f"emb.{topic}"
        source.create_topic(topic, PARTITIONS, {"retention.ms": "3600000"})
        fill(source, topic, 0, 20)
        replicator = Replicator(Flow("emb", "kafka", topics=topic), source, target)
        replicator.run_once()
        assert target.describe_topic(remote).config["retention.ms"] == "3600000"
        source.alter_topic_config(topic, {"retention.ms": "7200000", "cleanup.policy": "compact"})
        fill(source, topic, 20, 10)
        replicator.run_once()
        config = target.describe_topic(remote).config
        assert (config["retention.ms"], config["cleanup.policy"]) == ("7200000", "compact")
        # an override the source drops is reset on the target too
        source.alter_topic_config(topic, {"retention.ms": None})
        replicator.run_once()
        assert (
            target.describe_topic(remote).config["retention.ms"] == (DEFAULT_CONFIG["retention.ms"])
        )
        assert rows(target, remote) == rows(source, topic)
        assert replicator.metrics.errors == 0, replicator.metrics.last_error
    finally:
        source.close()
        target.close()


@pytest.mark.parametrize("target_kind", ["tansu", "listener"])
def test_a_partition_increase_follows_into_a_kafka_target(
    request: pytest.FixtureRequest, tmp_path: Path, target_kind: str
) -> None:
    if target_kind == "tansu" and on_suite_tansu():
        request.applymarker(
            pytest.mark.xfail(
                reason="tansu 0.6: the broker does not implement the CreatePartitions API",
                strict=True,
            )
        )
    source = EmbeddedCluster(tmp_path / "e", name="emb")
    target = kafka_target(request, target_kind)
    try:
        topic = f"grow-{uuid.uuid4().hex[:8]}"
        remote = f"emb.{topic}"
        source.create_topic(topic, PARTITIONS)
        fill(source, topic, 0, 20)
        replicator = Replicator(Flow("emb", "kafka", topics=topic), source, target)
        replicator.run_once()
        source.add_partitions(topic, 4)
        source.produce(topic, [Record(f"new{p}".encode(), b"k", partition=p) for p in range(4)])
        replicator.run_once()
        assert replicator.metrics.errors == 0, replicator.metrics.last_error
        assert len(target.describe_topic(remote).partitions) == 4
        for p in range(4):
            assert [(r.key, r.value) for r in target.fetch(remote, p, 0, 1000)] == [
                (r.key, r.value) for r in source.fetch(topic, p, 0, 1000)
            ]
    finally:
        source.close()
        target.close()


@pytest.mark.skipif(not on_suite_tansu(), reason="needs a broker without CreatePartitions")
def test_a_target_that_cannot_grow_keeps_following_the_rest(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """tansu refuses CreatePartitions: the error is counted and names the API, and the
    partitions the target has, the config, and the other topics keep following."""
    source = EmbeddedCluster(tmp_path / "e", name="emb")
    target = KafkaCluster(kafka_bootstrap)
    try:
        grow, other = f"grow-{uuid.uuid4().hex[:8]}", f"other-{uuid.uuid4().hex[:8]}"
        flow = Flow("emb", "kafka", topics=f"{grow}|{other}")
        source.create_topic(grow, PARTITIONS)
        replicator = Replicator(flow, source, target)
        replicator.run_once()
        source.add_partitions(grow, 4)
        source.alter_topic_config(grow, {"retention.ms": "7200000"})
        source.produce(grow, [Record(f"v{p}".encode(), b"k", partition=p) for p in range(4)])
        source.create_topic(other, 1)
        source.produce(other, [Record(b"o", b"k")])
        replicator.run_once()
        assert replicator.metrics.errors >= 1
        assert "CreatePartitions" in replicator.metrics.last_error
        described = target.describe_topic(f"emb.{grow}")
        assert len(described.partitions) == PARTITIONS
        assert described.config["retention.ms"] == "7200000"
        for p in range(PARTITIONS):
            assert [r.value for r in target.fetch(f"emb.{grow}", p, 0, 10)] == [f"v{p}".encode()]
        assert [r.value for r in target.fetch(f"emb.{other}", 0, 0, 10)] == [b"o"]
    finally:
        source.close()
        target.close()
