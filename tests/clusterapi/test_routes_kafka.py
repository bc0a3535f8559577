"""The `/v3` cluster admin API over `KafkaCluster` on the suite's real Kafka-protocol broker."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from clusterapi import mount
from engine.kafka import KafkaCluster
from engine.types import OffsetAndMetadata, TopicPartition
from httpapi import ServerSettings

pytestmark = pytest.mark.kafka


@pytest.fixture()
def kafka(kafka_bootstrap: str) -> Iterator[KafkaCluster]:
    cluster = KafkaCluster(kafka_bootstrap)
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture()
def client(kafka: KafkaCluster) -> Iterator[TestClient]:
    app = FastAPI()
    mount(app, kafka, ServerSettings())
    with TestClient(app) as test_client:
        yield test_client


def test_topic_produce_browse_and_lag_on_kafka(kafka: KafkaCluster, client: TestClient) -> None:
    [cluster] = client.get("/v3/clusters").json()["data"]
    base = f"/v3/clusters/{quote(cluster['cluster_id'], safe='')}"
    topic = f"api-{uuid.uuid4().hex[:8]}"
    group = f"g-{uuid.uuid4().hex[:8]}"

    created = client.post(f"{base}/topics", json={"topic_name": topic, "partitions_count": 2})
    assert created.status_code == 201, created.text
    assert created.json()["partitions_count"] == 2
    for i in range(3):
        produced = client.post(
            f"{base}/topics/{topic}/records",
            json={"partition_id": 1, "value": {"type": "STRING", "data": f"v{i}"}},
        )
        assert produced.status_code == 200, produced.text
        assert produced.json()["offset"] == i

    partitions = client.get(f"{base}/topics/{topic}/partitions").json()["data"]
    assert [p["latest_offset"] for p in partitions] == [0, 3]
    page = client.get(f"{base}/topics/{topic}/partitions/1/records", params={"limit": 2}).json()
    assert [base64.b64decode(r["value"]["data"]) for r in page["data"]] == [b"v0", b"v1"]
    assert page["next_offset"] == 2

    kafka.commit_offsets(group, {TopicPartition(topic, 1): OffsetAndMetadata(1)})
    lags = client.get(f"{base}/consumer-groups/{group}/lags").json()["data"]
    assert [(lag["partition_id"], lag["lag"]) for lag in lags] == [(1, 2)]
    summary = client.get(f"{base}/consumer-groups/{group}/lag-summary").json()
    assert summary["total_lag"] == 2

    reset = client.post(
        f"{base}/consumer-groups/{group}/offsets:reset",
        json={"position": "EARLIEST", "topic_name": topic},
    )
    assert reset.status_code == 200, reset.text
    assert kafka.committed_offsets(group)[TopicPartition(topic, 1)].offset == 0

    assert client.delete(f"{base}/topics/{topic}").status_code == 204
    missing = client.get(f"{base}/topics/{topic}")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == 40403
