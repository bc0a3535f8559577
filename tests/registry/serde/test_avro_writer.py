"""The compiled Avro encoder writes exactly what fastavro writes, for every value it accepts,
and refuses (so fastavro decides) every value it does not."""

from __future__ import annotations

import io
import json
import random
from typing import Any

from fastavro import parse_schema, schemaless_writer
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.serde.avro_writer import ShapeMismatchError, compile_writer
from tests.registry.strategies import avro_schemas

PRIMITIVE_VALUES = {
    "null": lambda r: None,
    "boolean": lambda r: r.random() < 0.5,
    "int": lambda r: r.randint(-(2**31), 2**31 - 1),
    "long": lambda r: (
        r.choice([0, -1, 63, -64, 64, 1023, -1025, 2**63 - 1, -(2**63)])
        if r.random() < 0.5
        else r.randint(-(2**63), 2**63 - 1)
    ),
    "float": lambda r: r.uniform(-1e6, 1e6),
    "double": lambda r: r.uniform(-1e300, 1e300),
    "bytes": lambda r: r.randbytes(r.randint(0, 20)),
    "string": lambda r: "".join(r.choice("aé€𝄞z ") for _ in range(r.randint(0, 12))),
}


def value_for(schema: Any, named: dict[str, Any], rng: random.Random, depth: int = 0) -> Any:
    """A random Python value of a fastavro-parsed schema."""
    if isinstance(schema, str):
        if schema in PRIMITIVE_VALUES:
            return PRIMITIVE_VALUES[schema](rng)
        return value_for(named[schema], named, rng, depth)
    if isinstance(schema, list):
        # deep down, take null where the union allows it so recursive types end
        options = ["null"] if depth > 3 and "null" in schema else schema
        return value_for(rng.choice(options), named, rng, depth + 1)
    kind = schema["type"]
    if kind in PRIMITIVE_VALUES:
        return PRIMITIVE_VALUES[kind](rng)
    if kind in ("record", "error"):
        return {f["name"]: value_for(f["type"], named, rng, depth + 1) for f in schema["fields"]}
    if kind == "enum":
        return rng.choice(schema["symbols"])
    if kind == "fixed":
        return rng.randbytes(schema["size"])
    if kind == "array":
        size = rng.randint(0, 3 if depth < 3 else 0)
        return [value_for(schema["items"], named, rng, depth + 1) for _ in range(size)]
    if kind == "map":
        size = rng.randint(0, 3 if depth < 3 else 0)
        return {f"k{i}": value_for(schema["values"], named, rng, depth + 1) for i in range(size)}
    return value_for(kind, named, rng, depth)


def fastavro_bytes(parsed: Any, value: Any) -> bytes:
    out = io.BytesIO()
    schemaless_writer(out, parsed, value)
    return out.getvalue()


@settings(max_examples=150, deadline=None)
@given(avro_schemas(), st.randoms(use_true_random=False))
def test_compiled_encoder_matches_fastavro(schema: Any, rng: random.Random) -> None:
    named: dict[str, Any] = {}
    parsed = parse_schema(schema, named_schemas=named)
    encode = compile_writer(parsed, named)
    if encode is None:
        return  # a shape left to fastavro
    for _ in range(4):
        value = value_for(parsed, named, rng)
        out = bytearray()
        try:
            encode(out, value)
        except ShapeMismatchError:
            continue  # fastavro decides this one
        assert bytes(out) == fastavro_bytes(parsed, value)


def test_plain_record_is_compiled_and_refuses_other_shapes() -> None:
    schema = {
        "type": "record",
        "name": "P",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "memo", "type": ["null", "string"]},
            {"name": "tags", "type": {"type": "map", "values": "double"}},
        ],
    }
    named: dict[str, Any] = {}
    parsed = parse_schema(schema, named_schemas=named)
    encode = compile_writer(parsed, named)
    assert encode is not None
    value = {"id": 10**12, "memo": "x", "tags": {"a": 1.5}}
    out = bytearray()
    encode(out, value)
    assert bytes(out) == fastavro_bytes(parsed, value)
    for odd in (
        {"id": True, "memo": None, "tags": {}},  # bool is not a long here
        {"id": 1.0, "memo": None, "tags": {}},
        {"id": 1, "tags": {}},  # missing field
        {"id": 1, "memo": 5, "tags": {}},
        {"id": 1, "memo": None, "tags": {"a": 1}},  # int for double
        {"id": 2**63, "memo": None, "tags": {}},
    ):
        try:
            encode(bytearray(), odd)
        except ShapeMismatchError:
            continue
        raise AssertionError(f"accepted {odd!r}")


def test_logical_types_and_wide_unions_are_left_to_fastavro() -> None:
    for schema in (
        {"type": "int", "logicalType": "date"},
        ["null", "int", "string"],
        json.loads(
            '{"type": "record", "name": "U", "fields": [{"name": "u", "type": ["int", "string"]}]}'
        ),
    ):
        named: dict[str, Any] = {}
        assert compile_writer(parse_schema(schema, named_schemas=named), named) is None


def test_recursive_records() -> None:
    schema = {
        "type": "record",
        "name": "Node",
        "fields": [
            {"name": "v", "type": "int"},
            {"name": "next", "type": ["null", "Node"]},
        ],
    }
    named: dict[str, Any] = {}
    parsed = parse_schema(schema, named_schemas=named)
    encode = compile_writer(parsed, named)
    assert encode is not None
    value = {"v": 1, "next": {"v": 2, "next": {"v": 3, "next": None}}}
    out = bytearray()
    encode(out, value)
    assert bytes(out) == fastavro_bytes(parsed, value)
