"""Confluent's canonical string of a schema: Avro as Java's `Schema.toString()`, JSON Schema
as compact Jackson output."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.formats import ResolvedReference, parse_schema
from registry.formats.avro import PRIMITIVE_TYPES
from registry.formats.jackson import java_double
from registry.formats.jsonschema.canonical_string import canonical_string as json_canonical_string
from tests.registry.strategies import avro_schemas


def avro(text: str, references: tuple[ResolvedReference, ...] = ()) -> str:
    return parse_schema("AVRO", text, references).canonical_string()


@pytest.mark.parametrize(
    "text",
    ['"string"', '{"type": "string"}', ' { "type" : "string" } ', '{"type": {"type": "string"}}'],
)
def test_a_bare_primitive_is_written_as_its_name(text: str) -> None:
    assert avro(text) == '"string"'


def test_a_primitive_with_properties_keeps_them_in_written_order() -> None:
    text = '{"connect.name": "x", "type": "long", "logicalType": "timestamp-millis"}'
    assert avro(text) == '{"type":"long","connect.name":"x","logicalType":"timestamp-millis"}'


def test_records_use_avros_key_order_and_keep_docs_defaults_and_properties() -> None:
    text = """{
      "fields": [
        {"default": "x", "custom": 1, "type": "string", "doc": "the a", "name": "a",
         "order": "descending", "aliases": ["old_a"]},
        {"type": {"symbols": ["A", "B"], "name": "E", "type": "enum", "default": "A"},
         "name": "b", "order": "ascending"},
        {"name": "c", "type": ["null", "E"], "default": null},
        {"name": "d", "type": "double", "default": 1e-5}
      ],
      "aliases": ["Old", "other.Older"],
      "doc": "a user",
      "x-owner": "team",
      "name": "User",
      "type": "record",
      "namespace": "com.acme"
    }"""
    assert avro(text) == (
        '{"type":"record","name":"User","namespace":"com.acme","doc":"a user","fields":['
        '{"name":"a","type":"string","doc":"the a","default":"x","order":"descending",'
        '"aliases":["old_a"],"custom":1},'
        '{"name":"b","type":{"type":"enum","name":"E","symbols":["A","B"],"default":"A"}},'
        '{"name":"c","type":["null","E"],"default":null},'
        '{"name":"d","type":"double","default":1.0E-5}],'
        '"x-owner":"team","aliases":["Old","other.Older"]}'
    )


def test_namespaces_are_written_only_where_they_change() -> None:
    text = json.dumps(
        {
            "type": "record",
            "name": "a.Outer",
            "fields": [
                {"name": "same", "type": {"type": "fixed", "name": "F", "size": 2}},
                {"name": "other", "type": {"type": "fixed", "name": "b.G", "size": 1}},
                {
                    "name": "none",
                    "type": {
                        "type": "record",
                        "name": "N",
                        "namespace": "",
                        "fields": [{"name": "f", "type": "a.F"}],
                    },
                },
                {"name": "again", "type": "b.G"},
            ],
        }
    )
    assert avro(text) == (
        '{"type":"record","name":"Outer","namespace":"a","fields":['
        '{"name":"same","type":{"type":"fixed","name":"F","size":2}},'
        '{"name":"other","type":{"type":"fixed","name":"G","namespace":"b","size":1}},'
        '{"name":"none","type":{"type":"record","name":"N","namespace":"","fields":'
        '[{"name":"f","type":"a.F"}]}},'
        '{"name":"again","type":"b.G"}]}'
    )


def test_types_from_references_are_written_by_name() -> None:
    address = '{"type": "record", "name": "Address", "namespace": "com.acme", "fields": []}'
    reference = ResolvedReference("com.acme.Address", "address-value", 1, address)
    text = json.dumps(
        {"type": "record", "name": "com.acme.User", "fields": [{"name": "home", "type": "Address"}]}
    )
    assert avro(text, (reference,)) == (
        '{"type":"record","name":"User","namespace":"com.acme",'
        '"fields":[{"name":"home","type":"Address"}]}'
    )


@pytest.mark.parametrize(
    ("value", "spelled"),
    [
        (1.0, "1.0"),
        (-2.5, "-2.5"),
        (0.001, "0.001"),
        (1234567.0, "1234567.0"),
        (1e7, "1.0E7"),
        (1.5e-4, "1.5E-4"),
        (0.0, "0.0"),
        (float("nan"), "NaN"),
        (float("-inf"), "-Infinity"),
    ],
)
def test_doubles_are_spelled_as_java_spells_them(value: float, spelled: str) -> None:
    assert java_double(value) == spelled


def test_json_schema_is_compact_with_keys_and_numbers_as_written() -> None:
    text = """{
        "type": "object",
        "title": "Caf\u00e9",
        "properties": {"b": {"type": "number", "maximum": 1e2, "minimum": 1.50}, "a": {}},
        "description": "tab\\tand\\u0001"
    }"""
    assert json_canonical_string(text) == (
        '{"type":"object","title":"Café","properties":{"b":{"type":"number",'
        '"maximum":1E+2,"minimum":1.50},"a":{}},"description":"tab\\tand\\u0001"}'
    )


#: attributes Avro writes in its own order; every other key is a property, kept in written order
OWN_ATTRIBUTES = frozenset(
    {"type", "name", "namespace", "doc", "fields", "symbols", "items", "values", "size"}
    | {"aliases", "default", "order"}
)


def _shuffled_keys(keys: list[str], rng: random.Random) -> list[str]:
    """Avro's own attributes in random order, properties interleaved in their written order."""
    own = [key for key in keys if key in OWN_ATTRIBUTES]
    rng.shuffle(own)
    properties = [key for key in keys if key not in OWN_ATTRIBUTES]
    out: list[str] = []
    while own or properties:
        take_own = own and (not properties or rng.random() < 0.5)
        out.append(own.pop() if take_own else properties.pop(0))
    return out


def respell(schema: Any, rng: random.Random) -> Any:
    """The same Avro schema written differently: attribute order, primitives as objects, an
    explicit ascending order."""
    if isinstance(schema, list):
        return [respell(item, rng) for item in schema]
    if isinstance(schema, str):
        return {"type": schema} if schema in PRIMITIVE_TYPES and rng.random() < 0.5 else schema
    if not isinstance(schema, dict):
        return schema
    out = {key: schema[key] for key in _shuffled_keys(list(schema), rng)}
    for key in ("items", "values", "type"):
        if key in out and not isinstance(out[key], str):
            out[key] = respell(out[key], rng)
    if "fields" in out:
        out["fields"] = [respell(field, rng) for field in out["fields"]]
        for field in out["fields"]:
            field["type"] = respell(field["type"], rng)
            if "order" not in field and rng.random() < 0.3:
                field["order"] = "ascending"
    return out


@settings(max_examples=60, deadline=None)
@given(avro_schemas(), st.randoms(use_true_random=False), st.sampled_from([None, 1, 4]))
def test_respellings_share_one_canonical_string_which_means_the_same(
    schema: Any, rng: random.Random, indent: int | None
) -> None:
    original = parse_schema("AVRO", json.dumps(schema))
    canonical = original.canonical_string()
    respelled = parse_schema("AVRO", json.dumps(respell(schema, rng), indent=indent))
    assert respelled.canonical_string() == canonical
    again = parse_schema("AVRO", canonical)
    assert again.canonical_string() == canonical, "the canonical string is a fixed point"
    assert again.parsing_form() == original.parsing_form(), "and the same schema (parsing form)"


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None)
@given(JSON_VALUES, st.sampled_from([None, 0, 2]))
def test_json_canonical_string_ignores_layout_and_keeps_the_document(
    document: Any, indent: int | None
) -> None:
    compact = json_canonical_string(json.dumps(document))
    assert json_canonical_string(json.dumps(document, indent=indent, ensure_ascii=True)) == compact
    assert json_canonical_string(compact) == compact, "a fixed point"
    assert json.loads(compact) == document
    assert compact.encode("utf-8"), "always storable as UTF-8"


def test_an_unpaired_surrogate_stays_escaped() -> None:
    canonical = json_canonical_string('{"title": "\\ud800 and \\u00e9"}')
    assert canonical == '{"title":"\\uD800 and \u00e9"}'
    assert canonical.encode("utf-8")
