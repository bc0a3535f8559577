"""Masked copies: no field tagged with a masked tag (schema tags or catalog field tags) ever
reaches the target unmasked; records that cannot be masked are dead-lettered on the source.
The properties over generated Avro and JSON schemas are in `test_masking_trees`."""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fastavro
import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog.service import Catalog
from engine.embedded import EmbeddedCluster
from engine.types import ConsumedRecord, Record
from registry.formats.base import SchemaReference
from registry.local_client import LocalRegistryClient
from registry.serde.avro import AvroDeserializer
from registry.service import SchemaRegistry
from replicator.flow import Flow, FlowError
from replicator.mask_rules import mask_value
from replicator.masking import Masker, dead_letter_topic
from replicator.worker import Replicator

SALT = b"avro-property-salt"


def framed(schema_id: int, schema: dict[str, Any], value: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(schema), value)
    return struct.pack(">bI", 0, schema_id) + out.getvalue()


@pytest.fixture(scope="module")
def source(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[EmbeddedCluster, SchemaRegistry]]:
    cluster = EmbeddedCluster(tmp_path_factory.mktemp("mask") / "east", name="east")
    registry = SchemaRegistry(cluster).start()
    yield cluster, registry
    registry.close()
    cluster.close()


def test_catalog_tags_mask_and_undecodable_records_are_dead_lettered(tmp_path: Path) -> None:
    east = EmbeddedCluster(tmp_path / "east", name="east")
    west = EmbeddedCluster(tmp_path / "west", name="west")
    registry = SchemaRegistry(east).start()
    schema = {
        "type": "record",
        "name": "User",
        "fields": [{"name": "id", "type": "long"}, {"name": "email", "type": "string"}],
    }
    schema_id = int(str(registry.register("users-value", {"schema": json.dumps(schema)})["id"]))
    registry.close()
    catalog = Catalog(east).start()
    catalog.tag("users", owner="crm", field_tags={"email": ["pii"]})
    catalog.close()
    east.create_topic("users", 1)
    east.produce(
        "users",
        [
            Record(framed(schema_id, schema, {"id": 1, "email": "ann@example.com"})),
            Record(b"not framed: ann@example.com"),
            Record(framed(schema_id, schema, {"id": 2, "email": "bob@example.com"})),
        ],
    )
    replicator = Replicator(Flow("east", "west", mask={"pii": "redact"}), east, west)
    replicator.run_once()
    replicator.close()
    copied = west.fetch("east.users", 0, 0, max_records=10)
    parsed = fastavro.parse_schema(schema)
    decoded = [
        fastavro.schemaless_reader(io.BytesIO((r.value or b"")[5:]), parsed, None) for r in copied
    ]
    assert decoded == [{"id": 1, "email": ""}, {"id": 2, "email": ""}]
    assert all(b"example.com" not in (r.value or b"") for r in copied)
    dead = east.fetch(dead_letter_topic("west"), 0, 0, max_records=10)
    assert [r.value for r in dead] == [b"not framed: ann@example.com"]
    assert dict(dead[0].headers)["streamgov.dlq.offset"] == b"1"
    east.close()
    west.close()


values = st.text(max_size=20) | st.binary(max_size=20) | st.integers(-(2**63), 2**63 - 1)


@given(value=values, salt=st.binary(min_size=1, max_size=32), other=st.binary(min_size=1))
def test_salted_hash_is_stable_for_one_salt_and_differs_by_salt(
    value: str | bytes | int, salt: bytes, other: bytes
) -> None:
    first = mask_value(value, "hash", salt)
    assert first == mask_value(value, "hash", salt)
    if other != salt:
        assert first != mask_value(value, "hash", other)
    assert first != value


def test_hash_without_a_salt_is_refused() -> None:
    with pytest.raises(FlowError, match="salt"):
        Flow("east", "west", mask={"pii": "hash"})
    assert Flow("east", "west", mask={"pii": "redact"}).mask_salt == ""
    flow = Flow("east", "west", mask={"pii": "hash"}, mask_salt="s3cret-salt")
    assert "s3cret-salt" not in repr(flow)


def test_json_schema_values_are_masked_through_the_registry_serdes(tmp_path: Path) -> None:
    east = EmbeddedCluster(tmp_path / "east", name="east")
    registry = SchemaRegistry(east).start()
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "email": {"type": "string", "maxLength": 80, "confluent:tags": ["PII"]},
            "code": {"type": "string", "maxLength": 4, "confluent:tags": ["PII"]},
        },
    }
    body = {"schema": json.dumps(schema), "schemaType": "JSON"}
    schema_id = int(str(registry.register("users-value", body)["id"]))
    masker = Masker({"pii": "hash"}, LocalRegistryClient(registry), east, "west", salt=SALT)
    header = struct.pack(">bI", 0, schema_id)
    good = header + json.dumps({"id": 7, "email": "ann@example.com"}).encode()
    out = masker("east.users", ConsumedRecord("users", 0, 0, 0, None, good))
    assert out is not None and out.value is not None and out.value[:5] == header
    assert json.loads(out.value[5:]) == {
        "id": 7,
        "email": mask_value("ann@example.com", "hash", SALT),
    }
    # the hash of a 4-character code is longer than the schema allows: dead-lettered
    short = header + json.dumps({"id": 8, "code": "ab12"}).encode()
    assert masker("east.users", ConsumedRecord("users", 0, 1, 0, None, short)) is None
    dead = east.fetch(dead_letter_topic("west"), 0, 0, max_records=10)
    assert [r.value for r in dead] == [short]
    assert b"does not encode" in dict(dead[0].headers)["streamgov.dlq.reason"]
    registry.close()
    east.close()


def test_the_salt_comes_from_the_variable_a_flow_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from registry.check.yamlfile import ConfigFileError
    from streamgov.replication import project_flows

    config = tmp_path / "streamgov.yaml"
    config.write_text(
        "replication:\n  flows:\n"
        "    - {source: a, target: b, mask: {pii: hash}, mask_salt_env: A_B_SALT}\n"
        "    - {source: a, target: c, mask: {pii: hash}}\n"
    )
    monkeypatch.delenv("STREAMGOV_MASK_SALT", raising=False)
    monkeypatch.setenv("A_B_SALT", "salt-of-a-to-b")
    with pytest.raises(ConfigFileError) as caught:
        project_flows(config)
    assert "streamgov.yaml:4:" in str(caught.value) and "salt" in str(caught.value)
    monkeypatch.setenv("STREAMGOV_MASK_SALT", "default-salt")
    first, second = (spec.flow for spec, _, _ in project_flows(config))  # type: ignore[attr-defined]
    assert (first.mask_salt, second.mask_salt) == ("salt-of-a-to-b", "default-salt")


def test_replicate_run_hashes_with_the_salt_of_the_named_variable(
    streamgov_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from streamgov.cli import cli
    from streamgov.config import embedded_cluster_path

    east = EmbeddedCluster(embedded_cluster_path("east"), name="east")
    registry = SchemaRegistry(east).start()
    schema = {
        "type": "record",
        "name": "User",
        "fields": [{"name": "email", "type": "string", "confluent:tags": ["PII"]}],
    }
    schema_id = int(str(registry.register("users-value", {"schema": json.dumps(schema)})["id"]))
    registry.close()
    east.create_topic("users", 1)
    east.produce("users", [Record(framed(schema_id, schema, {"email": "ann@example.com"}))])
    east.close()
    args = ["replicate", "run", "-s", "east", "-t", "west", "--mask", "pii=hash", "--once"]
    monkeypatch.delenv("STREAMGOV_MASK_SALT", raising=False)
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code != 0 and "salt" in refused.output
    assert "Traceback" not in refused.output
    monkeypatch.setenv("EAST_WEST_SALT", "cli-salt")
    done = CliRunner().invoke(cli, [*args, "--mask-salt-env", "EAST_WEST_SALT"])
    assert done.exit_code == 0, done.output
    assert "cli-salt" not in done.output
    west = EmbeddedCluster(embedded_cluster_path("west"), name="west")
    (copied,) = west.fetch("east.users", 0, 0, max_records=10)
    west.close()
    value = fastavro.schemaless_reader(
        io.BytesIO((copied.value or b"")[5:]), fastavro.parse_schema(schema), None
    )
    assert value == {"email": mask_value("ann@example.com", "hash", b"cli-salt")}


def masker_over(tmp_path: Path, action: str) -> tuple[EmbeddedCluster, SchemaRegistry, Masker]:
    east = EmbeddedCluster(tmp_path / "east", name="east")
    registry = SchemaRegistry(east).start()
    registry.set_config(None, {"compatibility": "NONE"})
    masker = Masker({"pii": action}, LocalRegistryClient(registry), east, "west", salt=SALT)  # type: ignore[dict-item]
    return east, registry, masker


LINKED = {
    "type": "record",
    "name": "Order",
    "fields": [
        {
            "name": "status",
            "type": {"type": "enum", "name": "S", "symbols": ["NEW", "PAID"], "default": "PAID"},
            "confluent:tags": ["PII"],
        },
        {
            "name": "tier",
            "type": {"type": "enum", "name": "T", "symbols": ["GOLD", "TIN"]},
            "confluent:tags": ["PII"],
        },
        {
            "name": "card",
            "type": {"type": "fixed", "name": "Card", "size": 40},
            "confluent:tags": ["PII"],
        },
        {"name": "born", "type": {"type": "int", "logicalType": "date"}, "confluent:tags": ["PII"]},
        {
            "name": "ref",
            "type": {"type": "string", "logicalType": "uuid"},
            "confluent:tags": ["PII"],
        },
        {"name": "either", "type": ["long", "string"], "confluent:tags": ["PII"]},
        {
            "name": "chain",
            "type": {
                "type": "record",
                "name": "Node",
                "fields": [
                    {"name": "label", "type": "string", "confluent:tags": ["PII"]},
                    {"name": "next", "type": ["null", "Node"]},
                ],
            },
        },
    ],
}


@pytest.mark.parametrize("action", ["hash", "redact"])
def test_avro_enums_fixed_logical_types_unions_and_recursive_records(
    tmp_path: Path, action: str
) -> None:
    import datetime
    import uuid

    from registry.serde.avro import AvroSerializer

    east, registry, masker = masker_over(tmp_path, action)
    write = AvroSerializer(LocalRegistryClient(registry), json.dumps(LINKED))
    ref = uuid.UUID(int=12345)
    value = {
        "status": "NEW",
        "tier": "TIN",
        "card": b"4" * 40,
        "born": datetime.date(1990, 5, 17),
        "ref": ref,
        "either": "text",
        "chain": {"label": "a", "next": {"label": "b", "next": {"label": "c", "next": None}}},
    }
    framed_value = write(value, "t")
    assert framed_value is not None
    out = masker("east.t", ConsumedRecord("t", 0, 0, 0, None, framed_value))
    assert out is not None and out.value is not None, "dead-lettered"
    decoded: dict[str, Any] = fastavro.schemaless_reader(  # type: ignore[assignment]
        io.BytesIO(out.value[5:]), fastavro.parse_schema(LINKED), None
    )
    assert decoded["status"] == "PAID"  # the enum's declared default
    assert decoded["tier"] == "GOLD"  # no default: the first symbol
    assert len(decoded["card"]) == 40 and decoded["card"] != value["card"]
    assert decoded["born"] == datetime.date(1970, 1, 1)
    assert decoded["either"] == mask_value("text", action, SALT)  # type: ignore[arg-type]
    labels = []
    node = decoded["chain"]
    while node is not None:
        labels.append(node["label"])
        node = node["next"]
    assert labels == [mask_value(x, action, SALT) for x in "abc"]  # type: ignore[arg-type]
    if action == "redact":
        assert decoded["card"] == bytes(40) and decoded["ref"] == uuid.UUID(int=0)
    else:
        assert decoded["ref"] not in (ref, uuid.UUID(int=0))
    assert masker.dead_lettered == 0
    registry.close()
    east.close()


CONSTRAINED = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "profile": {
            "confluent:tags": ["PII"],
            "$ref": "#/definitions/Profile",
        },
    },
    "definitions": {
        "Profile": {
            "type": "object",
            "required": ["name", "age", "tags", "level", "kind"],
            "properties": {
                "name": {"type": "string", "minLength": 2},
                "age": {"type": "integer", "minimum": 18, "multipleOf": 5},
                "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "level": {"type": "number", "minimum": 0.25, "maximum": 1},
                "kind": {"enum": ["basic", "pro"]},
                "note": {"type": "string"},
            },
        }
    },
}


def test_json_redact_keeps_required_properties_and_meets_constraints(tmp_path: Path) -> None:
    east, registry, masker = masker_over(tmp_path, "redact")
    body = {"schema": json.dumps(CONSTRAINED), "schemaType": "JSON"}
    header = struct.pack(">bI", 0, int(str(registry.register("t-value", body)["id"])))
    profile = {"name": "Ann", "age": 40, "tags": ["x", "y"], "kind": "pro", "note": "n"}
    good = header + json.dumps({"id": 7, "profile": {**profile, "level": 0.5}}).encode()
    out = masker("east.t", ConsumedRecord("t", 0, 0, 0, None, good))
    assert out is not None and out.value is not None
    assert json.loads(out.value[5:]) == {
        "id": 7,
        "profile": {"name": "**", "age": 20, "tags": [""], "kind": "basic", "level": 0.25},
    }
    # a pattern no redacted value is known to meet: dead-lettered, saying why
    coded = {
        "type": "object",
        "properties": {
            "code": {"type": "string", "pattern": "^[A-Z]{3}$", "confluent:tags": ["PII"]}
        },
    }
    body = {"schema": json.dumps(coded), "schemaType": "JSON"}
    header = struct.pack(">bI", 0, int(str(registry.register("c-value", body)["id"])))
    refused = header + json.dumps({"code": "ABC"}).encode()
    assert masker("east.c", ConsumedRecord("c", 0, 0, 0, None, refused)) is None
    (dead,) = east.fetch(dead_letter_topic("west"), 0, 0, max_records=10)
    assert dead.value == refused
    reason = dict(dead.headers)["streamgov.dlq.reason"].decode()
    assert "does not encode" in reason and "does not match" in reason, reason
    registry.close()
    east.close()


def test_tags_in_referenced_schemas_and_catalog_paths_through_maps_are_masked(
    tmp_path: Path,
) -> None:
    from registry.serde.avro import AvroSerializer
    from registry.serde.jsonschema import JSONSerializer

    east, registry, masker = masker_over(tmp_path, "hash")
    masker.declared = lambda _topic: {"contacts.city": ("pii",)}  # a catalog path
    contact = {
        "type": "record",
        "name": "Contact",
        "namespace": "common",
        "fields": [
            {"name": "phone", "type": "string", "confluent:tags": ["PII"]},
            {"name": "city", "type": "string"},
        ],
    }
    registry.register("contact", {"schema": json.dumps(contact)})
    customer = {
        "type": "record",
        "name": "Customer",
        "fields": [{"name": "contacts", "type": {"type": "map", "values": "common.Contact"}}],
    }
    reference = [{"name": "common.Contact", "subject": "contact", "version": 1}]
    registry.register("t-value", {"schema": json.dumps(customer), "references": reference})
    local = LocalRegistryClient(registry)
    refs = [SchemaReference("common.Contact", "contact", 1)]
    write = AvroSerializer(local, json.dumps(customer), references=refs, auto_register=False)
    framed_value = write({"contacts": {"home": {"phone": "555-1", "city": "Oslo"}}}, "t")
    assert framed_value is not None
    out = masker("east.t", ConsumedRecord("t", 0, 0, 0, None, framed_value))
    assert out is not None and out.value is not None
    decoded = AvroDeserializer(local)(out.value)
    assert decoded == {
        "contacts": {
            "home": {
                "phone": mask_value("555-1", "hash", SALT),
                "city": mask_value("Oslo", "hash", SALT),
            }
        }
    }

    address = {
        "type": "object",
        "properties": {"street": {"type": "string", "confluent:tags": ["PII"]}},
    }
    registry.register("address", {"schema": json.dumps(address), "schemaType": "JSON"})
    person = {
        "type": "object",
        "properties": {
            "homes": {"type": "array", "items": {"$ref": "address.json"}},
            "name": {"type": "string"},
        },
    }
    reference = [{"name": "address.json", "subject": "address", "version": 1}]
    body = {"schema": json.dumps(person), "schemaType": "JSON", "references": reference}
    registry.register("p-value", body)
    write_json = JSONSerializer(
        local,
        json.dumps(person),
        references=[SchemaReference("address.json", "address", 1)],
        auto_register=False,
    )
    framed_person = write_json({"homes": [{"street": "Main St 1"}], "name": "Ann"}, "p")
    assert framed_person is not None
    out = masker("east.p", ConsumedRecord("p", 0, 0, 0, None, framed_person))
    assert out is not None and out.value is not None
    assert json.loads(out.value[5:]) == {
        "homes": [{"street": mask_value("Main St 1", "hash", SALT)}],
        "name": "Ann",
    }
    assert masker.dead_lettered == 0
    registry.close()
    east.close()


def test_a_value_nested_too_deeply_is_dead_lettered_not_raised(tmp_path: Path) -> None:
    east, registry, masker = masker_over(tmp_path, "redact")
    schema = {"type": "object", "properties": {"a": {"type": "string", "confluent:tags": ["PII"]}}}
    body = {"schema": json.dumps(schema), "schemaType": "JSON"}
    header = struct.pack(">bI", 0, int(str(registry.register("t-value", body)["id"])))
    for depth in (5_000, 100_000):
        deep = header + b'{"a": "x", "b": ' + b"[" * depth + b"]" * depth + b"}"
        assert masker("east.t", ConsumedRecord("t", 0, 0, 0, None, deep)) is None
    reasons = [
        dict(r.headers)["streamgov.dlq.reason"]
        for r in east.fetch(dead_letter_topic("west"), 0, 0, max_records=10)
    ]
    assert len(reasons) == 2 and all(b"too deeply" in r for r in reasons), reasons
    registry.close()
    east.close()
