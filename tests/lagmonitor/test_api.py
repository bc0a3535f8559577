"""The REST routes, the KEDA endpoint and the Prometheus text, over the embedded engine."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from engine.embedded import EmbeddedCluster
from engine.types import OffsetAndMetadata, Record, TopicPartition
from lagmonitor.api import build_metrics_router, build_router
from lagmonitor.monitor import LagMonitor, MonitorConfig
from lagmonitor.schemas import GroupDetail, GroupList, KedaMetric
from tests.lagmonitor.conftest import ManualClock


@pytest.fixture()
def cluster(tmp_path: Path) -> Iterator[EmbeddedCluster]:
    opened = EmbeddedCluster(tmp_path / "cluster", name="api")
    opened.create_topic("orders", partitions=2)
    opened.produce("orders", [Record(value=b"v", partition=i % 2) for i in range(30)])
    opened.commit_offsets(
        "billing",
        {
            TopicPartition("orders", 0): OffsetAndMetadata(5),
            TopicPartition("orders", 1): OffsetAndMetadata(15),
        },
    )
    opened.commit_offsets('team/a"b', {TopicPartition("orders", 0): OffsetAndMetadata(15)})
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture()
def client(cluster: EmbeddedCluster, clock: ManualClock) -> Iterator[TestClient]:
    monitor = LagMonitor(cluster, MonitorConfig(interval_seconds=1.0), clock=clock)
    for _ in range(2):
        monitor.run_once()
        clock.advance(1.0)
    app = FastAPI()
    app.include_router(build_router(monitor))
    app.include_router(build_metrics_router(monitor))
    with TestClient(app) as test_client:
        yield test_client


def test_list_groups(client: TestClient) -> None:
    response = client.get("/lag/groups")
    assert response.status_code == 200
    listing = GroupList.model_validate(response.json())
    assert [g.group for g in listing.groups] == ["billing", 'team/a"b']
    billing = listing.groups[0]
    assert (billing.total_lag, billing.max_lag, billing.max_lag_partition) == (10, 10, 0)
    assert billing.partition_count == 2
    assert billing.state == "Empty"
    assert len(billing.lag_history) == 2
    assert billing.recommendation.replicas == billing.recommended_replicas
    assert listing.interval_seconds == 1.0


def test_group_detail_with_partitions(client: TestClient) -> None:
    response = client.get("/lag/groups/billing")
    assert response.status_code == 200
    detail = GroupDetail.model_validate(response.json())
    assert [(p.partition, p.committed, p.end_offset, p.lag) for p in detail.partitions] == [
        (0, 5, 15, 10),
        (1, 15, 15, 0),
    ]
    lagging = detail.partitions[0]
    assert lagging.time_lag_seconds is not None and lagging.time_lag_seconds >= 0
    assert lagging.reason
    assert len(detail.recommendation_history) == 2


def test_group_names_with_slashes_and_quotes(client: TestClient) -> None:
    response = client.get("/lag/groups/team/a%22b")
    assert response.status_code == 200
    assert response.json()["group"] == 'team/a"b'


def test_unknown_group_is_a_clear_404(client: TestClient) -> None:
    for path in ("/lag/groups/nope", "/lag/keda/nope", "/lag/groups/" + "x" * 5000):
        response = client.get(path)
        assert response.status_code == 404
        body = response.json()
        assert body["error_code"] == 40403
        assert "not monitored" in body["message"]
        assert len(body["message"]) < 400


def test_keda_endpoint(client: TestClient) -> None:
    response = client.get("/lag/keda/billing")
    assert response.status_code == 200
    metric = KedaMetric.model_validate(response.json())
    assert metric.totalLag == 10
    assert metric.recommendedReplicas >= 1
    assert set(response.json()) >= {"recommendedReplicas", "totalLag", "maxLag", "status"}


def test_prometheus_metrics(client: TestClient) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    sample = re.compile(r'^[a-z_]+\{([a-z_]+="([^"\\]|\\.)*",?)*\} -?[0-9.e+-]+$|^[a-z_]+ [0-9.]+$')
    for line in text.splitlines():
        assert line.startswith("# ") or sample.match(line), line
    assert 'kafka_consumergroup_group_sum_lag{cluster_name="api",group="billing"} 10' in text
    assert (
        'kafka_consumergroup_group_max_lag{cluster_name="api",group="billing",'
        'is_simple_consumer="true"} 10' in text
    )
    assert (
        'kafka_partition_latest_offset{cluster_name="api",topic="orders",partition="0"} 15' in text
    )
    assert (
        'kafka_consumergroup_group_topic_sum_lag{cluster_name="api",group="billing",'
        'topic="orders"} 10' in text
    )
    assert 'group="team/a\\"b"' in text
    # One sample with lag: not judged yet, and said so.
    status = 'streamgov_lag_group_status{cluster_name="api",group="billing",status='
    assert status + '"PENDING"} 1' in text
    assert status + '"OK"} 0' in text
    assert re.search(
        r'streamgov_lag_recommended_replicas\{cluster_name="api",group="billing"\} \d', text
    )
    for name in (
        "kafka_consumergroup_group_offset",
        "kafka_consumergroup_group_lag",
        "kafka_consumergroup_group_lag_seconds",
        "kafka_consumergroup_group_max_lag_seconds",
        "kafka_partition_earliest_offset",
        "kafka_consumergroup_poll_time_ms",
    ):
        assert f"# TYPE {name} gauge" in text
        assert re.search(rf"^{name}\{{", text, re.MULTILINE), name


def test_server_mounts_the_lag_monitor(cluster: EmbeddedCluster) -> None:
    from streamgov.server import ServerSettings, create_app

    app = create_app(cluster, ServerSettings(lag_interval_seconds=3600))
    with TestClient(app, base_url="http://localhost") as test_client:
        # Sampled at start: the groups are there from the first request, not an interval later.
        groups = test_client.get("/lag/groups").json()["groups"]
        assert {g["group"] for g in groups} == {"billing", 'team/a"b'}
        assert test_client.get("/metrics").status_code == 200
        assert test_client.get("/lag/keda/billing").status_code == 200
        paths = test_client.get("/openapi.json").json()["paths"]
        assert {"/lag/groups", "/lag/groups/{group}", "/lag/keda/{group}", "/metrics"} <= set(paths)
