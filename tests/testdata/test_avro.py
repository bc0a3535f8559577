"""Avro generation: every value of every generated schema validates, with fastavro's own
validation and by a round trip through the registry's serializer and fastavro's reader."""

from __future__ import annotations

import io
import json
from typing import Any

from fastavro import parse_schema as fastavro_parse
from fastavro import schemaless_reader, schemaless_writer
from fastavro.validation import validate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.formats import parse_schema
from testdata import generator_for
from tests.registry.strategies import avro_schemas

LOGICAL_RECORD: dict[str, Any] = {
    "type": "record",
    "name": "Payment",
    "namespace": "com.example",
    "fields": [
        {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "email", "type": "string", "confluent:tags": ["PII"]},
        {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9,
                                    "scale": 2}},
        {"name": "fee", "type": {"type": "fixed", "name": "Fee", "size": 3,
                                 "logicalType": "decimal", "precision": 6, "scale": 2}},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "at_us", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "local", "type": {"type": "long", "logicalType": "local-timestamp-millis"}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "time", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "time_us", "type": {"type": "long", "logicalType": "time-micros"}},
        {"name": "span", "type": {"type": "fixed", "name": "Span", "size": 12,
                                  "logicalType": "duration"}},
        {"name": "state", "type": {"type": "enum", "name": "State", "symbols": ["NEW", "DONE"]}},
        {"name": "next", "type": ["null", "Payment"], "default": None},
        {"name": "labels", "type": {"type": "map", "values": ["null", "State", "Fee"]}},
        {"name": "lines", "type": {"type": "array", "items": {
            "type": "record", "name": "Line", "fields": [{"name": "phone", "type": "string"}]}}},
    ],
}  # fmt: skip


def _parsed(schema: Any) -> Any:
    return parse_schema("AVRO", json.dumps(schema))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=avro_schemas(), seed=st.integers(0, 2**32))
def test_every_generated_value_validates_and_round_trips(schema: Any, seed: int) -> None:
    generator = generator_for(_parsed(schema), seed=seed)
    parsed = fastavro_parse(schema)
    for _ in range(5):
        value = generator.generate()
        assert validate(value, parsed, raise_errors=True)
        out = io.BytesIO()
        schemaless_writer(out, parsed, value)
        out.seek(0)
        assert schemaless_reader(out, parsed, None) is not None or value is None


@given(schema=avro_schemas(), seed=st.integers(0, 2**32))
@settings(max_examples=30, deadline=None)
def test_equal_seeds_give_equal_values(schema: Any, seed: int) -> None:
    first = generator_for(_parsed(schema), seed=seed)
    second = generator_for(_parsed(schema), seed=seed)
    assert [first.generate() for _ in range(5)] == [second.generate() for _ in range(5)]


def test_logical_types_recursion_and_pii() -> None:
    generator = generator_for(_parsed(LOGICAL_RECORD), seed=7, field_tags={"lines.phone": ["pii"]})
    parsed = fastavro_parse(LOGICAL_RECORD)
    values = [generator.generate() for _ in range(200)]
    for value in values:
        assert validate(value, parsed, raise_errors=True)
    assert all("@" in v["email"] and not v["email"].startswith("email-") for v in values)
    phones = [line["phone"] for v in values for line in v["lines"]]
    assert phones and all(any(ch.isdigit() for ch in p) for p in phones)
    assert not any(p.startswith("phone-") for p in phones)  # fake numbers, not plain text
    assert any(v["next"] is not None for v in values)  # recursion happens, and ends
    assert {v["state"] for v in values} == {"NEW", "DONE"}


def test_unseeded_generators_differ_and_seeds_matter() -> None:
    a = generator_for(_parsed(LOGICAL_RECORD), seed=1).generate()
    b = generator_for(_parsed(LOGICAL_RECORD), seed=2).generate()
    assert a != b
