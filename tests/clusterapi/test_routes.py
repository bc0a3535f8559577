"""The `/v3` cluster admin API over a real embedded cluster, through FastAPI's TestClient."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from clusterapi import mount
from engine.embedded import EmbeddedCluster
from engine.types import OffsetAndMetadata, OffsetSpec, Record, TopicPartition
from httpapi import ServerSettings, install_fallback

CLUSTER = "c1"
BASE = f"/v3/clusters/{CLUSTER}"


def make_app(
    cluster: EmbeddedCluster, readonly: bool = False, max_request_bytes: int = 4 * 1024 * 1024
) -> FastAPI:
    """An application with only the cluster API mounted (other routers are not under test)."""
    app = FastAPI()
    mount(app, cluster, ServerSettings(readonly=readonly, max_request_bytes=max_request_bytes))
    install_fallback(app)
    return app


@pytest.fixture()
def cluster(tmp_path: Path) -> Iterator[EmbeddedCluster]:
    with EmbeddedCluster(tmp_path / "c1", name=CLUSTER, maintenance_interval_s=None) as c:
        yield c


@pytest.fixture()
def client(cluster: EmbeddedCluster) -> Iterator[TestClient]:
    with TestClient(make_app(cluster)) as test_client:
        yield test_client


def produce_values(cluster: EmbeddedCluster, topic: str, values: list[bytes], **kw: int) -> None:
    cluster.produce(topic, [Record(value=v, **kw) for v in values])  # type: ignore[arg-type]


# -- clusters and topics -------------------------------------------------------------------


def test_lists_the_served_cluster_with_rest_proxy_fields(client: TestClient) -> None:
    body = client.get("/v3/clusters").json()
    assert body["kind"] == "KafkaClusterList"
    assert body["metadata"]["self"] == "http://testserver/v3/clusters"
    [only] = body["data"]
    assert only["kind"] == "KafkaCluster"
    assert only["cluster_id"] == CLUSTER
    assert only["metadata"]["self"] == f"http://testserver{BASE}"
    assert only["metadata"]["resource_name"] == f"crn:///kafka={CLUSTER}"
    assert only["topics"]["related"] == f"http://testserver{BASE}/topics"


def test_unknown_cluster_is_404(client: TestClient) -> None:
    response = client.get("/v3/clusters/nope/topics")
    assert response.status_code == 404
    assert response.json() == {"error_code": 404, "message": "Cluster nope could not be found."}


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("OPTIONS", "/v3/clusters", {"GET"}),
        ("OPTIONS", f"{BASE}/topics", {"GET", "POST"}),
        ("PUT", f"{BASE}/topics/t", {"GET", "PATCH", "DELETE"}),
        ("POST", f"{BASE}/topics/t/configs/retention.ms", {"GET", "PUT", "DELETE"}),
    ],
)
def test_unsupported_methods_are_405_naming_every_method_of_the_path(
    client: TestClient, method: str, path: str, allowed: set[str]
) -> None:
    # Every path served with several methods must list them all, whichever route answers.
    response = client.request(method, path)
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == allowed
    body = response.json()
    assert body["error_code"] == 405 and method in body["message"]


def test_creates_lists_gets_and_deletes_a_topic(client: TestClient) -> None:
    created = client.post(
        f"{BASE}/topics",
        json={
            "topic_name": "orders",
            "partitions_count": 3,
            "configs": [{"name": "cleanup.policy", "value": "compact"}],
        },
    )
    assert created.status_code == 201, created.text
    topic = created.json()
    assert topic["kind"] == "KafkaTopic"
    assert topic["topic_name"] == "orders"
    assert topic["partitions_count"] == 3
    assert topic["replication_factor"] == 1
    assert topic["is_internal"] is False
    assert topic["metadata"]["resource_name"] == f"crn:///kafka={CLUSTER}/topic=orders"
    assert topic["partitions"]["related"].endswith(f"{BASE}/topics/orders/partitions")

    listed = client.get(f"{BASE}/topics").json()
    assert listed["kind"] == "KafkaTopicList"
    assert [t["topic_name"] for t in listed["data"]] == ["orders"]
    assert client.get(f"{BASE}/topics/orders").json()["partitions_count"] == 3

    assert client.delete(f"{BASE}/topics/orders").status_code == 204
    missing = client.get(f"{BASE}/topics/orders")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == 40403


def test_creating_an_existing_topic_is_a_bad_request(client: TestClient) -> None:
    assert client.post(f"{BASE}/topics", json={"topic_name": "t"}).status_code == 201
    again = client.post(f"{BASE}/topics", json={"topic_name": "t"})
    assert again.status_code == 400
    assert again.json()["error_code"] == 40002
    assert "t" in again.json()["message"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"topic_name": "bad name!"}, 400),
        ({"topic_name": "t", "partitions_count": 0}, 422),
        ({"topic_name": "t", "replication_factor": 3}, 400),
        ({"topic_name": "t", "configs": [{"name": "no.such.key", "value": "1"}]}, 400),
        ({"partitions_count": 1}, 422),
        ([1, 2, 3], 422),
    ],
)
def test_rejects_bad_topic_requests_with_the_error_shape(
    client: TestClient, body: object, status: int
) -> None:
    response = client.post(f"{BASE}/topics", json=body)
    assert response.status_code == status
    payload = response.json()
    assert set(payload) == {"error_code", "message"}
    assert str(payload["error_code"]).startswith(str(status))
    assert client.get(f"{BASE}/topics").json()["data"] == []


def test_malformed_json_is_400_not_500(client: TestClient) -> None:
    response = client.post(
        f"{BASE}/topics", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == 400


def test_body_that_is_not_utf8_is_400_not_500(client: TestClient) -> None:
    response = client.patch(
        f"{BASE}/topics/t", content=b"\xcf", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == 400


def test_bodies_over_the_size_limit_are_413(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t")
    app = make_app(cluster, max_request_bytes=1000)
    with TestClient(app) as client:
        big = {"value": {"type": "STRING", "data": "x" * 2000}}
        response = client.post(f"{BASE}/topics/t/records", json=big)
        assert response.status_code == 413
        assert response.json()["error_code"] == 413

        def chunked() -> Iterator[bytes]:
            yield b'{"value": {"type": "STRING", "data": "'
            for _ in range(20):
                yield b"y" * 100
            yield b'"}}'

        streamed = client.post(
            f"{BASE}/topics/t/records",
            content=chunked(),
            headers={"Content-Type": "application/json"},
        )
        assert streamed.status_code == 413
        small = client.post(
            f"{BASE}/topics/t/records", json={"value": {"type": "STRING", "data": "ok"}}
        )
        assert small.status_code == 200
    assert cluster.list_offsets("t", OffsetSpec.LATEST) == {0: 1}


def test_validate_only_creates_nothing(client: TestClient) -> None:
    response = client.post(
        f"{BASE}/topics", json={"topic_name": "dry", "partitions_count": 2, "validate_only": True}
    )
    assert response.status_code == 201
    assert response.json()["partitions_count"] == 2
    assert client.get(f"{BASE}/topics").json()["data"] == []


def test_grows_partitions(client: TestClient) -> None:
    client.post(f"{BASE}/topics", json={"topic_name": "t", "partitions_count": 1})
    grown = client.patch(f"{BASE}/topics/t", json={"partitions_count": 4})
    assert grown.status_code == 200
    assert grown.json()["partitions_count"] == 4
    shrink = client.patch(f"{BASE}/topics/t", json={"partitions_count": 2})
    assert shrink.status_code == 400


def test_internal_topics_are_flagged(cluster: EmbeddedCluster, client: TestClient) -> None:
    cluster.create_topic("_state")
    [topic] = client.get(f"{BASE}/topics").json()["data"]
    assert topic["topic_name"] == "_state"
    assert topic["is_internal"] is True


# -- partitions and configs ----------------------------------------------------------------


def test_partitions_carry_offset_ranges(cluster: EmbeddedCluster, client: TestClient) -> None:
    cluster.create_topic("t", 2)
    produce_values(cluster, "t", [b"a", b"b", b"c"], partition=1)
    body = client.get(f"{BASE}/topics/t/partitions").json()
    assert body["kind"] == "KafkaPartitionList"
    assert [
        (p["partition_id"], p["earliest_offset"], p["latest_offset"]) for p in body["data"]
    ] == [
        (0, 0, 0),
        (1, 0, 3),
    ]
    one = client.get(f"{BASE}/topics/t/partitions/1").json()
    assert one["kind"] == "KafkaPartition"
    # Sizes are the engine's own figures, passed through.
    described = {p.partition: p.size_bytes for p in cluster.describe_topic("t").partitions}
    assert [p["size_bytes"] for p in body["data"]] == [described[0], described[1]]
    assert described[1] is not None and described[1] > 0
    assert one["metadata"]["resource_name"].endswith("/topic=t/partition=1")
    assert client.get(f"{BASE}/topics/t/partitions/7").json()["error_code"] == 40403


def test_lists_alters_and_resets_configs(cluster: EmbeddedCluster, client: TestClient) -> None:
    cluster.create_topic("t")
    configs = {c["name"]: c for c in client.get(f"{BASE}/topics/t/configs").json()["data"]}
    retention = configs["retention.ms"]
    assert retention["kind"] == "KafkaTopicConfig"
    assert retention["value"] == "604800000"
    assert retention["is_default"] is True
    assert retention["source"] == "DEFAULT_CONFIG"

    altered = client.post(
        f"{BASE}/topics/t/configs:alter",
        json={
            "data": [
                {"name": "retention.ms", "value": "1000"},
                {"name": "cleanup.policy", "value": "compact"},
            ]
        },
    )
    assert altered.status_code == 204, altered.text
    one = client.get(f"{BASE}/topics/t/configs/retention.ms").json()
    assert one["value"] == "1000"
    assert one["is_default"] is False
    assert one["source"] == "DYNAMIC_TOPIC_CONFIG"

    assert (
        client.put(f"{BASE}/topics/t/configs/retention.ms", json={"value": "2000"}).status_code
        == 204
    )
    assert cluster.describe_topic("t").config["retention.ms"] == "2000"
    assert client.delete(f"{BASE}/topics/t/configs/retention.ms").status_code == 204
    assert cluster.describe_topic("t").config["retention.ms"] == "604800000"

    batch_delete = client.post(
        f"{BASE}/topics/t/configs:alter",
        json={"data": [{"name": "cleanup.policy", "operation": "DELETE"}]},
    )
    assert batch_delete.status_code == 204
    assert cluster.describe_topic("t").config["cleanup.policy"] == "delete"


def test_bad_config_values_are_refused_and_nothing_changes(
    cluster: EmbeddedCluster, client: TestClient
) -> None:
    cluster.create_topic("t")
    response = client.post(
        f"{BASE}/topics/t/configs:alter",
        json={"data": [{"name": "retention.ms", "value": "soon"}]},
    )
    assert response.status_code == 400
    assert "retention.ms" in response.json()["message"]
    assert cluster.describe_topic("t").config["retention.ms"] == "604800000"
    unknown = client.get(f"{BASE}/topics/t/configs/no.such.key")
    assert unknown.status_code == 404


# -- produce and browse --------------------------------------------------------------------


def test_produces_binary_json_and_string_records(
    cluster: EmbeddedCluster, client: TestClient
) -> None:
    cluster.create_topic("t", 1)
    response = client.post(
        f"{BASE}/topics/t/records",
        json={
            "key": {"type": "STRING", "data": "k1"},
            "value": {"type": "JSON", "data": {"n": 1}},
            "headers": [{"name": "h", "value": base64.b64encode(b"hv").decode()}],
            "timestamp": "2026-01-02T03:04:05Z",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["error_code"] == 200
    assert (body["topic_name"], body["partition_id"], body["offset"]) == ("t", 0, 0)
    assert body["timestamp"].startswith("2026-01-02T03:04:05")
    assert body["key"] == {
        "size": 2,
        "type": "STRING",
        "subject": None,
        "schema_id": None,
        "schema_version": None,
    }
    binary = client.post(
        f"{BASE}/topics/t/records",
        json={"value": {"type": "BINARY", "data": base64.b64encode(b"\x00\x01").decode()}},
    )
    assert binary.json()["offset"] == 1
    [first, second] = cluster.fetch("t", 0, 0)
    assert (first.key, first.value, first.headers) == (b"k1", b'{"n":1}', (("h", b"hv"),))
    assert first.timestamp_ms == 1767323045000
    assert second.value == b"\x00\x01"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ({"type": "BINARY", "data": "***"}, "base64"),
        ({"type": "AVRO", "data": {"a": 1}}, "AVRO"),
        ({"data": "no type"}, "BINARY, JSON or STRING"),
        ({"type": "STRING", "data": 5}, "string"),
    ],
)
def test_refuses_values_it_cannot_encode(
    cluster: EmbeddedCluster, client: TestClient, value: dict[str, object], fragment: str
) -> None:
    cluster.create_topic("t")
    response = client.post(f"{BASE}/topics/t/records", json={"value": value})
    assert response.status_code == 400
    assert fragment in response.json()["message"]
    assert cluster.list_offsets("t", OffsetSpec.LATEST) == {0: 0}


def test_produce_to_a_missing_topic_or_partition_is_404(
    cluster: EmbeddedCluster, client: TestClient
) -> None:
    missing = client.post(
        f"{BASE}/topics/none/records", json={"value": {"type": "STRING", "data": "x"}}
    )
    assert missing.status_code == 404
    assert missing.json()["error_code"] == 40403
    cluster.create_topic("t", 1)
    bad_partition = client.post(
        f"{BASE}/topics/t/records",
        json={"partition_id": 3, "value": {"type": "STRING", "data": "x"}},
    )
    assert bad_partition.status_code == 404


def test_browses_from_offset_timestamp_and_both_ends(
    cluster: EmbeddedCluster, client: TestClient
) -> None:
    cluster.create_topic("t", 1)
    cluster.produce(
        "t", [Record(value=f"v{i}".encode(), key=b"k", timestamp_ms=1000 * i) for i in range(10)]
    )
    url = f"{BASE}/topics/t/partitions/0/records"

    page = client.get(url, params={"limit": 3}).json()
    assert page["kind"] == "KafkaRecordList"
    assert [r["offset"] for r in page["data"]] == [0, 1, 2]
    assert page["next_offset"] == 3
    assert page["metadata"]["next"].endswith("records?offset=3&limit=3")
    first = page["data"][0]
    assert base64.b64decode(first["value"]["data"]) == b"v0"
    assert first["key"] == {"type": "BINARY", "size": 1, "data": base64.b64encode(b"k").decode()}
    assert first["timestamp_ms"] == 0

    assert [r["offset"] for r in client.get(url, params={"offset": 7}).json()["data"]] == [7, 8, 9]
    by_time = client.get(url, params={"timestamp": "4500", "limit": 2}).json()
    assert [r["offset"] for r in by_time["data"]] == [5, 6]
    iso = client.get(url, params={"timestamp": "1970-01-01T00:00:08Z"}).json()
    assert [r["offset"] for r in iso["data"]] == [8, 9]
    tail = client.get(url, params={"position": "latest", "limit": 2}).json()
    assert [r["offset"] for r in tail["data"]] == [8, 9]
    assert tail["metadata"]["next"] is None
    beyond = client.get(url, params={"offset": 50}).json()
    assert beyond["data"] == [] and beyond["next_offset"] == 10


def test_browse_rejects_conflicting_or_bad_parameters(
    cluster: EmbeddedCluster, client: TestClient
) -> None:
    cluster.create_topic("t", 1)
    url = f"{BASE}/topics/t/partitions/0/records"
    both = client.get(url, params={"offset": 1, "timestamp": "5"})
    assert both.status_code == 400
    assert "at most one" in both.json()["message"]
    assert client.get(url, params={"timestamp": "yesterday"}).status_code == 400
    assert client.get(url, params={"timestamp": "9" * 30}).status_code == 400
    assert client.get(url, params={"timestamp": "--5"}).status_code == 400
    assert client.get(url, params={"limit": 0}).status_code == 422
    assert client.get(url, params={"limit": 100_000}).status_code == 422
    assert client.get(url, params={"position": "middle"}).status_code == 422
    assert client.get(f"{BASE}/topics/t/partitions/9/records").status_code == 404


# -- consumer groups -----------------------------------------------------------------------


def commit(cluster: EmbeddedCluster, group: str, offsets: dict[tuple[str, int], int]) -> None:
    cluster.commit_offsets(
        group, {TopicPartition(t, p): OffsetAndMetadata(o) for (t, p), o in offsets.items()}
    )


def test_groups_lags_and_lag_summary(cluster: EmbeddedCluster, client: TestClient) -> None:
    cluster.create_topic("t", 2)
    produce_values(cluster, "t", [b"x"] * 5, partition=0)
    produce_values(cluster, "t", [b"x"] * 8, partition=1)
    commit(cluster, "billing", {("t", 0): 5, ("t", 1): 2})

    groups = client.get(f"{BASE}/consumer-groups").json()
    assert groups["kind"] == "KafkaConsumerGroupList"
    [group] = groups["data"]
    assert group["consumer_group_id"] == "billing"
    assert group["state"] == "EMPTY"
    assert group["is_simple"] is True
    assert group["lag_summary"]["related"].endswith("/consumer-groups/billing/lag-summary")
    assert client.get(f"{BASE}/consumer-groups/billing").json()["consumer_group_id"] == "billing"
    assert client.get(f"{BASE}/consumer-groups/billing/consumers").json()["data"] == []

    lags = client.get(f"{BASE}/consumer-groups/billing/lags").json()
    assert lags["kind"] == "KafkaConsumerLagList"
    assert [
        (lag["partition_id"], lag["current_offset"], lag["log_end_offset"], lag["lag"])
        for lag in lags["data"]
    ] == [(0, 5, 5, 0), (1, 2, 8, 6)]
    assert lags["data"][1]["consumer_id"] == ""
    one = client.get(f"{BASE}/consumer-groups/billing/lags/t/partitions/1").json()
    assert one["lag"] == 6

    summary = client.get(f"{BASE}/consumer-groups/billing/lag-summary").json()
    assert summary["kind"] == "KafkaConsumerGroupLagSummary"
    assert (summary["total_lag"], summary["max_lag"]) == (6, 6)
    assert (summary["max_lag_topic_name"], summary["max_lag_partition_id"]) == ("t", 1)


def test_live_members_and_their_assignments(cluster: EmbeddedCluster, client: TestClient) -> None:
    cluster.create_topic("t", 2)
    consumer = cluster.consumer("live", client_id="worker-1", auto_offset_reset="earliest")
    try:
        consumer.subscribe(["t"])
        consumer.poll(0.5)
        consumer.commit({TopicPartition("t", 0): OffsetAndMetadata(0)})
        group = client.get(f"{BASE}/consumer-groups/live").json()
        assert group["state"] == "STABLE"
        assert group["partition_assignor"] == "range"
        [member] = client.get(f"{BASE}/consumer-groups/live/consumers").json()["data"]
        assert member["client_id"] == "worker-1"
        member_id = member["consumer_id"]
        assigned = client.get(
            f"{BASE}/consumer-groups/live/consumers/{member_id}/assignments"
        ).json()["data"]
        assert sorted((a["topic_name"], a["partition_id"]) for a in assigned) == [
            ("t", 0),
            ("t", 1),
        ]
        [lag] = client.get(f"{BASE}/consumer-groups/live/lags").json()["data"]
        assert lag["consumer_id"] == member_id and lag["client_id"] == "worker-1"

        refused = client.post(
            f"{BASE}/consumer-groups/live/offsets:reset", json={"position": "LATEST"}
        )
        assert refused.status_code == 409
        assert refused.json()["error_code"] == 40901
        assert "stop its consumers" in refused.json()["message"]
    finally:
        consumer.close()


def test_unknown_group_is_404(client: TestClient) -> None:
    for path in ("", "/consumers", "/lags", "/lag-summary"):
        response = client.get(f"{BASE}/consumer-groups/ghost{path}")
        assert response.status_code == 404, path
        assert response.json()["error_code"] == 404


def test_resets_offsets_of_an_empty_group(cluster: EmbeddedCluster, client: TestClient) -> None:
    cluster.create_topic("t", 2)
    cluster.produce(
        "t", [Record(value=b"x", partition=0, timestamp_ms=1000 * i) for i in range(10)]
    )
    commit(cluster, "g", {("t", 0): 4})
    url = f"{BASE}/consumer-groups/g/offsets:reset"

    dry = client.post(url, json={"position": "EARLIEST", "validate_only": True}).json()
    # Without a topic: the partitions the group has committed offsets for.
    assert [(d["partition_id"], d["previous_offset"], d["offset"]) for d in dry["data"]] == [
        (0, 4, 0)
    ]
    assert cluster.committed_offsets("g")[TopicPartition("t", 0)].offset == 4

    shifted = client.post(url, json={"position": "SHIFT_BY", "value": 3, "partition_id": 0})
    assert shifted.status_code == 200, shifted.text
    assert cluster.committed_offsets("g")[TopicPartition("t", 0)].offset == 7
    client.post(url, json={"position": "SHIFT_BY", "value": 100, "partition_id": 0})
    assert cluster.committed_offsets("g")[TopicPartition("t", 0)].offset == 10

    client.post(url, json={"position": "TIMESTAMP", "value": 2500, "topic_name": "t"})
    committed = cluster.committed_offsets("g")
    assert committed[TopicPartition("t", 0)].offset == 3
    assert committed[TopicPartition("t", 1)].offset == 0

    needs_value = client.post(url, json={"position": "OFFSET"})
    assert needs_value.status_code == 400
    assert "value" in needs_value.json()["message"]
    assert client.post(url, json={"position": "SIDEWAYS"}).status_code == 422
    assert client.post(url, json={"position": "LATEST", "topic_name": "nope"}).status_code == 404


def test_read_only_server_refuses_changes(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t")
    with TestClient(make_app(cluster, readonly=True)) as client:
        assert client.get(f"{BASE}/topics").status_code == 200
        for method, path, body in [
            ("POST", f"{BASE}/topics", {"topic_name": "x"}),
            ("DELETE", f"{BASE}/topics/t", None),
            ("POST", f"{BASE}/topics/t/records", {"value": {"type": "STRING", "data": "v"}}),
            ("POST", f"{BASE}/topics/t/configs:alter", {"data": []}),
        ]:
            response = client.request(method, path, json=body)
            assert response.status_code == 403, path
            assert response.json()["error_code"] == 40301
    assert cluster.list_topics() == ["t"]


@pytest.mark.parametrize(
    ("topic", "holds"),
    [
        ("_schemas", "every schema, subject and id"),
        ("_catalog", "every stream, owner and tag"),
        ("_acls", "every access-control rule"),
        ("_audit", "the audit trail"),
        ("_lag_signals", "scaling signals"),
        ("_catalog_events", "the catalog's events"),
        ("_schemas-snapshots", "snapshots of the state in _schemas"),
        ("_catalog-snapshots", "snapshots of the state in _catalog"),
        ("_acls-snapshots", "snapshots of the state in _acls"),
    ],
)
def test_internal_topics_change_only_with_internal_true(
    client: TestClient, cluster: EmbeddedCluster, topic: str, holds: str
) -> None:
    """Deleting `_schemas` used to answer 204 and leave the registry empty after a restart."""
    cluster.create_topic(topic)
    path = f"{BASE}/topics/{topic}"
    attempts = [
        ("DELETE", path, None),
        ("PATCH", path, {"partitions_count": 3}),
        ("PUT", f"{path}/configs/retention.ms", {"value": "1000"}),
        ("DELETE", f"{path}/configs/retention.ms", None),
        ("POST", f"{path}/configs:alter", {"data": [{"name": "retention.ms", "value": "1"}]}),
    ]
    for method, url, body in attempts:
        response = client.request(method, url, json=body)
        assert response.status_code == 403, (method, url, response.text)
        error = response.json()
        assert error["error_code"] == 40302 and "internal=true" in error["message"]
        assert "it holds" in error["message"] and holds in error["message"]
    described = cluster.describe_topic(topic)
    assert (len(described.partitions) == 1 and "retention.ms" not in described.config) or (
        described.config["retention.ms"] != "1000"
    )
    allowed = client.put(
        f"{path}/configs/retention.ms", params={"internal": "true"}, json={"value": "1000"}
    )
    assert allowed.status_code == 204
    assert client.delete(path, params={"internal": "true"}).status_code == 204
    assert topic not in cluster.list_topics(include_internal=True)


def test_ordinary_topics_need_no_internal_flag(
    client: TestClient, cluster: EmbeddedCluster
) -> None:
    cluster.create_topic("schemas_")
    assert client.delete(f"{BASE}/topics/schemas_").status_code == 204
