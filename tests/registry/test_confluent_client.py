"""confluent-kafka's own `SchemaRegistryClient` and serdes against a running streamgov server."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import (
    Schema,
    SchemaReference,
    SchemaRegistryClient,
    SchemaRegistryError,
)
from confluent_kafka.schema_registry.avro import AvroDeserializer as CfAvroDeserializer
from confluent_kafka.schema_registry.avro import AvroSerializer as CfAvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer as CfJSONDeserializer
from confluent_kafka.schema_registry.json_schema import JSONSerializer as CfJSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from registry.client import RegistryClient
from registry.serde import AvroDeserializer, AvroSerializer, JSONDeserializer, JSONSerializer
from tests.registry.registry_server import registry_in_thread


def avro_record(name: str, *fields: tuple[str, str], defaults: bool = False) -> str:
    spec = []
    for field_name, field_type in fields:
        item: dict[str, object] = {"name": field_name, "type": field_type}
        if defaults:
            item["default"] = 0 if field_type in ("int", "long") else ""
        spec.append(item)
    return json.dumps({"type": "record", "name": name, "namespace": "com.example", "fields": spec})


def compact(text: str) -> str:
    """How the registry answers a schema written in Avro's key order: compact."""
    return json.dumps(json.loads(text), separators=(",", ":"))


USER = avro_record("User", ("id", "long"), ("name", "string"))
USER_PLUS_DEFAULT = json.dumps(
    {
        "type": "record",
        "name": "User",
        "namespace": "com.example",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "name", "type": "string"},
            {"name": "age", "type": "int", "default": 0},
        ],
    }
)
USER_PLUS_REQUIRED = avro_record("User", ("id", "long"), ("name", "string"), ("age", "int"))
JSON_ORDER = json.dumps(
    {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Order",
        "type": "object",
        "properties": {"id": {"type": "integer"}, "item": {"type": "string"}},
        "required": ["id"],
    }
)


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with registry_in_thread(Path(tmp_path_factory.mktemp("registry")), "t") as address:
        yield address


@pytest.fixture()
def client(url: str) -> Iterator[SchemaRegistryClient]:
    sr = SchemaRegistryClient({"url": url})
    yield sr
    sr.close()


@pytest.fixture()
def ours(url: str) -> Iterator[RegistryClient]:
    with RegistryClient(url) as registry:
        yield registry


def subject() -> str:
    return f"s-{uuid.uuid4().hex[:10]}"


def error_of(excinfo: pytest.ExceptionInfo[SchemaRegistryError]) -> tuple[int, int]:
    return excinfo.value.http_status_code, excinfo.value.error_code


def test_register_lookup_versions_latest(client: SchemaRegistryClient) -> None:
    name = subject()
    schema_id = client.register_schema(name, Schema(USER, "AVRO"))
    assert client.register_schema(name, Schema(USER, "AVRO")) == schema_id
    other = subject()
    assert client.register_schema(other, Schema(USER, "AVRO")) == schema_id, "same schema, same id"
    assert client.get_schema(schema_id).schema_str == compact(USER)
    found = client.lookup_schema(name, Schema(USER, "AVRO"))
    assert (found.schema_id, found.version, found.subject) == (schema_id, 1, name)
    second = client.register_schema(name, Schema(USER_PLUS_DEFAULT, "AVRO"))
    assert second != schema_id
    assert client.get_versions(name) == [1, 2]
    latest = client.get_latest_version(name)
    assert (latest.version, latest.schema_id, latest.schema.schema_str) == (
        2,
        second,
        compact(USER_PLUS_DEFAULT),
    )
    assert client.get_version(name, 1).schema_id == schema_id
    assert name in client.get_subjects()
    assert sorted(client.get_subjects_by_schema_id(schema_id)) == sorted([name, other])
    pairs = {(v.subject, v.version) for v in client.get_schema_versions(schema_id)}
    assert pairs == {(name, 1), (other, 1)}
    assert set(client.get_schema_types()) == {"AVRO", "JSON", "PROTOBUF"}
    assert client.get_contexts() == ["."]


def test_respelled_schemas_are_one_schema_through_the_client(client: SchemaRegistryClient) -> None:
    name = subject()
    pretty = json.dumps(json.loads(USER), indent=2)
    respelled = json.dumps(dict(reversed(list(json.loads(USER).items()))))
    schema_id = client.register_schema(name, Schema(pretty, "AVRO"))
    found = client.lookup_schema(name, Schema(respelled, "AVRO"))
    assert (found.schema_id, found.version) == (schema_id, 1)
    assert client.register_schema(name, Schema(respelled, "AVRO")) == schema_id
    assert client.get_versions(name) == [1]
    assert client.get_schema(schema_id).schema_str == compact(USER)
    primitive = subject()
    string_id = client.register_schema(primitive, Schema('{"type": "string"}', "AVRO"))
    assert client.register_schema(subject(), Schema('"string"', "AVRO")) == string_id


def test_lookup_errors(client: SchemaRegistryClient) -> None:
    with pytest.raises(SchemaRegistryError) as excinfo:
        client.lookup_schema(subject(), Schema(USER, "AVRO"))
    assert error_of(excinfo) == (404, 40401)
    name = subject()
    client.register_schema(name, Schema(USER, "AVRO"))
    with pytest.raises(SchemaRegistryError) as excinfo:
        client.lookup_schema(name, Schema(USER_PLUS_DEFAULT, "AVRO"))
    assert error_of(excinfo) == (404, 40403)
    with pytest.raises(SchemaRegistryError) as excinfo:
        client.get_version(name, 9)
    assert error_of(excinfo) == (404, 40402)
    with pytest.raises(SchemaRegistryError) as excinfo:
        client.get_schema(987_654)
    assert error_of(excinfo) == (404, 40403)
    with pytest.raises(SchemaRegistryError) as excinfo:
        client.register_schema(name, Schema('{"type": "record", "name": "X"}', "AVRO"))
    assert error_of(excinfo) == (422, 42201)


def test_compatibility_both_endpoints_and_register_refusal(client: SchemaRegistryClient) -> None:
    name = subject()
    # nothing registered yet: compatible with "latest"
    assert client.test_compatibility(name, Schema(USER, "AVRO")) is True
    client.register_schema(name, Schema(USER, "AVRO"))
    client.set_compatibility(name, "BACKWARD")
    assert client.test_compatibility(name, Schema(USER_PLUS_DEFAULT, "AVRO")) is True
    assert client.test_compatibility(name, Schema(USER_PLUS_REQUIRED, "AVRO"), version=1) is False
    assert client.test_compatibility_all_versions(name, Schema(USER_PLUS_REQUIRED, "AVRO")) is False
    with pytest.raises(SchemaRegistryError) as excinfo:
        client.test_compatibility(name, Schema(USER, "AVRO"), version=5)
    assert error_of(excinfo) == (404, 40402)
    with pytest.raises(SchemaRegistryError) as excinfo:
        client.register_schema(name, Schema(USER_PLUS_REQUIRED, "AVRO"))
    assert error_of(excinfo) == (409, 40901)
    assert "incompatible" in str(excinfo.value.error_message)
    client.set_compatibility(name, "NONE")
    client.register_schema(name, Schema(USER_PLUS_REQUIRED, "AVRO"))
    assert client.get_versions(name) == [1, 2]


def test_config_and_mode(client: SchemaRegistryClient) -> None:
    name = subject()
    assert client.get_compatibility() == "BACKWARD"
    with pytest.raises(SchemaRegistryError) as excinfo:
        client.get_config(name)
    assert error_of(excinfo) == (404, 40408)
    client.set_compatibility(name, "FULL_TRANSITIVE")
    assert client.get_compatibility(name) == "FULL_TRANSITIVE"
    with pytest.raises(SchemaRegistryError) as excinfo:
        client.set_compatibility(name, "SIDEWAYS")
    assert error_of(excinfo) == (422, 42203)
    assert client.delete_config(name).compatibility_level == "FULL_TRANSITIVE"
    with pytest.raises(SchemaRegistryError) as excinfo:
        client.delete_config(name)
    assert error_of(excinfo) == (404, 40401)

    assert client.get_global_mode() == "READWRITE"
    with pytest.raises(SchemaRegistryError) as excinfo:
        client.get_mode(name)
    assert error_of(excinfo) == (404, 40409)
    client.register_schema(name, Schema(USER, "AVRO"))
    assert client.update_mode(name, "READONLY") == "READONLY"
    assert client.get_mode(name) == "READONLY"
    with pytest.raises(SchemaRegistryError) as excinfo:
        client.register_schema(name, Schema(USER_PLUS_DEFAULT, "AVRO"))
    assert error_of(excinfo) == (422, 42205)
    with pytest.raises(SchemaRegistryError) as excinfo:
        client.update_mode(name, "SOMETIMES")
    assert error_of(excinfo) == (422, 42204)
    with pytest.raises(SchemaRegistryError) as excinfo:
        client.update_mode(name, "IMPORT")
    assert error_of(excinfo) == (422, 42205)
    assert client.delete_mode(name) == "READONLY"
    client.register_schema(name, Schema(USER_PLUS_DEFAULT, "AVRO"))


def test_soft_and_permanent_deletes(client: SchemaRegistryClient) -> None:
    name = subject()
    first = client.register_schema(name, Schema(USER, "AVRO"))
    client.register_schema(name, Schema(USER_PLUS_DEFAULT, "AVRO"))
    with pytest.raises(SchemaRegistryError) as excinfo:
        client.delete_version(name, 1, permanent=True)
    assert error_of(excinfo) == (404, 40407)
    assert client.delete_version(name, 1) == 1
    with pytest.raises(SchemaRegistryError) as excinfo:
        client.delete_version(name, 1)
    assert error_of(excinfo) == (404, 40406)
    assert client.get_versions(name) == [2]
    assert client.get_versions(name, deleted=True) == [1, 2]
    assert client.get_schema(first).schema_str == compact(USER), "soft-deleted ids still resolve"
    assert client.delete_version(name, 1, permanent=True) == 1
    with pytest.raises(SchemaRegistryError) as excinfo:
        client.delete_subject(name, permanent=True)
    assert error_of(excinfo) == (404, 40405)
    assert client.delete_subject(name) == [2]
    assert name not in client.get_subjects()
    assert name in client.get_subjects(deleted=True)
    with pytest.raises(SchemaRegistryError) as excinfo:
        client.delete_subject(name)
    assert error_of(excinfo) == (404, 40404)
    assert client.delete_subject(name, permanent=True) == [2]
    assert name not in client.get_subjects(deleted=True)
    with pytest.raises(SchemaRegistryError) as excinfo:
        client.delete_subject(name)
    assert error_of(excinfo) == (404, 40401)


def test_references(client: SchemaRegistryClient) -> None:
    address_subject, order_subject = subject(), subject()
    address = avro_record("Address", ("street", "string"))
    address_id = client.register_schema(address_subject, Schema(address, "AVRO"))
    order = json.dumps(
        {
            "type": "record",
            "name": "Order",
            "namespace": "com.example",
            "fields": [{"name": "ship_to", "type": "com.example.Address"}],
        }
    )
    ref = SchemaReference("com.example.Address", address_subject, 1)
    order_id = client.register_schema(order_subject, Schema(order, "AVRO", [ref]))
    assert order_id != address_id
    fetched = client.get_schema(order_id)
    assert [(r.name, r.subject, r.version) for r in fetched.references] == [
        ("com.example.Address", address_subject, 1)
    ]
    assert client.get_referenced_by(address_subject, 1) == [order_id]
    with pytest.raises(SchemaRegistryError) as excinfo:
        client.delete_version(address_subject, 1)
    assert error_of(excinfo) == (422, 42206)
    # serdes follow the reference on both sides
    ctx = SerializationContext("orders", MessageField.VALUE)
    value = {"ship_to": {"street": "Main St 1"}}
    registry = RegistryClient(client._rest_client.base_urls[0])
    data = CfAvroSerializer(
        client,
        Schema(order, "AVRO", [ref]),
        conf={
            "auto.register.schemas": False,
            "use.latest.version": False,
            "subject.name.strategy": lambda c, r: order_subject,
        },
    )(value, ctx)
    assert AvroDeserializer(registry)(data) == value
    registry.close()
    client.delete_subject(order_subject)
    assert client.get_referenced_by(address_subject, 1) == []
    assert client.delete_version(address_subject, 1) == 1


def test_avro_serdes_interoperate_both_ways(
    client: SchemaRegistryClient, ours: RegistryClient
) -> None:
    topic = f"t{uuid.uuid4().hex[:8]}"
    ctx = SerializationContext(topic, MessageField.VALUE)
    value = {"id": 42, "name": "Ada"}
    theirs = CfAvroSerializer(client, USER)(value, ctx)
    mine = AvroSerializer(ours, USER)(value, topic)
    assert theirs == mine, "byte for byte the same record"
    assert mine is not None and mine[0] == 0
    assert AvroDeserializer(ours)(theirs) == value
    assert CfAvroDeserializer(client)(mine, ctx) == value
    # keys go to {topic}-key
    key_bytes = AvroSerializer(ours, '"string"')("k1", topic, is_key=True)
    assert f"{topic}-key" in client.get_subjects()
    assert (
        CfAvroDeserializer(client)(key_bytes, SerializationContext(topic, MessageField.KEY)) == "k1"
    )


def test_json_serdes_interoperate_both_ways(
    client: SchemaRegistryClient, ours: RegistryClient
) -> None:
    topic = f"t{uuid.uuid4().hex[:8]}"
    ctx = SerializationContext(topic, MessageField.VALUE)
    value = {"id": 7, "item": "tea"}
    theirs = CfJSONSerializer(JSON_ORDER, client)(value, ctx)
    mine = JSONSerializer(ours, JSON_ORDER)(value, topic)
    assert theirs == mine
    assert JSONDeserializer(ours)(theirs) == value
    assert CfJSONDeserializer(JSON_ORDER, schema_registry_client=client)(mine, ctx) == value
    assert client.get_latest_version(f"{topic}-value").schema.schema_type == "JSON"


def test_use_latest_and_record_name_strategies(
    client: SchemaRegistryClient, ours: RegistryClient
) -> None:
    from registry.serde import record_name_strategy, topic_record_name_strategy

    topic = f"t{uuid.uuid4().hex[:8]}"
    by_record = AvroSerializer(ours, USER, subject_name_strategy=record_name_strategy)
    by_record({"id": 1, "name": "a"}, topic)
    assert "com.example.User" in client.get_subjects()
    AvroSerializer(ours, USER, subject_name_strategy=topic_record_name_strategy)(
        {"id": 1, "name": "a"}, topic
    )
    assert f"{topic}-com.example.User" in client.get_subjects()
    client.register_schema(f"{topic}-value", Schema(USER, "AVRO"))
    latest = AvroSerializer(ours, None, use_latest=True)
    data = latest({"id": 3, "name": "c"}, topic)
    assert CfAvroDeserializer(client)(data, SerializationContext(topic, MessageField.VALUE)) == {
        "id": 3,
        "name": "c",
    }


def test_metadata_server_config_and_deleted_lookups(client: SchemaRegistryClient) -> None:
    from confluent_kafka.schema_registry import (
        ConfigCompatibilityLevel,
        Metadata,
        MetadataProperties,
        ServerConfig,
    )

    name = subject()
    metadata = Metadata(
        tags=None, properties=MetadataProperties({"owner": "payments"}), sensitive=[]
    )
    schema_id = client.register_schema(name, Schema(USER, "AVRO", metadata=metadata))
    found = client.get_latest_with_metadata(name, {"owner": "payments"})
    assert found.schema_id == schema_id
    assert found.schema.metadata is not None
    assert found.schema.metadata.properties.properties == {"owner": "payments"}

    config = client.set_config(name, ServerConfig(compatibility=ConfigCompatibilityLevel.FORWARD))
    assert config["compatibility"] == "FORWARD"
    assert client.get_config(name).compatibility_level == "FORWARD"

    client.delete_version(name, 1)
    with pytest.raises(SchemaRegistryError):
        client.lookup_schema(name, Schema(USER, "AVRO", metadata=metadata))
    found = client.lookup_schema(name, Schema(USER, "AVRO", metadata=metadata), deleted=True)
    assert (found.schema_id, found.version) == (schema_id, 1)
    assert name in client.get_subjects(deleted_only=True)
    assert name not in client.get_subjects()


def test_import_mode_through_the_client(client: SchemaRegistryClient) -> None:
    name = subject()
    assert client.update_mode(name, "IMPORT") == "IMPORT"
    sr = client._rest_client
    imported = sr.post(
        f"subjects/{name}/versions",
        body={"schema": avro_record("Imported", ("x", "int")), "id": 77_000, "version": 5},
    )
    assert imported["id"] == 77_000
    assert client.get_version(name, 5).schema_id == 77_000
    assert client.get_schema(77_000).schema_str == compact(avro_record("Imported", ("x", "int")))
    client.delete_mode(name)
