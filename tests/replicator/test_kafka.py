"""Flows with Kafka on either side: embedded -> Kafka (tansu), Kafka (tansu) -> embedded, and
Kafka (tansu) -> Kafka (streamgov's own listener serving an embedded cluster: a second
broker, with transactions)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.cluster import Cluster
from engine.embedded import EmbeddedCluster
from engine.kafka import KafkaCluster
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
