"""Avro parsing: validation with pointers, names, logical types, defaults, references, limits."""

from __future__ import annotations

import io
import json
import warnings
from typing import Any

import avro.schema
import fastavro
import pytest
from fastavro.schema import to_parsing_canonical_form

from registry.formats import (
    DEFAULT_LIMITS,
    FieldTag,
    Limits,
    ParsedSchema,
    ResolvedReference,
    SchemaError,
    SchemaType,
    parse_schema,
)
from registry.formats.avro import AvroSchema, parse_avro


def record(fields: list[dict[str, Any]], name: str = "User", **extra: Any) -> str:
    return json.dumps(
        {"type": "record", "name": name, "namespace": "com.acme", "fields": fields, **extra}
    )


def parse(schema: Any, references: tuple[ResolvedReference, ...] = ()) -> AvroSchema:
    text = schema if isinstance(schema, str) else json.dumps(schema)
    return parse_avro(text, references)


def error_of(schema: Any, limits: Limits | None = None) -> SchemaError:
    text = schema if isinstance(schema, str) else json.dumps(schema)
    with pytest.raises(SchemaError) as caught:
        parse_schema("AVRO", text, limits=limits or Limits())
    return caught.value


def test_parse_schema_dispatches_to_avro_and_satisfies_the_protocol() -> None:
    parsed = parse_schema(None, record([{"name": "id", "type": "long"}]))
    assert isinstance(parsed, AvroSchema)
    assert isinstance(parsed, ParsedSchema)
    assert parsed.schema_type is SchemaType.AVRO
    assert parsed.name == "com.acme.User"
    assert parse_schema("AVRO", '"string"').name is None


INVALID = [
    ("{", "", "not valid JSON"),
    ("42", "", "a schema must be a type name"),
    ('"strin"', "", "unknown type 'strin'"),
    ({"type": "record", "fields": []}, "", "has no `name`"),
    ({"type": "record", "name": "1abc", "fields": []}, "/name", "not a valid Avro name"),
    ({"type": "record", "name": "R", "namespace": "a..b", "fields": []}, "/namespace", "valid"),
    ({"type": "record", "name": "R"}, "/fields", "`fields` must be an array"),
    ({"type": "record", "name": "int", "fields": []}, "/name", "primitive type"),
    (
        {
            "type": "record",
            "name": "R",
            "fields": [{"name": "a", "type": "int"}, {"name": "a", "type": "long"}],
        },
        "/fields/1/name",
        "appears twice",
    ),
    ({"type": "record", "name": "R", "fields": [{"type": "int"}]}, "/fields/0", "no `name`"),
    ({"type": "record", "name": "R", "fields": [{"name": "a"}]}, "/fields/0", "no `type`"),
    (
        {"type": "record", "name": "R", "fields": [{"name": "a", "type": "int", "order": "up"}]},
        "/fields/0/order",
        "order",
    ),
    ({"type": "enum", "name": "E", "symbols": ["A", "A"]}, "/symbols/1", "appears twice"),
    ({"type": "enum", "name": "E", "symbols": ["A", "1B"]}, "/symbols/1", "not a valid"),
    ({"type": "enum", "name": "E", "symbols": ["A"], "default": "Z"}, "/default", "not one of"),
    ({"type": "fixed", "name": "F", "size": -1}, "/size", "non-negative integer"),
    ({"type": "fixed", "name": "F", "size": "16"}, "/size", "non-negative integer"),
    ({"type": "array"}, "", "no `items`"),
    ({"type": "map"}, "", "no `values`"),
    (["int", "int"], "/1", "only once"),
    (["null", ["int"]], "/1", "another union"),
    ({"type": 5}, "", "`type` must be a string"),
    ({"name": "x"}, "", "no `type`"),
    (
        {
            "type": "record",
            "name": "R",
            "fields": [
                {"name": "a", "type": {"type": "enum", "name": "E", "symbols": ["A"]}},
                {"name": "b", "type": {"type": "enum", "name": "E", "symbols": ["B"]}},
            ],
        },
        "/fields/1/type/name",
        "already defined at /fields/0/type",
    ),
    (
        {"type": "record", "name": "R", "fields": [{"name": "a", "type": "Missing"}]},
        "/fields/0/type",
        "must be defined before it is used",
    ),
]


@pytest.mark.parametrize(("schema", "path", "words"), INVALID)
def test_invalid_schemas_name_the_problem_and_where(schema: Any, path: str, words: str) -> None:
    error = error_of(schema)
    assert words in error.reason
    assert error.path == path


DEFAULTS: list[tuple[Any, Any, bool]] = [
    ("null", None, True),
    ("null", 0, False),
    ("boolean", True, True),
    ("boolean", 1, False),
    ("int", 7, True),
    ("int", 2**31, False),
    ("int", 1.5, False),
    ("int", True, False),
    ("long", 2**63 - 1, True),
    ("long", 2**63, False),
    ("float", 1, True),
    ("double", 1.25, True),
    ("double", "1.0", False),
    ("string", "x", True),
    ("string", 1, False),
    ("bytes", "\u00ff\u0000", True),
    ("bytes", "\u0100", False),
    ({"type": "fixed", "name": "F", "size": 2}, "ab", True),
    ({"type": "fixed", "name": "F", "size": 2}, "abc", False),
    ({"type": "enum", "name": "E", "symbols": ["A", "B"]}, "B", True),
    ({"type": "enum", "name": "E", "symbols": ["A", "B"]}, "C", False),
    ({"type": "array", "items": "int"}, [1, 2], True),
    ({"type": "array", "items": "int"}, [1, "x"], False),
    ({"type": "map", "values": "long"}, {"a": 1}, True),
    ({"type": "map", "values": "long"}, {"a": "x"}, False),
    (["null", "string"], None, True),
    (["null", "string"], "x", False),
    (["string", "null"], "x", True),
    (
        {"type": "record", "name": "P", "fields": [{"name": "x", "type": "int"}]},
        {"x": 1},
        True,
    ),
    (
        {"type": "record", "name": "P", "fields": [{"name": "x", "type": "int"}]},
        {},
        False,
    ),
    (
        {"type": "record", "name": "P", "fields": [{"name": "x", "type": "int", "default": 0}]},
        {},
        True,
    ),
]


@pytest.mark.parametrize(("field_type", "default", "valid"), DEFAULTS)
def test_defaults_are_validated_against_their_type(
    field_type: Any, default: Any, valid: bool
) -> None:
    schema = record([{"name": "f", "type": field_type, "default": default}])
    if valid:
        parse(schema)
    else:
        assert error_of(schema).path == "/fields/0/default"


def test_union_default_must_match_the_first_branch() -> None:
    error = error_of(record([{"name": "f", "type": ["null", "int"], "default": 1}]))
    assert "first branch" in error.reason


def test_recursive_record_default_is_checked_after_the_record_is_complete() -> None:
    schema = record(
        [
            {"name": "value", "type": "int"},
            {"name": "next", "type": ["null", "User"], "default": None},
        ]
    )
    parsed = parse(schema)
    assert parsed.root.fields[1].type.branches[1] is parsed.root


def test_namespaces_are_inherited_overridden_and_nulled() -> None:
    parsed = parse(
        record(
            [
                {"name": "a", "type": {"type": "enum", "name": "Inner", "symbols": ["X"]}},
                {
                    "name": "b",
                    "type": {"type": "fixed", "name": "F", "namespace": "other", "size": 1},
                },
                {"name": "c", "type": {"type": "fixed", "name": "G", "namespace": "", "size": 1}},
                {
                    "name": "d",
                    "type": {"type": "fixed", "name": "x.y.H", "namespace": "z", "size": 1},
                },
                {"name": "e", "type": "Inner"},
                {"name": "f", "type": "other.F"},
                {"name": "g", "type": "G"},
            ]
        )
    )
    assert sorted(parsed.named) == ["G", "com.acme.Inner", "com.acme.User", "other.F", "x.y.H"]
    fields = parsed.root.fields
    assert fields[4].type is fields[0].type
    assert fields[5].type is fields[1].type
    assert fields[6].type is fields[2].type


def test_aliases_of_named_types_are_qualified_by_their_namespace() -> None:
    parsed = parse(record([], aliases=["Old", "org.Other"]))
    assert parsed.root.aliases == ("com.acme.Old", "org.Other")


@pytest.mark.parametrize(
    ("spelling", "logical"),
    [
        ({"type": "int", "logicalType": "date"}, "date"),
        ({"type": "int", "logicalType": "time-millis"}, "time-millis"),
        ({"type": "long", "logicalType": "time-micros"}, "time-micros"),
        ({"type": "long", "logicalType": "timestamp-millis"}, "timestamp-millis"),
        ({"type": "long", "logicalType": "timestamp-micros"}, "timestamp-micros"),
        ({"type": "long", "logicalType": "local-timestamp-millis"}, "local-timestamp-millis"),
        ({"type": "long", "logicalType": "local-timestamp-micros"}, "local-timestamp-micros"),
        ({"type": "string", "logicalType": "uuid"}, "uuid"),
        ({"type": "fixed", "name": "D", "size": 12, "logicalType": "duration"}, "duration"),
        ({"type": "bytes", "logicalType": "decimal", "precision": 5, "scale": 2}, "decimal"),
        ({"type": "bytes", "logicalType": "decimal", "precision": 5}, "decimal"),
        (
            {"type": "fixed", "name": "D", "size": 4, "logicalType": "decimal", "precision": 9},
            "decimal",
        ),
        # Invalid logical types fall back to the underlying type, as the spec says.
        ({"type": "string", "logicalType": "date"}, None),
        ({"type": "fixed", "name": "D", "size": 8, "logicalType": "duration"}, None),
        ({"type": "bytes", "logicalType": "decimal", "precision": 2, "scale": 5}, None),
        ({"type": "bytes", "logicalType": "decimal", "precision": 0}, None),
        ({"type": "bytes", "logicalType": "decimal", "precision": "5"}, None),
        ({"type": "bytes", "logicalType": "decimal"}, None),
        (
            {"type": "fixed", "name": "D", "size": 4, "logicalType": "decimal", "precision": 10},
            None,
        ),
        ({"type": "long", "logicalType": "no-such-type"}, None),
    ],
)
def test_logical_types_are_recognised_or_ignored(
    spelling: dict[str, Any], logical: str | None
) -> None:
    parsed = parse(spelling)
    assert parsed.root.logical == logical
    # fastavro accepts every one of them, invalid ones as their underlying type.
    fastavro.parse_schema(json.loads(json.dumps(parsed.fastavro_schema())))


def test_decimal_scale_defaults_to_zero() -> None:
    parsed = parse({"type": "bytes", "logicalType": "decimal", "precision": 5})
    assert (parsed.root.precision, parsed.root.scale) == (5, 0)


def test_references_supply_named_types_and_are_never_fetched() -> None:
    address = ResolvedReference(
        name="com.acme.Address",
        subject="address-value",
        version=1,
        schema=json.dumps(
            {
                "type": "record",
                "name": "Address",
                "namespace": "com.acme",
                "fields": [{"name": "street", "type": "string"}],
            }
        ),
    )
    country = ResolvedReference(
        "com.acme.Country",
        "country-value",
        2,
        json.dumps({"type": "enum", "name": "com.acme.Country", "symbols": ["NL", "DE"]}),
    )
    parsed = parse(
        record([{"name": "home", "type": "Address"}, {"name": "country", "type": "Country"}]),
        (address, country),
    )
    assert parsed.references == (address, country)
    assert parsed.root.fields[0].type.origin == "com.acme.Address"
    assert '"type":"com.acme.Address"' in parsed.normalized_form()
    assert '"name":"com.acme.Address","type":"record"' in parsed.parsing_form()


def test_a_reference_error_names_the_reference() -> None:
    broken = ResolvedReference("com.acme.Broken", "broken-value", 3, '{"type": "enum"}')
    with pytest.raises(SchemaError, match="broken-value") as error:
        parse(record([]), (broken,))
    assert error.value.origin == "com.acme.Broken"
    with pytest.raises(SchemaError) as own:
        parse({"type": "enum"})
    assert own.value.origin is None


def test_a_schema_may_not_redefine_a_referenced_type() -> None:
    address = ResolvedReference(
        "a", "address-value", 1, json.dumps({"type": "fixed", "name": "com.acme.A", "size": 1})
    )
    with pytest.raises(SchemaError, match="already defined in referenced schema 'a'"):
        parse(
            record([{"name": "x", "type": {"type": "fixed", "name": "A", "size": 2}}]), (address,)
        )


def test_an_unresolved_name_is_an_error_not_a_fetch() -> None:
    error = error_of(record([{"name": "x", "type": "https://example.com/schema.avsc"}]))
    assert "not a valid Avro name" in error.reason


def test_depth_limit_gives_a_schema_error_never_a_recursion_error() -> None:
    text = '{"type": "array", "items": ' * 5000 + '"int"' + "}" * 5000
    limits = Limits(max_schema_bytes=10_000_000)
    assert "nests" in error_of(text, limits).reason
    shallow: Any = "int"
    for _ in range(10):
        shallow = {"type": "array", "items": shallow}
    assert "nests" in error_of(shallow, Limits(max_depth=5)).reason
    parse_schema("AVRO", json.dumps(shallow), limits=Limits(max_depth=20))


def test_deep_json_outside_the_schema_is_bounded_too() -> None:
    deep = "[" * 3000 + "]" * 3000
    text = record([{"name": "f", "type": "int", "x-prop": "DEEP"}]).replace('"DEEP"', deep)
    assert "nests" in error_of(text, Limits(max_schema_bytes=10_000_000)).reason


def test_brackets_inside_strings_do_not_count_towards_the_depth() -> None:
    noisy = '[{"\\"[' * 100
    text = record([{"name": "f", "type": "int", "doc": noisy, "x-prop": {"k": [noisy]}}])
    assert text.count("[") > DEFAULT_LIMITS.max_depth
    assert parse(text).root.fields[0].doc == noisy


@pytest.mark.parametrize("depth", [3, 4, 5])
def test_the_depth_limit_is_exact(depth: int) -> None:
    # A record (1) > fields (2) > field (3) > property value nested `depth - 3` more.
    value: Any = 0
    for _ in range(depth - 3):
        value = [value]
    text = record([{"name": "f", "type": "int", "x-prop": value}])
    parse_schema("AVRO", text, limits=Limits(max_depth=depth))
    assert "nests" in error_of(text, Limits(max_depth=depth - 1)).reason


def test_size_limit() -> None:
    error = error_of(record([{"name": "f", "type": "int"}]), Limits(max_schema_bytes=20))
    assert "over the limit" in error.reason


def test_field_tags_are_read_with_pointers_including_nested_records() -> None:
    parsed = parse(
        record(
            [
                {"name": "id", "type": "long"},
                {"name": "email", "type": "string", "confluent:tags": ["PII", "EMAIL"]},
                {
                    "name": "card",
                    "type": [
                        "null",
                        {
                            "type": "record",
                            "name": "Card",
                            "fields": [
                                {"name": "number", "type": "string", "confluent:tags": ["PCI"]}
                            ],
                        },
                    ],
                },
            ]
        )
    )
    assert parsed.field_tags() == [
        FieldTag("/fields/1", "email", ("PII", "EMAIL")),
        FieldTag("/fields/2/type/1/fields/0", "number", ("PCI",)),
    ]


def test_malformed_tags_are_rejected() -> None:
    error = error_of(record([{"name": "f", "type": "int", "confluent:tags": [1]}]))
    assert error.path == "/fields/0/confluent:tags"


def test_fastavro_schema_encodes_and_decodes_data() -> None:
    parsed = parse(
        record(
            [
                {"name": "id", "type": "long"},
                {"name": "email", "type": ["null", "string"], "default": None},
                {
                    "name": "amount",
                    "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2},
                },
            ]
        )
    )
    from decimal import Decimal

    buffer = io.BytesIO()
    value = {"id": 7, "email": "a@b.c", "amount": Decimal("12.34")}
    fastavro.schemaless_writer(buffer, parsed.fastavro_schema(), value)
    buffer.seek(0)
    assert fastavro.schemaless_reader(buffer, parsed.fastavro_schema()) == value


def test_error_types_parse_as_records() -> None:
    parsed = parse({"type": "error", "name": "Oops", "fields": [{"name": "m", "type": "string"}]})
    assert parsed.root.kind == "record"
    assert parsed.parsing_form() == (
        '{"name":"Oops","type":"record","fields":[{"name":"m","type":"string"}]}'
    )
    assert parse(parsed.normalized_form()).normalized_form() == parsed.normalized_form()


CANONICAL_CASES = [
    '"int"',
    '{"type": "int", "logicalType": "date"}',
    '["null", {"type": "string"}]',
    record(
        [
            {"name": "id", "type": "long", "doc": "the id", "default": 0, "order": "descending"},
            {
                "name": "kind",
                "type": {"type": "enum", "name": "Kind", "symbols": ["A"], "default": "A"},
            },
            {"name": "again", "type": "Kind"},
            {"name": "raw", "type": {"type": "fixed", "name": "x.Raw", "size": 16}},
            {
                "name": "tags",
                "type": {"type": "map", "values": {"type": "array", "items": "string"}},
            },
        ],
        aliases=["Old"],
        doc="users",
    ),
]


@pytest.mark.parametrize("text", CANONICAL_CASES)
def test_canonical_form_matches_fastavro_and_the_avro_package(text: str) -> None:
    ours = parse(text).parsing_form()
    assert ours == to_parsing_canonical_form(fastavro.parse_schema(json.loads(text)))
    if '"logicalType"' not in text:
        assert ours == avro_canonical(text)


def avro_canonical(text: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return str(avro.schema.parse(text).canonical_form)


def test_canonical_form_of_annotated_primitives_is_the_bare_name() -> None:
    # [PRIMITIVES] in the spec; the avro package writes {"type":"int"} here (see
    # docs/compatibility.md), fastavro and Java write "int".
    assert parse('{"type": "int", "logicalType": "date"}').parsing_form() == '"int"'
    assert avro_canonical('{"type": "int", "logicalType": "date"}') == '{"type":"int"}'


def test_canonical_form_follows_the_spec_transformations() -> None:
    text = (
        '{"namespace": "com.acme", "doc": "d", "type": "record", "name": "R", '
        '"fields": [{"type": {"type": "fixed", "size": 4, "name": "F", "aliases": ["G"]}, '
        '"name": "f", "default": "\\u0000\\u0000\\u0000\\u0000"}]}'
    )
    assert parse(text).parsing_form() == (
        '{"name":"com.acme.R","type":"record","fields":[{"name":"f","type":'
        '{"name":"com.acme.F","type":"fixed","size":4}}]}'
    )


def test_null_namespace_is_kept_by_normalization() -> None:
    text = record(
        [{"name": "g", "type": {"type": "fixed", "name": "G", "namespace": "", "size": 1}}]
    )
    normalized = parse(text).normalized_form()
    assert '"name":"G","namespace":""' in normalized
    assert sorted(parse(normalized).named) == ["G", "com.acme.User"]


EQUIVALENT_SPELLINGS = [
    ('"string"', '{"type": "string"}'),
    ('{"type": {"type": "long"}}', '"long"'),
    (
        record([{"name": "a", "type": "double", "default": 1}]),
        record([{"name": "a", "type": {"type": "double"}, "default": 1.0, "doc": "x"}]),
    ),
    (
        record([{"name": "a", "type": "int", "order": "ascending"}], doc="x"),
        json.dumps(
            {
                "fields": [{"type": "int", "name": "a"}],
                "name": "com.acme.User",
                "type": "record",
            }
        ),
    ),
    (
        record([{"name": "a", "type": "int", "aliases": ["c", "b"]}], aliases=["X", "com.acme.Y"]),
        record([{"name": "a", "type": "int", "aliases": ["b", "c"]}], aliases=["Y", "X"]),
    ),
]


@pytest.mark.parametrize(("first", "second"), EQUIVALENT_SPELLINGS)
def test_equivalent_spellings_normalize_the_same(first: str, second: str) -> None:
    assert parse(first).normalized_form() == parse(second).normalized_form()


def test_normalization_keeps_what_canonical_form_drops() -> None:
    normalized = parse(
        record(
            [
                {
                    "name": "id",
                    "type": {"type": "long", "logicalType": "timestamp-millis"},
                    "default": 0,
                    "aliases": ["ident"],
                    "order": "descending",
                    "doc": "dropped",
                    "confluent:tags": ["PII"],
                },
                {
                    "name": "e",
                    "type": {"type": "enum", "name": "E", "symbols": ["A"], "default": "A"},
                },
            ],
            aliases=["Old"],
            doc="dropped",
        )
    ).normalized_form()
    for kept in (
        '"logicalType":"timestamp-millis"',
        '"default":0',
        '"aliases":["ident"]',
        '"order":"descending"',
        '"confluent:tags":["PII"]',
        '"aliases":["com.acme.Old"]',
        '"symbols":["A"],"default":"A"',
    ):
        assert kept in normalized
    assert "dropped" not in normalized
    different = parse(record([{"name": "id", "type": "long", "default": 1}])).normalized_form()
    assert (
        different != parse(record([{"name": "id", "type": "long", "default": 0}])).normalized_form()
    )


def test_parsing_the_same_text_again_shares_the_result() -> None:
    text = record([{"name": "id", "type": "long"}])
    assert parse_avro(text) is parse_avro(text)
    assert parse_avro(text) is not parse_avro(text + "\n")


def test_a_deep_chain_of_references_is_a_schema_error() -> None:
    references: list[ResolvedReference] = []
    previous = "int"
    for index in range(200):
        nested: Any = previous
        for _ in range(30):
            nested = {"type": "array", "items": nested}
        body = {"type": "record", "name": f"T{index}", "fields": [{"name": "x", "type": nested}]}
        references.append(ResolvedReference(f"T{index}", f"t{index}", 1, json.dumps(body)))
        previous = f"T{index}"
    with pytest.raises(SchemaError, match="once the types from its references are written"):
        parse(record([{"name": "top", "type": previous}]), tuple(references))
    # Each schema alone is within the limit, and a short chain is too.
    parse(record([{"name": "top", "type": "T1"}]), tuple(references[:2]))


def test_malformed_json_full_of_brackets_is_reported_as_malformed() -> None:
    text = '{"type": "record", "doc": "' + "[" * 500
    assert "not valid JSON" in error_of(text).reason
