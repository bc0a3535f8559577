"""Protobuf through confluent-kafka's own SchemaRegistryClient against a running server."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import (
    ConfigCompatibilityLevel,
    Schema,
    SchemaReference,
    SchemaRegistryClient,
    SchemaRegistryError,
    ServerConfig,
)
from google.protobuf import descriptor_pb2

from tests.registry.protobuf_samples import MONEY, ORDER, order_schema
from tests.registry.registry_server import registry_in_thread


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SchemaRegistryClient]:
    with registry_in_thread(Path(tmp_path_factory.mktemp("pbreg")), "pbreg") as url:
        sr = SchemaRegistryClient({"url": url})
        yield sr
        sr.close()


def subject() -> str:
    return f"s-{uuid.uuid4().hex[:10]}"


def protobuf(text: str, *refs: SchemaReference) -> Schema:
    return Schema(text, "PROTOBUF", list(refs))


def register_money(client: SchemaRegistryClient) -> SchemaReference:
    name = f"money-{uuid.uuid4().hex[:6]}"
    client.register_schema(name, protobuf(MONEY))
    return SchemaReference("common/money.proto", name, 1)


def test_register_with_a_reference_then_look_it_up(client: SchemaRegistryClient) -> None:
    money = register_money(client)
    name = subject()
    schema_id = client.register_schema(name, protobuf(ORDER, money))
    found = client.lookup_schema(name, protobuf(ORDER, money))
    assert (found.schema_id, found.version) == (schema_id, 1)
    stored = client.get_schema(schema_id)
    assert stored.schema_type == "PROTOBUF"
    assert stored.schema_str == order_schema().canonical_string()
    assert [ref.name for ref in stored.references] == ["common/money.proto"]
    assert "PROTOBUF" in client.get_schema_types()


def test_respellings_and_the_base64_descriptor_get_one_id(client: SchemaRegistryClient) -> None:
    money = register_money(client)
    name = subject()
    schema_id = client.register_schema(name, protobuf(ORDER, money))
    respelled = ORDER.replace("  ", "    ").replace("// An order as the shop writes it.", "")
    assert client.register_schema(name, protobuf(respelled, money)) == schema_id
    serialized = order_schema().serialized()
    assert client.register_schema(name, protobuf(serialized, money)) == schema_id
    assert client.get_versions(name) == [1]


def test_format_serialized_answers_the_descriptor(client: SchemaRegistryClient) -> None:
    money = register_money(client)
    name = subject()
    schema_id = client.register_schema(name, protobuf(ORDER, money))
    answer = client.get_schema(schema_id, fmt="serialized")
    proto = descriptor_pb2.FileDescriptorProto.FromString(base64.b64decode(answer.schema_str))
    assert [m.name for m in proto.message_type] == ["Order", "Refund"]
    assert list(proto.dependency) == ["common/money.proto", "google/protobuf/timestamp.proto"]
    version = client.get_version(name, 1, fmt="serialized")
    assert version.schema.schema_str == answer.schema_str


def test_an_incompatible_change_is_refused_with_its_rule(client: SchemaRegistryClient) -> None:
    name = subject()
    client.set_config(name, ServerConfig(compatibility=ConfigCompatibilityLevel.BACKWARD))
    client.register_schema(name, protobuf('syntax = "proto3";\nmessage M { int32 a = 1; }'))
    changed = protobuf('syntax = "proto3";\nmessage M { string a = 1; }')
    assert not client.test_compatibility(name, changed)
    with pytest.raises(SchemaRegistryError) as error:
        client.register_schema(name, changed)
    assert error.value.error_code == 40901
    assert "FIELD_SCALAR_KIND_CHANGED" in error.value.error_message
    compatible = protobuf('syntax = "proto3";\nmessage M { int64 a = 1; string b = 2; }')
    assert client.test_compatibility(name, compatible)


def test_an_invalid_schema_names_line_and_column(client: SchemaRegistryClient) -> None:
    with pytest.raises(SchemaRegistryError) as error:
        client.register_schema(subject(), protobuf('syntax = "proto3";\nmessage M { int32 a = 1 }'))
    assert error.value.error_code == 42201
    assert "line 2, column 25" in error.value.error_message


def test_an_import_without_its_reference_is_refused(client: SchemaRegistryClient) -> None:
    with pytest.raises(SchemaRegistryError) as error:
        client.register_schema(subject(), protobuf(ORDER))
    assert error.value.error_code == 42201
    assert "common/money.proto" in error.value.error_message
