"""Protobuf masking: over generated `.proto` schemas (scalars, enums, optional and repeated
fields, nested and repeated messages, maps, a oneof; fields tagged with
`(confluent.field_meta).tags`) and values, every tagged field arrives masked as a plain model
of the rules says, every other field arrives unchanged, the framing (schema id and message
indexes) is kept, and confluent-kafka's `ProtobufDeserializer` reads the result."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer as CfDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import message_factory
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.embedded import EmbeddedCluster
from engine.types import ConsumedRecord
from registry.formats.protobuf import parse_protobuf
from registry.local_client import LocalRegistryClient
from registry.serde.protobuf import encode_indexes
from registry.serde.wire import frame
from registry.service import SchemaRegistry
from replicator.mask_rules import Action, mask_value
from replicator.masking import Masker

SALT = b"property-salt"

#: Scalar kinds: the values hypothesis draws, and the default value of the kind.
SCALARS: dict[str, tuple[st.SearchStrategy[Any], Any]] = {
    "string": (st.text(max_size=12), ""),
    "bytes": (st.binary(max_size=12), b""),
    "int32": (st.integers(-(2**31), 2**31 - 1), 0),
    "int64": (st.integers(-(2**63), 2**63 - 1), 0),
    "uint32": (st.integers(0, 2**32 - 1), 0),
    "sint64": (st.integers(-(2**63), 2**63 - 1), 0),
    "fixed64": (st.integers(0, 2**64 - 1), 0),
    "bool": (st.booleans(), False),
    "double": (st.floats(allow_nan=False), 0.0),
    "float": (st.floats(allow_nan=False, width=32), 0.0),
    "E": (st.sampled_from([0, 1, 2]), 0),
}
MAP_KEYS = {"string": st.text(max_size=8), "int64": st.integers(-(2**63), 2**63 - 1)}


@dataclass
class FieldSpec:
    """One generated field: `kind` is a scalar kind, "msg" (an `Inner`) or "map"."""

    name: str
    kind: str
    label: str  # "", "optional", "repeated" or "oneof"
    tag: str | None  # "PII" (masked), "OTHER" (not masked) or None
    map_key: str = "string"
    map_value: str = "string"  # a scalar kind or "msg"
    inner: list[FieldSpec] = field(default_factory=list)


def proto_type(spec: FieldSpec) -> str:
    if spec.kind == "map":
        value = "Inner" if spec.map_value == "msg" else spec.map_value
        return f"map<{spec.map_key}, {value}>"
    return "Inner" if spec.kind == "msg" else spec.kind


def proto_field(spec: FieldSpec, number: int) -> str:
    label = f"{spec.label} " if spec.label in ("optional", "repeated") else ""
    option = f' [(confluent.field_meta).tags = "{spec.tag}"]' if spec.tag else ""
    return f"{label}{proto_type(spec)} {spec.name} = {number}{option};"


def proto_text(fields: list[FieldSpec], inner: list[FieldSpec], decoy: bool) -> str:
    lines = ['syntax = "proto3";', "package gen;", 'import "confluent/meta.proto";']
    lines.append("enum E { E_ZERO = 0; E_ONE = 1; E_TWO = 2; }")
    if decoy:
        lines.append("message Decoy { string x = 1; }")
    lines.append("message R {")
    lines.append("  message Inner {")
    lines.extend(f"    {proto_field(f, i + 1)}" for i, f in enumerate(inner))
    lines.append("  }")
    oneof = [(i, f) for i, f in enumerate(fields) if f.label == "oneof"]
    lines.extend(f"  {proto_field(f, i + 1)}" for i, f in enumerate(fields) if f.label != "oneof")
    if oneof:
        lines.append("  oneof choice {")
        lines.extend(f"    {proto_field(f, i + 1)}" for i, f in oneof)
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


tags = st.sampled_from([None, None, "PII", "OTHER"])


@st.composite
def scalar_spec(draw: st.DrawFn, name: str, labels: list[str]) -> FieldSpec:
    return FieldSpec(
        name, draw(st.sampled_from(sorted(SCALARS))), draw(st.sampled_from(labels)), draw(tags)
    )


@st.composite
def map_spec(draw: st.DrawFn, name: str, values: list[str]) -> FieldSpec:
    return FieldSpec(
        name,
        "map",
        "",
        draw(tags),
        map_key=draw(st.sampled_from(sorted(MAP_KEYS))),
        map_value=draw(st.sampled_from(values)),
    )


@st.composite
def schemas(draw: st.DrawFn) -> tuple[list[FieldSpec], list[FieldSpec], bool]:
    inner: list[FieldSpec] = []
    for i in range(draw(st.integers(1, 4))):
        if draw(st.integers(0, 4)) == 0:
            inner.append(draw(map_spec(f"i{i}", ["string", "int64"])))
        else:
            inner.append(draw(scalar_spec(f"i{i}", ["", "optional", "repeated"])))
    fields: list[FieldSpec] = []
    for i in range(draw(st.integers(1, 6))):
        choice = draw(st.integers(0, 5))
        if choice == 0:
            fields.append(
                FieldSpec(f"f{i}", "msg", draw(st.sampled_from(["", "repeated"])), draw(tags))
            )
        elif choice == 1:
            fields.append(draw(map_spec(f"f{i}", ["string", "int64", "msg"])))
        else:
            fields.append(draw(scalar_spec(f"f{i}", ["", "optional", "repeated", "oneof"])))
    for spec in fields:
        spec.inner = inner
    return fields, inner, draw(st.booleans())


def scalar_values(kind: str) -> st.SearchStrategy[Any]:
    return SCALARS[kind][0]


@st.composite
def message_values(draw: st.DrawFn, fields: list[FieldSpec]) -> dict[str, Any]:
    """Python values of one message: None for an unset field with presence."""
    values: dict[str, Any] = {}
    oneof = [f.name for f in fields if f.label == "oneof"]
    chosen = draw(st.sampled_from([None, *oneof])) if oneof else None
    for spec in fields:
        if spec.kind == "map":
            value_strategy = (
                message_values(spec.inner)
                if spec.map_value == "msg"
                else scalar_values(spec.map_value)
            )
            values[spec.name] = draw(
                st.dictionaries(MAP_KEYS[spec.map_key], value_strategy, max_size=3)
            )
            continue
        one = message_values(spec.inner) if spec.kind == "msg" else scalar_values(spec.kind)
        if spec.label == "repeated":
            values[spec.name] = draw(st.lists(one, max_size=3))
        elif spec.label == "oneof":
            values[spec.name] = draw(one) if spec.name == chosen else None
        elif spec.label == "optional" or spec.kind == "msg":
            values[spec.name] = draw(st.none() | one)
        else:
            values[spec.name] = draw(one)
    return values


def fill(message: Message, fields: list[FieldSpec], values: dict[str, Any]) -> None:
    for spec in fields:
        value = values[spec.name]
        target = getattr(message, spec.name)
        if spec.kind == "map":
            for key, item in value.items():
                if spec.map_value == "msg":
                    fill(target[key], spec.inner, item)
                else:
                    target[key] = item
        elif spec.label == "repeated":
            for item in value:
                if spec.kind == "msg":
                    fill(target.add(), spec.inner, item)
                else:
                    target.append(item)
        elif value is not None:
            if spec.kind == "msg":
                target.SetInParent()
                fill(target, spec.inner, value)
            else:
                setattr(message, spec.name, value)


def read(message: Message, fields: list[FieldSpec]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in fields:
        value = getattr(message, spec.name)
        if spec.kind == "map":
            out[spec.name] = {
                k: read(v, spec.inner) if spec.map_value == "msg" else v for k, v in value.items()
            }
        elif spec.label == "repeated":
            out[spec.name] = [read(v, spec.inner) if spec.kind == "msg" else v for v in value]
        elif spec.kind == "msg" or spec.label in ("optional", "oneof"):
            present = message.HasField(spec.name)
            out[spec.name] = (
                (read(value, spec.inner) if spec.kind == "msg" else value) if present else None
            )
        else:
            out[spec.name] = value
    return out


# -- the model: what the rules say each field becomes
def masked_scalar(kind: str, value: Any, action: Action) -> Any:
    if kind == "E":
        return 0
    if kind == "bool":
        return False
    if kind in ("double", "float"):
        return 0.0
    return mask_value(value, action, SALT)


def masked_field(spec: FieldSpec, value: Any, action: Action) -> Any:
    if spec.kind == "map":
        if action == "redact":
            return {}
        return {
            masked_scalar(spec.map_key, k, action): (
                everything(spec.inner, v, action)
                if spec.map_value == "msg"
                else masked_scalar(spec.map_value, v, action)
            )
            for k, v in value.items()
        }
    if spec.kind == "msg":
        if action == "redact":
            return [] if spec.label == "repeated" else None
        if spec.label == "repeated":
            return [everything(spec.inner, v, action) for v in value]
        return None if value is None else everything(spec.inner, value, action)
    if spec.label == "repeated":
        return [] if action == "redact" else [masked_scalar(spec.kind, v, action) for v in value]
    if value is None or (value == SCALARS[spec.kind][1] and spec.label == ""):
        return value  # not on the wire: nothing to mask
    return masked_scalar(spec.kind, value, action)


def everything(fields: list[FieldSpec], values: dict[str, Any], action: Action) -> dict[str, Any]:
    return {s.name: masked_field(s, values[s.name], action) for s in fields}


def expected(fields: list[FieldSpec], values: dict[str, Any], action: Action) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in fields:
        value = values[spec.name]
        if spec.tag == "PII":
            out[spec.name] = masked_field(spec, value, action)
        elif spec.kind == "msg" and spec.label == "repeated":
            out[spec.name] = [expected(spec.inner, v, action) for v in value]
        elif spec.kind == "msg":
            out[spec.name] = None if value is None else expected(spec.inner, value, action)
        elif spec.kind == "map" and spec.map_value == "msg":
            out[spec.name] = {k: expected(spec.inner, v, action) for k, v in value.items()}
        else:
            out[spec.name] = value
    return out


@pytest.fixture(scope="module")
def source(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[EmbeddedCluster, SchemaRegistry]]:
    cluster = EmbeddedCluster(tmp_path_factory.mktemp("mask-pb") / "east", name="east")
    registry = SchemaRegistry(cluster).start()
    registry.set_config(None, {"compatibility": "NONE"})
    yield cluster, registry
    registry.close()
    cluster.close()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), shape=schemas(), action=st.sampled_from(["hash", "redact"]))
def test_every_tagged_protobuf_field_arrives_masked(
    source: tuple[EmbeddedCluster, SchemaRegistry],
    data: st.DataObject,
    shape: tuple[list[FieldSpec], list[FieldSpec], bool],
    action: Action,
) -> None:
    cluster, registry = source
    fields, inner, decoy = shape
    text = proto_text(fields, inner, decoy)
    schema_id = int(
        str(registry.register("t-value", {"schema": text, "schemaType": "PROTOBUF"})["id"])
    )
    descriptor = parse_protobuf(text).message_named("gen.R")
    cls = message_factory.GetMessageClass(descriptor)
    indexes = [1] if decoy else [0]
    masker = Masker({"pii": action}, LocalRegistryClient(registry), cluster, "west", salt=SALT)
    theirs = CfDeserializer(cls, {"use.deprecated.format": False})
    context = SerializationContext("east.t", MessageField.VALUE)
    for i in range(data.draw(st.integers(1, 3))):
        values = data.draw(message_values(fields))
        message = cls()
        fill(message, fields, values)
        record_bytes = frame(schema_id, encode_indexes(indexes) + message.SerializeToString())
        out = masker("east.t", ConsumedRecord("t", 0, i, 0, None, record_bytes))
        assert out is not None and out.value is not None, "dead-lettered"
        prefix = len(frame(schema_id, encode_indexes(indexes)))
        assert out.value[:prefix] == record_bytes[:prefix]
        decoded = theirs(out.value, context)
        assert read(decoded, fields) == expected(fields, read(message, fields), action)
    assert masker.dead_lettered == 0
