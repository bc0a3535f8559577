"""`streamgov generate` over the Kafka protocol: through the Kafka listener of a running server
(embedded engine behind it) and on a real Kafka-protocol broker (`--bootstrap`), the records
read back with the registry's deserializer."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient, NewTopic
from fastavro import parse_schema
from fastavro.validation import validate

from engine.embedded import EmbeddedCluster
from registry.client import RegistryClient
from registry.serde import AvroDeserializer
from streamgov.cli import cli
from streamgov.server import ServerSettings, create_app, serve_in_thread
from tests.testdata.test_generate_cli import CUSTOMER

pytestmark = pytest.mark.kafka


@pytest.fixture()
def server(streamgov_home: Path) -> Iterator[tuple[str, str, EmbeddedCluster]]:
    """A server with its Kafka listener: (REST URL, listener bootstrap, its cluster)."""
    cluster = EmbeddedCluster(streamgov_home / "clusters" / "default", name="default")
    app = create_app(cluster, ServerSettings(kafka_port=0))
    try:
        with serve_in_thread(app) as url:
            yield url, app.state.kafka_listener.bootstrap, cluster
    finally:
        app.state.services.close()
        cluster.close()


def read_back(bootstrap: str, topic: str, count: int) -> list[bytes]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"g-{uuid.uuid4()}",
                         "auto.offset.reset": "earliest"})  # fmt: skip
    values: list[bytes] = []
    try:
        consumer.subscribe([topic])
        for _ in range(200):  # each poll waits up to 1 s for records; stop once all are read
            message = consumer.poll(1.0)
            if message is not None and message.error() is None:
                values.append(message.value())
            if len(values) >= count:
                break
    finally:
        consumer.close()
    return values


def generate_and_check(url: str, bootstrap: str, topic: str) -> None:
    with RegistryClient(url) as client:
        client.register("customers-value", json.dumps(CUSTOMER), "AVRO")
        result = CliRunner().invoke(cli, ["generate", topic, "--subject", "customers-value",
                                          "-n", "25", "--seed", "3", "--key-field", "id",
                                          "-r", url, "--bootstrap", bootstrap])  # fmt: skip
        assert result.exit_code == 0, result.output
        values = read_back(bootstrap, topic, 25)
        assert len(values) == 25
        read = AvroDeserializer(client)
        schema = parse_schema(CUSTOMER)
        for value in values:
            assert validate(read(value, topic), schema, raise_errors=True)


def test_through_the_kafka_listener(server: tuple[str, str, EmbeddedCluster]) -> None:
    url, bootstrap, cluster = server
    cluster.create_topic("customers", 2)
    generate_and_check(url, bootstrap, "customers")


def test_on_a_kafka_broker(server: tuple[str, str, EmbeddedCluster], kafka_bootstrap: str) -> None:
    url, _, _ = server
    topic = f"customers-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    admin.create_topics([NewTopic(topic, 2, 1)])[topic].result(30)
    generate_and_check(url, kafka_bootstrap, topic)
