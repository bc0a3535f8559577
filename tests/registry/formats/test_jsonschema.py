"""Parsing JSON Schemas: drafts, meta-schema validation, `$ref` confinement, limits, forms."""

from __future__ import annotations

import json
from typing import Any

import pytest

from registry.formats import (
    FieldTag,
    Limits,
    ParsedSchema,
    ResolvedReference,
    SchemaError,
    SchemaType,
    parse_schema,
)
from registry.formats.jsonschema import JsonSchema, parse_json_schema


def parse(document: Any, references: tuple[ResolvedReference, ...] = ()) -> JsonSchema:
    return parse_json_schema(json.dumps(document), references)


def reference(name: str, document: Any) -> ResolvedReference:
    return ResolvedReference(name=name, subject=name, version=1, schema=json.dumps(document))


DRAFTS = {
    "http://json-schema.org/draft-04/schema#": "draft-04",
    "http://json-schema.org/draft-06/schema#": "draft-06",
    "http://json-schema.org/draft-07/schema#": "draft-07",
    "https://json-schema.org/draft/2019-09/schema": "2019-09",
    "https://json-schema.org/draft/2020-12/schema": "2020-12",
}


@pytest.mark.parametrize(("uri", "draft"), DRAFTS.items())
def test_draft_is_picked_from_dollar_schema(uri: str, draft: str) -> None:
    assert parse({"$schema": uri, "type": "string"}).draft == draft


def test_default_draft_is_7() -> None:
    assert parse({"type": "string"}).draft == "draft-07"


def test_it_is_a_parsed_schema_of_type_json() -> None:
    parsed = parse_schema("json", '{"type": "string"}')
    assert isinstance(parsed, ParsedSchema)
    assert parsed.schema_type is SchemaType.JSON
    assert parsed.raw == '{"type": "string"}'


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ({"type": "strin"}, "/type"),
        ({"properties": {"a": {"minLength": -1}}}, "/properties/a/minLength"),
        ({"required": "a"}, "/required"),
        ({"$schema": "http://example.com/my-dialect"}, "unsupported `$schema`"),
        ({"$schema": "http://json-schema.org/draft-04/schema#", "exclusiveMinimum": 3}, "draft-04"),
    ],
)
def test_meta_schema_violations_name_the_place(document: Any, fragment: str) -> None:
    with pytest.raises(SchemaError) as error:
        parse(document)
    assert fragment in str(error.value)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        "[1, 2]",
        "42",
        '"x"',
        '{"a": NaN}',
        '{"maximum": Infinity}',
        '{"maximum": 1e400}',
        '{"maximum": ' + "9" * 5000 + "}",
    ],
)
def test_not_a_schema(text: str) -> None:
    with pytest.raises(SchemaError):
        parse_json_schema(text)


def test_boolean_schemas() -> None:
    assert parse(True).is_valid(42)
    assert not parse(False).is_valid(42)


def test_local_refs_resolve() -> None:
    schema = parse(
        {
            "type": "object",
            "properties": {
                "a": {"$ref": "#/definitions/s"},
                "b": {"$ref": "#/$defs/n"},
                "c": {"$ref": "#anchored"},
            },
            "definitions": {"s": {"type": "string"}},
            "$defs": {"n": {"type": "number"}},
            "allOf": [{"$id": "#anchored", "type": ["object", "boolean"]}],
        }
    )
    assert schema.is_valid({"a": "x", "b": 1, "c": True})
    assert not schema.is_valid({"a": 1})


def test_refs_to_given_references_resolve_by_name_or_url() -> None:
    references = (
        reference("other.json", {"type": "integer"}),
        reference("https://example.com/schemas/address.json", {"type": "object"}),
    )
    schema = parse(
        {
            "properties": {
                "n": {"$ref": "other.json"},
                "a": {"$ref": "https://example.com/schemas/address.json"},
            }
        },
        references,
    )
    assert schema.is_valid({"n": 1, "a": {}})
    assert not schema.is_valid({"n": "1"})


def test_relative_refs_resolve_against_the_root_id() -> None:
    schema = parse(
        {
            "$id": "https://example.com/schemas/root.json",
            "properties": {"n": {"$ref": "other.json"}},
        },
        (reference("other.json", {"type": "integer"}),),
    )
    assert not schema.is_valid({"n": "x"})


@pytest.mark.parametrize(
    "ref",
    [
        "https://example.com/remote.json",
        "http://json-schema.org/draft-07/schema#",
        "file:///etc/passwd",
        "other.json",
    ],
)
def test_refs_to_anything_else_are_refused_and_named(ref: str) -> None:
    with pytest.raises(SchemaError) as error:
        parse({"properties": {"a": {"$ref": ref}}})
    assert ref in str(error.value)
    assert error.value.path == "/properties/a/$ref"
    assert "never fetched" in str(error.value)


def test_refs_inside_references_are_confined_too() -> None:
    with pytest.raises(SchemaError) as error:
        parse({"$ref": "a.json"}, (reference("a.json", {"$ref": "https://evil.example/x"}),))
    assert "https://evil.example/x" in str(error.value)


def test_draft4_ids_anchor_references() -> None:
    schema = parse(
        {
            "$schema": "http://json-schema.org/draft-04/schema#",
            "properties": {"a": {"$ref": "#num"}},
            "definitions": {"n": {"id": "#num", "type": "integer"}},
        }
    )
    assert schema.is_valid({"a": 1})
    assert not schema.is_valid({"a": "1"})


def test_a_reference_keeps_its_own_draft() -> None:
    tuple_2020 = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "prefixItems": [{"type": "string"}],
        "items": False,
    }
    schema = parse({"properties": {"t": {"$ref": "t.json"}}}, (reference("t.json", tuple_2020),))
    assert schema.is_valid({"t": ["x"]})
    assert not schema.is_valid({"t": ["x", "y"]})


def test_reference_count_and_size_limits() -> None:
    many = tuple(reference(f"r{i}.json", {}) for i in range(3))
    with pytest.raises(SchemaError, match="references"):
        parse_json_schema("{}", many, Limits(max_references=2))
    big = (reference("big.json", {"description": "x" * 500}),)
    with pytest.raises(SchemaError, match=r"big\.json") as error:
        parse_json_schema("{}", big, Limits(max_schema_bytes=100))
    assert error.value.origin == "big.json"


def test_an_unreadable_reference_is_named_as_the_origin() -> None:
    broken = ResolvedReference("broken.json", "broken", 1, '{"type": ')
    with pytest.raises(SchemaError) as error:
        parse_json_schema("{}", (broken,))
    assert error.value.origin == "broken.json"


def test_dangling_local_ref() -> None:
    with pytest.raises(SchemaError, match="points to nothing"):
        parse({"$ref": "#/definitions/missing"})


def test_property_named_ref_is_not_a_reference() -> None:
    schema = parse({"properties": {"$ref": {"type": "string"}}})
    assert schema.is_valid({"$ref": "x"})


def test_recursive_refs() -> None:
    schema = parse(
        {
            "definitions": {
                "tree": {
                    "type": "object",
                    "properties": {
                        "children": {"type": "array", "items": {"$ref": "#/definitions/tree"}}
                    },
                }
            },
            "$ref": "#/definitions/tree",
        }
    )
    assert schema.is_valid({"children": [{"children": []}]})
    assert not schema.is_valid({"children": [1]})


def test_mutually_recursive_references() -> None:
    a = reference("a.json", {"properties": {"b": {"$ref": "b.json"}}})
    b = reference("b.json", {"properties": {"a": {"$ref": "a.json"}}})
    schema = parse({"$ref": "a.json"}, (a, b))
    assert schema.is_valid({"b": {"a": {"b": {}}}})


def test_size_limit() -> None:
    with pytest.raises(SchemaError, match="limit"):
        parse_schema(
            "JSON", json.dumps({"description": "x" * 2000}), limits=Limits(max_schema_bytes=1000)
        )


@pytest.mark.parametrize("depth", [129, 5_000, 100_000])
def test_depth_limit_is_a_schema_error_not_a_recursion_error(depth: int) -> None:
    text = '{"not":' * depth + "{}" + "}" * depth
    with pytest.raises(SchemaError, match="nests"):
        parse_json_schema(text)
    with pytest.raises(SchemaError, match="nests"):
        parse_json_schema("[" * depth + "]" * depth)


def test_brackets_inside_strings_do_not_count_towards_depth() -> None:
    parse({"description": "[[[[{{{{" * 100, "type": "string"})


def test_deepest_allowed_schema_parses_in_every_draft() -> None:
    for uri in DRAFTS:
        inner: Any = {"type": "string"}
        while True:
            wrapped = {"properties": {"a": inner}}
            text = json.dumps({"$schema": uri, **wrapped})
            if text.count("{") > 128:
                break
            inner = wrapped
        parse({"$schema": uri, **inner})


def test_canonical_is_sorted_compact() -> None:
    schema = parse_json_schema(
        '{ "type": "object",\n "properties": {"b": {}, "a": {"type": "string"}} }'
    )
    assert schema.parsing_form() == '{"properties":{"a":{"type":"string"},"b":{}},"type":"object"}'


def test_name_is_the_title() -> None:
    assert parse({"title": "Order", "type": "object"}).name == "Order"
    assert parse({"type": "object"}).name is None


def test_field_tags_nested_in_document_order() -> None:
    schema = parse(
        {
            "type": "object",
            "properties": {
                "email": {"type": "string", "confluent:tags": ["PII"]},
                "address": {
                    "type": "object",
                    "properties": {
                        "street": {"type": "string", "confluent:tags": ["PII", "ADDRESS"]}
                    },
                },
                "items": {
                    "type": "array",
                    "items": {"properties": {"price": {"confluent:tags": ["FIN"]}}},
                },
                "plain": {"type": "string"},
            },
            "definitions": {"x": {"properties": {"ssn": {"confluent:tags": ["PII"]}}}},
        }
    )
    assert schema.field_tags() == [
        FieldTag("/properties/email", "email", ("PII",)),
        FieldTag("/properties/address/properties/street", "street", ("PII", "ADDRESS")),
        FieldTag("/properties/items/items/properties/price", "price", ("FIN",)),
        FieldTag("/definitions/x/properties/ssn", "ssn", ("PII",)),
    ]


NORMALIZE_SAME = [
    ({"type": ["string"]}, {"type": "string"}),
    ({"type": ["string", "null"]}, {"type": ["null", "string"]}),
    ({"required": ["b", "a"], "properties": {}}, {"required": ["a", "b"]}),
    ({"enum": ["b", "a", "b"]}, {"enum": ["b", "a"]}),
    ({"additionalProperties": True, "items": {}}, {}),
    ({"minLength": 0, "uniqueItems": False, "required": []}, {}),
    ({"definitions": {"b": {}, "a": {}}}, {"definitions": {"a": {}, "b": {}}}),
    (
        {"properties": {"type": {"type": ["integer"]}}},
        {"properties": {"type": {"type": "integer"}}},
    ),
]


@pytest.mark.parametrize(("left", "right"), NORMALIZE_SAME)
def test_equivalent_spellings_normalize_the_same(left: Any, right: Any) -> None:
    assert parse(left).normalized_form() == parse(right).normalized_form()


def test_whitespace_and_key_order_normalize_the_same() -> None:
    a = parse_json_schema('{"type":"object","properties":{"a":{"type":"string"}}}')
    b = parse_json_schema(
        '{\n  "properties": { "a": { "type": "string" } },\n  "type": "object"\n}'
    )
    assert a.normalized_form() == b.normalized_form()
    assert a.parsing_form() == b.parsing_form()


def test_normalization_keeps_meaningful_differences() -> None:
    assert (
        parse({"enum": ["a", "b"]}).normalized_form()
        != parse({"enum": ["b", "a"]}).normalized_form()
    )
    assert parse({"minLength": 1}).normalized_form() != parse({}).normalized_form()
    assert parse({"required": ["required"]}).normalized_form() != parse({}).normalized_form()


def test_normalization_keeps_locations_a_ref_points_to() -> None:
    schema = parse({"properties": {"a": {"items": {}}, "b": {"$ref": "#/properties/a/items"}}})
    again = parse_json_schema(schema.normalized_form())
    assert "items" in json.loads(again.normalized_form())["properties"]["a"]


def test_normalization_keeps_locations_a_nested_resource_ref_points_to() -> None:
    schema = parse(
        {
            "$id": "https://example.com/root.json",
            "properties": {
                "n": {"$id": "nested.json", "properties": {"a": {"items": {}}}},
                "m": {"$ref": "nested.json#/properties/a/items"},
            },
        }
    )
    again = parse_json_schema(schema.normalized_form())
    assert again.normalized_form() == schema.normalized_form()


def test_normalized_form_parses_and_is_idempotent() -> None:
    schema = parse({"type": ["null", "string"], "required": [], "enum": [None, "a", "a"]})
    again = parse_json_schema(schema.normalized_form())
    assert again.normalized_form() == schema.normalized_form()
