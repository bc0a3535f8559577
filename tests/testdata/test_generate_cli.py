"""`streamgov generate` against a real registry server on the embedded engine: records in the
registry's wire format that the registry's deserializer reads back, keys from a field, PII
fields from the catalog's tags, the same records for the same seed, and clear errors."""

from __future__ import annotations

import json

import httpx
import jsonschema
import pytest
from click.testing import CliRunner, Result
from fastavro import parse_schema
from fastavro.validation import validate
from jsonschema import FormatChecker

from engine.embedded import EmbeddedCluster
from registry.client import RegistryClient
from registry.serde import AvroDeserializer
from streamgov.cli import cli
from tests.streamgov.cli.test_schema_records import cluster, url

__all__ = ["cluster", "url"]  # the fixtures: an embedded cluster and a server over it

CUSTOMER = {
    "type": "record",
    "name": "Customer",
    "namespace": "com.example",
    "fields": [
        {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "email", "type": "string"},
        {"name": "phone", "type": "string", "confluent:tags": ["PII"]},
        {"name": "since", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "tier", "type": {"type": "enum", "name": "Tier", "symbols": ["GOLD", "BASIC"]}},
    ],
}


def run(url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "-r", url])


def values(cluster: EmbeddedCluster, topic: str) -> list[tuple[bytes | None, bytes | None]]:
    out = []
    for partition in range(len(cluster.describe_topic(topic).partitions)):
        out.extend((r.key, r.value) for r in cluster.fetch(topic, partition, 0, 10_000))
    return out


def test_generated_records_decode_and_validate(cluster: EmbeddedCluster, url: str) -> None:
    cluster.create_topic("customers", 2)
    with RegistryClient(url) as client:
        client.register("customers-value", json.dumps(CUSTOMER), "AVRO")
        tagged = httpx.patch(
            f"{url}/catalog/streams/customers", json={"field_tags": {"email": ["pii"]}}
        )
        assert tagged.status_code == 200, tagged.text
        result = run(url, "generate", "customers", "--subject", "customers-value", "-n", "50",
                     "--seed", "4", "--key-field", "id")  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "Generated 50 record(s)" in result.output
        read = AvroDeserializer(client)
        records = values(cluster, "customers")
        assert len(records) == 50
        schema = parse_schema(CUSTOMER)
        for key, value in records:
            decoded = read(value, "customers")
            assert validate(decoded, schema, raise_errors=True)
            assert key == str(decoded["id"]).encode()
            assert "@" in decoded["email"]  # catalog tag: a fake address
            assert not decoded["phone"].startswith("phone-")  # schema tag: a fake number


def test_the_same_seed_writes_the_same_records(cluster: EmbeddedCluster, url: str) -> None:
    cluster.create_topic("a")
    cluster.create_topic("b")
    with RegistryClient(url) as client:
        client.register("c-value", json.dumps(CUSTOMER), "AVRO")
    for topic in ("a", "b"):
        result = run(url, "generate", topic, "--subject", "c-value", "-n", "20", "--seed", "9")
        assert result.exit_code == 0, result.output
    assert values(cluster, "a") == values(cluster, "b")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--subject", "missing-value"), "subject missing-value"),
        (("--subject", "c-value", "--key-field", "nope"), "--key-field nope"),
        (("--subject", "c-value", "--rate", "0"), "--rate"),
    ],
)
def test_bad_input_is_one_line(
    cluster: EmbeddedCluster, url: str, args: tuple[str, ...], message: str
) -> None:
    cluster.create_topic("t")
    with RegistryClient(url) as client:
        client.register("c-value", json.dumps(CUSTOMER), "AVRO")
    result = run(url, "generate", "t", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_missing_topic_is_one_line(cluster: EmbeddedCluster, url: str) -> None:
    with RegistryClient(url) as client:
        client.register("c-value", json.dumps(CUSTOMER), "AVRO")
    result = run(url, "generate", "nowhere", "--subject", "c-value")
    assert result.exit_code == 1
    assert "nowhere" in result.output and "Traceback" not in result.output


ORDER_JSON = {
    "type": "object",
    "title": "Order",
    "additionalProperties": False,
    "required": ["id", "email", "total"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "email": {"type": "string", "format": "email"},
        "total": {"type": "number", "minimum": 0, "maximum": 500},
        "code": {"type": "string", "pattern": "^[A-Z]{2}[0-9]{3}$"},
    },
}
ORDER_PROTO = """syntax = "proto3";
package shop;
message Order {
  string id = 1; string customer_email = 2; int64 cents = 3; repeated string sku = 4;
}
"""


@pytest.mark.parametrize(
    ("schema_type", "text"),
    [("JSON", json.dumps(ORDER_JSON)), ("PROTOBUF", ORDER_PROTO)],
)
def test_json_schema_and_protobuf_records_decode(
    cluster: EmbeddedCluster, url: str, schema_type: str, text: str
) -> None:
    from streamgov.cli.recordformats import SCHEMA_FORMATS

    cluster.create_topic("orders")
    with RegistryClient(url) as client:
        client.register("orders-value", text, schema_type)
        result = run(url, "generate", "orders", "--subject", "orders-value", "-n", "30",
                     "--seed", "1")  # fmt: skip
        assert result.exit_code == 0, result.output
        fmt = next(n for n, f in SCHEMA_FORMATS.items() if f.schema_type == schema_type)
        read = SCHEMA_FORMATS[fmt].deserializer(client)
        decoded = [read(value, "orders") for _, value in values(cluster, "orders")]
    assert len(decoded) == 30
    if schema_type == "JSON":
        validator = jsonschema.Draft7Validator(ORDER_JSON, format_checker=FORMAT_CHECKER)
        assert all(validator.is_valid(d) for d in decoded)
    else:
        assert all(isinstance(d.get("cents", "0"), str | int) for d in decoded)
        assert all(d["id"].startswith("id-") for d in decoded)


FORMAT_CHECKER = FormatChecker()
