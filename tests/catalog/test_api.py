"""The `/catalog` routes over a real application and embedded cluster: flows, and every error
in the one JSON shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from engine.embedded import EmbeddedCluster
from engine.types import OffsetAndMetadata, TopicPartition
from streamgov.server import ServerSettings, create_app

SCHEMA = {
    "type": "record",
    "name": "Order",
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "email", "type": "string", "confluent:tags": ["PII"]},
    ],
}


@pytest.fixture()
def app(tmp_path: Path) -> Iterator[FastAPI]:
    cluster = EmbeddedCluster(tmp_path / "cluster", name="api")
    application = create_app(cluster, ServerSettings(allowed_hosts=("testserver",)))
    yield application
    application.state.services.close()
    cluster.close()


@pytest.fixture()
def client(app: FastAPI) -> TestClient:
    return TestClient(app)


def test_a_stream_is_tagged_described_searched_and_exported(
    app: FastAPI, client: TestClient
) -> None:
    cluster = app.state.services.cluster
    cluster.create_topic("orders", 2)
    client.post("/subjects/orders-value/versions", json={"schema": json.dumps(SCHEMA)})
    answer = client.patch(
        "/catalog/streams/orders",
        json={"owner": "checkout", "add_tags": ["financial"], "description": "placed orders"},
    )
    assert answer.status_code == 200, answer.text
    client.patch("/catalog/services/checkout", json={"team": "payments", "outputs": ["orders"]})
    client.patch("/catalog/services/billing", json={"inputs": ["orders"]})

    detail = client.get("/catalog/streams/orders").json()
    assert detail["owner"] == "checkout" and detail["tags"] == ["financial"]
    assert [(f["path"], f["tags"]) for f in detail["fields"]] == [("id", []), ("email", ["pii"])]
    assert detail["consumers"] == ["billing"]

    assert [
        hit["topic"] for hit in client.get("/catalog/search", params={"q": "email"}).json()
    ] == ["orders"]
    assert client.get("/catalog/fields", params={"tag": "PII"}).json() == [
        {
            "topic": "orders",
            "stream_tag": False,
            "fields": [{"part": "value", "path": "email", "tags": ["pii"]}],
        }
    ]
    document = client.get("/catalog/services/checkout/asyncapi").json()
    assert document["operations"]["send_orders"]["action"] == "send"
    assert document["components"]["messages"]["orders.message"]["payload"]["schema"] == SCHEMA
    assert "svc_checkout --> topic_orders" in client.get("/catalog/export/topology").text
    assert "kind: API" in client.get("/catalog/export/backstage").text


def test_the_deprecation_workflow_over_rest(app: FastAPI, client: TestClient) -> None:
    cluster = app.state.services.cluster
    cluster.create_topic("old", 1)
    cluster.commit_offsets("reader", {TopicPartition("old", 0): OffsetAndMetadata(0)})
    assert (
        client.put("/catalog/streams/old/deprecation", json={"replacement": "new"}).status_code
        == 200
    )
    (status,) = client.get("/catalog/deprecations").json()
    assert status["consumers"] == ["reader"] and not status["safe_to_delete"]
    refused = client.post("/catalog/streams/old/retire")
    assert refused.status_code == 409
    assert refused.json() == {
        "error_code": 40901,
        "message": "stream 'old' still has consumers (reader): it is not safe to delete; wait "
        "for them to move, or use --force",
    }
    cluster.delete_group("reader")
    assert client.get("/catalog/deprecations").json()[0]["safe_to_delete"]
    assert [e["type"] for e in client.get("/catalog/events").json()] == ["no_consumers_left"]
    assert client.post("/catalog/streams/old/retire").json()["retired"]
    assert "old" not in cluster.list_topics()


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code", "words"),
    [
        ("get", "/catalog/streams/nope", None, 404, 40401, "stream 'nope' is not in the catalog"),
        ("patch", "/catalog/streams/bad%20name", {}, 422, 42201, "not a valid topic name"),
        ("patch", "/catalog/streams/t", {"add_tags": ["=x"]}, 422, 42201, "tag '=x'"),
        ("patch", "/catalog/streams/t", {"owner": 5}, 422, 422, "owner"),
        ("put", "/catalog/streams/t/deprecation", {"sunset": "soon"}, 404, 40401, "'t'"),
        ("get", "/catalog/search?q=%22%28%29", None, 422, 42201, "no word"),
        ("delete", "/catalog/services/ghost", None, 404, 40401, "service 'ghost'"),
    ],
)
def test_errors_have_one_shape(
    client: TestClient, method: str, path: str, body: object, status: int, code: int, words: str
) -> None:
    answer = client.request(method, path, json=body)
    assert answer.status_code == status, answer.text
    payload = answer.json()
    assert set(payload) == {"error_code", "message"}
    assert payload["error_code"] == code and words in payload["message"]


def test_producers_seen_on_the_kafka_listener_show_single_writer_violations(
    tmp_path: Path,
) -> None:
    """A real confluent-kafka producer writes through the listener of a running server; the
    catalog records who wrote, and one that is not the owner is a violation (once)."""
    from confluent_kafka import Producer

    cluster = EmbeddedCluster(tmp_path / "cluster", name="kafka")
    settings = ServerSettings(allowed_hosts=("testserver",), kafka_port=0)
    application = create_app(cluster, settings)
    try:
        catalog = application.state.catalog
        listener = application.state.kafka_listener
        cluster.create_topic("orders", 1)
        catalog.put_service("checkout", principals=["checkout-app"])
        catalog.tag("orders", owner="checkout")
        for client_id in ("checkout-app", "rogue-job", "rogue-job"):
            producer = Producer({"bootstrap.servers": listener.bootstrap, "client.id": client_id})
            producer.produce("orders", b"v")
            assert producer.flush(30) == 0
        catalog.record_sightings()
        detail = TestClient(application).get("/catalog/streams/orders").json()
        assert sorted((p["client_id"], p["owner"]) for p in detail["producers"]) == [
            ("checkout-app", True),
            ("rogue-job", False),
        ]
        violations = [e for e in catalog.events.read() if e["type"] == "single_writer_violation"]
        assert [(e["client_id"], e["owner"]) for e in violations] == [("rogue-job", "checkout")]
    finally:
        application.state.services.close()
        cluster.close()


@pytest.mark.parametrize("topic", ["_schemas", "_schemas-snapshots", "_catalog_events"])
def test_retire_leaves_internal_topics_alone(app: FastAPI, client: TestClient, topic: str) -> None:
    """Retiring with force deleted any topic it was given, `_schemas` included."""
    cluster = app.state.services.cluster
    if topic not in cluster.list_topics(include_internal=True):
        cluster.create_topic(topic, 1)
    refused = client.post(f"/catalog/streams/{topic}/retire", params={"force": "true"})
    assert refused.status_code == 409
    assert refused.json()["error_code"] == 40901
    assert f"topic {topic!r} is internal: it holds" in refused.json()["message"]
    assert topic in cluster.list_topics(include_internal=True)
