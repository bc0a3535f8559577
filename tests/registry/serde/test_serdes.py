"""Our serdes against a running registry: wire format, subject strategies, and clear errors."""

from __future__ import annotations

import io
import json
import struct
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastavro import parse_schema, schemaless_writer

from engine.embedded import EmbeddedCluster
from registry.client import RegistryClient
from registry.serde import (
    AvroDeserializer,
    AvroSerializer,
    JSONDeserializer,
    JSONSerializer,
    SerdeError,
    frame,
    record_name_strategy,
    topic_name_strategy,
    topic_record_name_strategy,
    unframe,
)
from streamgov.server import create_app
from tests.registry.registry_server import serve_in_thread

POINT = json.dumps(
    {
        "type": "record",
        "name": "Point",
        "namespace": "geo",
        "fields": [{"name": "x", "type": "double"}, {"name": "label", "type": "string"}],
    }
)
JSON_POINT = json.dumps(
    {
        "title": "Point",
        "type": "object",
        "properties": {"x": {"type": "number"}},
        "required": ["x"],
    }
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryClient]:
    cluster = EmbeddedCluster(Path(tmp_path_factory.mktemp("serde")), name="serde")
    app = create_app(cluster)
    with serve_in_thread(app) as url, RegistryClient(url) as registry:
        yield registry
    app.state.services.close()
    cluster.close()


def topic() -> str:
    return f"t{uuid.uuid4().hex[:8]}"


def test_wire_format() -> None:
    assert frame(258, b"body") == b"\x00\x00\x00\x01\x02body"
    schema_id, body = unframe(b"\x00\x00\x00\x01\x02body")
    assert (schema_id, bytes(body)) == (258, b"body")
    with pytest.raises(SerdeError, match="shorter"):
        unframe(b"\x00\x00")
    with pytest.raises(SerdeError, match="magic byte 1"):
        unframe(b"\x01\x00\x00\x00\x01x")
    with pytest.raises(SerdeError):
        frame(-1, b"")


def test_subject_name_strategies() -> None:
    assert topic_name_strategy("orders", False, "x.Y") == "orders-value"
    assert topic_name_strategy("orders", True, None) == "orders-key"
    assert record_name_strategy("orders", False, "x.Y") == "x.Y"
    assert topic_record_name_strategy("orders", False, "x.Y") == "orders-x.Y"
    with pytest.raises(SerdeError, match="named schema"):
        record_name_strategy("orders", False, None)


def test_avro_round_trip_and_exact_bytes(client: RegistryClient) -> None:
    name = topic()
    serializer = AvroSerializer(client, POINT)
    value = {"x": 1.5, "label": "a"}
    data = serializer(value, name)
    assert data is not None
    schema_id = client.get_latest(f"{name}-value").schema_id
    expected = io.BytesIO()
    expected.write(b"\x00" + struct.pack(">I", schema_id))
    schemaless_writer(expected, parse_schema(json.loads(POINT)), value)
    assert data == expected.getvalue()
    assert AvroDeserializer(client)(data) == value
    assert serializer(None, name) is None
    assert AvroDeserializer(client)(None) is None
    # an int where a double is declared takes fastavro's path and gives its bytes
    assert AvroDeserializer(client)(serializer({"x": 2, "label": "b"}, name)) == {
        "x": 2.0,
        "label": "b",
    }


def test_avro_reader_schema_projection(client: RegistryClient) -> None:
    name = topic()
    data = AvroSerializer(client, POINT)({"x": 1.0, "label": "l"}, name)
    reader = json.dumps(
        {
            "type": "record",
            "name": "Point",
            "namespace": "geo",
            "fields": [
                {"name": "x", "type": "double"},
                {"name": "y", "type": "double", "default": 0.0},
            ],
        }
    )
    assert AvroDeserializer(client, reader)(data) == {"x": 1.0, "y": 0.0}


def test_avro_errors_are_clear(client: RegistryClient) -> None:
    name = topic()
    serializer = AvroSerializer(client, POINT)
    with pytest.raises(SerdeError, match="does not match the Avro schema"):
        serializer({"x": "not a number", "label": "a"}, name)
    with pytest.raises(SerdeError, match="cannot fetch writer schema"):
        AvroDeserializer(client)(frame(999_999, b"\x00"))
    good = serializer({"x": 1.0, "label": "abc"}, name)
    assert good is not None
    with pytest.raises(SerdeError, match="not valid Avro"):
        AvroDeserializer(client)(good[:-2])
    with pytest.raises(SerdeError, match="no schema for subject"):
        AvroSerializer(client, POINT, auto_register=False)({"x": 1.0, "label": "a"}, topic())
    with pytest.raises(SerdeError, match="no schema for subject"):
        AvroSerializer(client, use_latest=True)({"x": 1.0, "label": "a"}, topic())
    with pytest.raises(SerdeError, match="give a schema"):
        AvroSerializer(client)
    with pytest.raises(SerdeError, match="invalid Avro schema"):
        AvroSerializer(client, '{"type": "record"}')


def test_lookup_without_auto_register(client: RegistryClient) -> None:
    name = topic()
    schema_id = client.register(f"{name}-value", POINT)
    data = AvroSerializer(client, POINT, auto_register=False)({"x": 0.0, "label": ""}, name)
    assert data is not None and unframe(data)[0] == schema_id


def test_json_round_trip_and_validation(client: RegistryClient) -> None:
    name = topic()
    serializer = JSONSerializer(client, JSON_POINT)
    data = serializer({"x": 1, "note": "é"}, name)
    assert data is not None
    assert bytes(unframe(data)[1]) == '{"x":1,"note":"é"}'.encode()
    assert JSONDeserializer(client)(data) == {"x": 1, "note": "é"}
    with pytest.raises(SerdeError, match="does not match the JSON schema at /x"):
        serializer({"x": "one"}, name)
    bad = frame(unframe(data)[0], b'{"y": 1}')
    with pytest.raises(SerdeError, match="required"):
        JSONDeserializer(client)(bad)
    assert JSONDeserializer(client, validate=False)(bad) == {"y": 1}
    with pytest.raises(SerdeError, match="not valid JSON"):
        JSONDeserializer(client)(frame(unframe(data)[0], b"{nope"))
    JSONSerializer(client, JSON_POINT, subject_name_strategy=record_name_strategy)({"x": 1}, name)
    assert "Point" in client.subjects()
