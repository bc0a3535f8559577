"""Avro and JSON Schema masking over generated schemas: scalars, enums, fixed, nested records
(objects), arrays, maps and nullable unions, tagged or not, at any depth. Every tagged value
arrives masked as a plain model of the rules says, every other value arrives unchanged,
nothing decodable is dead-lettered, the framing is kept, and confluent-kafka's own
`AvroDeserializer` / `JSONDeserializer` read the result, fetching the writer schema from the
registry over HTTP."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer as CfAvroDeserializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer as CfJSONDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.embedded import EmbeddedCluster
from engine.types import ConsumedRecord
from registry.local_client import LocalRegistryClient
from registry.serde.avro import AvroSerializer
from registry.serde.jsonschema import JSONSerializer
from registry.service import SchemaRegistry
from replicator.mask_rules import Action, mask_value
from replicator.masking import Masker
from streamgov.server import create_app, serve_in_thread

SALT = b"tree-property-salt"
CONTEXT = SerializationContext("east.t", MessageField.VALUE)


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[EmbeddedCluster, SchemaRegistry, SchemaRegistryClient]]:
    cluster = EmbeddedCluster(tmp_path_factory.mktemp("mask-trees") / "east", name="east")
    app = create_app(cluster)
    registry: SchemaRegistry = app.state.schema_registry
    registry.set_config(None, {"compatibility": "NONE"})
    try:
        with serve_in_thread(app) as url:
            client = SchemaRegistryClient({"url": url})
            yield cluster, registry, client
            client.close()
    finally:
        app.state.services.close()
        cluster.close()


def masked_collection(
    t: dict[str, Any], value: Any, action: Action, masked: Callable[..., Any]
) -> Any:
    """The model of a tagged array or map, the same in every format: empty under `redact`;
    under `hash` every element masked, and every map key hashed."""
    if action == "redact":
        return [] if t["kind"] == "array" else {}
    if t["kind"] == "array":
        return [masked(t["of"], v, action) for v in value]
    return {mask_value(k, "hash", SALT): masked(t["of"], v, action) for k, v in value.items()}


def walked_collection(
    t: dict[str, Any], value: Any, action: Action, expected: Callable[..., Any]
) -> Any:
    """The model of an untagged value that is not a record: arrays and maps are walked into,
    scalars kept."""
    if t["kind"] == "array":
        return [expected(t["of"], v, action) for v in value]
    if t["kind"] == "map":
        return {k: expected(t["of"], v, action) for k, v in value.items()}
    return value


def fixed_hash(value: bytes, size: int) -> bytes:
    return hmac.new(SALT, (0).to_bytes(4, "big") + value, hashlib.sha256).digest()[:size]


#: A format under test: the serializer, confluent-kafka's deserializer, the values drawn and
#: the model of what each arrives as.
Case = tuple[
    Callable[[Any, str], bytes | None],
    Callable[[bytes, SerializationContext], Any],
    st.SearchStrategy[Any],
    Callable[[dict[str, Any], Any, Action], Any],
]


def check_copies(
    cluster: EmbeddedCluster,
    registry: SchemaRegistry,
    action: Action,
    write: Callable[[Any, str], bytes | None],
    read: Callable[[bytes, SerializationContext], Any],
    values: list[Any],
    expected: list[Any],
) -> None:
    """Mask each value written by `write`; confluent-kafka's `read` must see `expected`."""
    masker = Masker({"pii": action}, LocalRegistryClient(registry), cluster, "west", salt=SALT)
    for i, (value, want) in enumerate(zip(values, expected, strict=True)):
        framed = write(value, "t")
        assert framed is not None
        out = masker("east.t", ConsumedRecord("t", 0, i, 0, None, framed))
        assert out is not None and out.value is not None, "dead-lettered"
        assert out.value[:5] == framed[:5]
        assert read(out.value, CONTEXT) == want
    assert masker.dead_lettered == 0


# -- Avro: a type is a small dict describing it; `avro_schema` writes it out
ENUM_SYMBOLS = ["RED", "GREEN", "BLUE"]
AVRO_SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "string": st.text(max_size=10),
    "long": st.integers(-(2**63), 2**63 - 1),
    "int": st.integers(-(2**31), 2**31 - 1),
    "bytes": st.binary(max_size=10),
    "boolean": st.booleans(),
    "double": st.floats(allow_nan=False),
    "enum": st.sampled_from(ENUM_SYMBOLS),
    "fixed": st.binary(min_size=4, max_size=4),
}
tags = st.sampled_from([None, None, "PII", "OTHER"])


Shape = dict[str, Any]


def shapes(
    scalar: st.SearchStrategy[Shape],
    depth: int,
    more: Callable[[st.SearchStrategy[Shape]], list[st.SearchStrategy[Shape]]],
) -> st.SearchStrategy[Shape]:
    """Type shapes up to `depth` levels: scalars, arrays and maps of shapes, and what `more`
    builds from the shapes one level down (records, unions)."""
    if depth == 0:
        return scalar
    inner = shapes(scalar, depth - 1, more)
    return st.one_of(
        scalar,
        st.builds(lambda t: {"kind": "array", "of": t}, inner),
        st.builds(lambda t: {"kind": "map", "of": t}, inner),
        *more(inner),
    )


def avro_types(depth: int) -> st.SearchStrategy[Shape]:
    scalar = st.builds(
        lambda kind, default: {"kind": kind, "default": default},
        st.sampled_from(sorted(AVRO_SCALARS)),
        st.sampled_from([None, "BLUE"]),
    )
    return shapes(
        scalar,
        depth,
        lambda inner: [
            st.builds(
                lambda t: t if t["kind"] == "nullable" else {"kind": "nullable", "of": t}, inner
            ),
            st.builds(
                lambda fields: {"kind": "record", "fields": fields},
                st.lists(st.tuples(inner, tags), min_size=1, max_size=3),
            ),
        ],
    )


def avro_schema(t: dict[str, Any], names: Iterator[int]) -> Any:
    kind = t["kind"]
    if kind == "enum":
        enum: dict[str, Any] = {"type": "enum", "name": f"E{next(names)}", "symbols": ENUM_SYMBOLS}
        if t["default"]:
            enum["default"] = t["default"]
        return enum
    if kind == "fixed":
        return {"type": "fixed", "name": f"X{next(names)}", "size": 4}
    if kind in ("array", "map"):
        key = "items" if kind == "array" else "values"
        return {"type": kind, key: avro_schema(t["of"], names)}
    if kind == "nullable":
        return ["null", avro_schema(t["of"], names)]
    if kind == "record":
        fields = []
        for i, (sub, tag) in enumerate(t["fields"]):
            field: dict[str, Any] = {"name": f"f{i}", "type": avro_schema(sub, names)}
            if tag:
                field["confluent:tags"] = [tag]
            fields.append(field)
        return {"type": "record", "name": f"R{next(names)}", "fields": fields}
    return kind


def avro_values(t: dict[str, Any]) -> st.SearchStrategy[Any]:
    kind = t["kind"]
    if kind == "array":
        return st.lists(avro_values(t["of"]), max_size=3)
    if kind == "map":
        return st.dictionaries(st.text(max_size=6), avro_values(t["of"]), max_size=3)
    if kind == "nullable":
        return st.none() | avro_values(t["of"])
    if kind == "record":
        return st.fixed_dictionaries(
            {f"f{i}": avro_values(sub) for i, (sub, _) in enumerate(t["fields"])}
        )
    return AVRO_SCALARS[kind]


def avro_masked(t: dict[str, Any], value: Any, action: Action) -> Any:
    """The model: what a tagged value of type `t` becomes."""
    kind = t["kind"]
    if kind == "nullable":
        return None if value is None or action == "redact" else avro_masked(t["of"], value, action)
    if kind == "record":
        return {
            f"f{i}": avro_masked(sub, value[f"f{i}"], action)
            for i, (sub, _) in enumerate(t["fields"])
        }
    if kind in ("array", "map"):
        return masked_collection(t, value, action, avro_masked)
    if kind == "enum":
        return t["default"] or ENUM_SYMBOLS[0]
    if kind == "fixed":
        return bytes(4) if action == "redact" else fixed_hash(value, 4)
    return mask_value(value, action, SALT)


def avro_expected(t: dict[str, Any], value: Any, action: Action) -> Any:
    """The model: an untagged value of type `t` with the tagged values below it masked."""
    kind = t["kind"]
    if kind == "nullable":
        return None if value is None else avro_expected(t["of"], value, action)
    if kind == "record":
        out = {}
        for i, (sub, tag) in enumerate(t["fields"]):
            name = f"f{i}"
            masked = tag == "PII"
            out[name] = (avro_masked if masked else avro_expected)(sub, value[name], action)
        return out
    return walked_collection(t, value, action, avro_expected)


avro_roots = st.builds(
    lambda fields: {"kind": "record", "fields": fields},
    st.lists(st.tuples(avro_types(2), tags), min_size=1, max_size=4),
)


def avro_case(
    shape: dict[str, Any], registry: SchemaRegistry, theirs: SchemaRegistryClient
) -> Case:
    schema = json.dumps(avro_schema(shape, itertools.count()))
    write = AvroSerializer(LocalRegistryClient(registry), schema)
    return write, CfAvroDeserializer(theirs), avro_values(shape), avro_expected


# -- JSON Schema
JSON_SCALARS: dict[str, tuple[dict[str, Any], st.SearchStrategy[Any]]] = {
    "string": ({"type": "string"}, st.text(max_size=10)),
    "integer": ({"type": "integer"}, st.integers(-(2**53), 2**53)),
    "number": ({"type": "number"}, st.floats(allow_nan=False, allow_infinity=False)),
    "boolean": ({"type": "boolean"}, st.booleans()),
    "enum": ({"enum": ["RED", "GREEN", "BLUE"]}, st.sampled_from(["RED", "GREEN", "BLUE"])),
    "null": ({"type": "null"}, st.none()),
}


def json_types(depth: int) -> st.SearchStrategy[Shape]:
    scalar = st.builds(lambda kind: {"kind": kind}, st.sampled_from(sorted(JSON_SCALARS)))
    return shapes(
        scalar,
        depth,
        lambda inner: [
            st.builds(
                lambda props, ref: {"kind": "object", "props": props, "ref": ref},
                st.lists(st.tuples(inner, tags, st.booleans()), min_size=1, max_size=3),
                st.booleans(),
            )
        ],
    )


def json_schema(t: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    kind = t["kind"]
    if kind == "array":
        return {"type": "array", "items": json_schema(t["of"], defs)}
    if kind == "map":
        return {"type": "object", "additionalProperties": json_schema(t["of"], defs)}
    if kind == "object":
        properties: dict[str, Any] = {}
        for i, (sub, tag, _) in enumerate(t["props"]):
            properties[f"p{i}"] = json_schema(sub, defs)
            if tag:
                properties[f"p{i}"]["confluent:tags"] = [tag]
        schema = {
            "type": "object",
            "properties": properties,
            "required": [f"p{i}" for i, (_, _, req) in enumerate(t["props"]) if req],
            "additionalProperties": False,
        }
        if not t["ref"]:
            return schema
        name = f"D{len(defs)}"
        defs[name] = schema
        return {"$ref": f"#/definitions/{name}"}
    return dict(JSON_SCALARS[kind][0])


@st.composite
def json_values(draw: st.DrawFn, t: dict[str, Any]) -> Any:
    kind = t["kind"]
    if kind == "array":
        return draw(st.lists(json_values(t["of"]), max_size=3))
    if kind == "map":
        return draw(st.dictionaries(st.text(max_size=6), json_values(t["of"]), max_size=3))
    if kind == "object":
        return {
            f"p{i}": draw(json_values(sub))
            for i, (sub, _, required) in enumerate(t["props"])
            if required or draw(st.booleans())
        }
    return draw(JSON_SCALARS[kind][1])


def json_masked(t: dict[str, Any], value: Any, action: Action) -> Any:
    kind = t["kind"]
    if kind == "object":
        required = {f"p{i}" for i, (_, _, req) in enumerate(t["props"]) if req}
        return {
            name: json_masked(t["props"][int(name[1:])][0], v, action)
            for name, v in value.items()
            if action == "hash" or name in required
        }
    if kind in ("array", "map"):
        return masked_collection(t, value, action, json_masked)
    if kind == "enum":
        return "RED"
    return mask_value(value, action, SALT)


def json_expected(t: dict[str, Any], value: Any, action: Action) -> Any:
    kind = t["kind"]
    if kind == "object":
        out = {}
        for name, v in value.items():
            sub, tag, _ = t["props"][int(name[1:])]
            out[name] = (json_masked if tag == "PII" else json_expected)(sub, v, action)
        return out
    return walked_collection(t, value, action, json_expected)


json_roots = st.builds(
    lambda props: {"kind": "object", "props": props, "ref": False},
    st.lists(st.tuples(json_types(2), tags, st.booleans()), min_size=1, max_size=4),
)


def json_case(
    shape: dict[str, Any], registry: SchemaRegistry, theirs: SchemaRegistryClient
) -> Case:
    defs: dict[str, Any] = {}
    document = json_schema(shape, defs)
    document["$schema"] = "http://json-schema.org/draft-07/schema#"
    document["definitions"] = defs
    write = JSONSerializer(LocalRegistryClient(registry), json.dumps(document))
    read = CfJSONDeserializer(None, schema_registry_client=theirs)
    return write, read, json_values(shape), json_expected


#: Per format: the generated schema shapes, and what writes, reads and models their values.
CASES: dict[str, tuple[st.SearchStrategy[dict[str, Any]], Callable[..., Case]]] = {
    "avro": (avro_roots, avro_case),
    "json": (json_roots, json_case),
}


@pytest.mark.parametrize("fmt", sorted(CASES))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), action=st.sampled_from(["hash", "redact"]))
def test_every_tagged_value_arrives_masked(
    served: tuple[EmbeddedCluster, SchemaRegistry, SchemaRegistryClient],
    fmt: str,
    data: st.DataObject,
    action: Action,
) -> None:
    cluster, registry, theirs = served
    roots, case = CASES[fmt]
    shape = data.draw(roots)
    write, read, values, model = case(shape, registry, theirs)
    drawn = data.draw(st.lists(values, min_size=1, max_size=3))
    expected = [model(shape, v, action) for v in drawn]
    check_copies(cluster, registry, action, write, read, drawn, expected)
