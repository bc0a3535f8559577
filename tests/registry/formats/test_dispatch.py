"""The format table: every entry loads, parses its own format, and the base knows no format."""

from __future__ import annotations

import ast
import inspect

import pytest

import registry.formats.base
from registry.compatibility import RULES, pair_incompatibilities
from registry.formats import (
    FORMATS,
    ParsedSchema,
    SchemaError,
    SchemaType,
    parse_schema,
    parser_for,
    supported_types,
)

#: The smallest valid schema of each format in the table.
SAMPLES = {
    SchemaType.AVRO: '{"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]}',
    SchemaType.JSON: '{"type": "object", "properties": {"a": {"type": "integer"}}}',
    SchemaType.PROTOBUF: 'syntax = "proto3";\nmessage R { int32 a = 1; }',
}


@pytest.mark.parametrize("kind", list(FORMATS))
def test_every_format_parses_its_own_type(kind: SchemaType) -> None:
    parsed = parse_schema(kind, SAMPLES[kind])
    assert isinstance(parsed, ParsedSchema)
    assert parsed.schema_type is kind
    assert pair_incompatibilities(parsed, parsed) == []


def test_every_format_has_compatibility_rules() -> None:
    assert set(RULES) == set(FORMATS)
    assert supported_types() == list(FORMATS)


def test_a_type_without_a_parser_names_the_supported_ones() -> None:
    missing = [kind for kind in SchemaType if kind not in FORMATS]
    for kind in missing:
        with pytest.raises(SchemaError) as error:
            parser_for(kind)
        assert all(supported.value in str(error.value) for supported in FORMATS)


def test_unknown_schema_type_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match="unknown schema type 'xml'"):
        parse_schema("xml", "{}")


def test_the_base_imports_no_format() -> None:
    tree = ast.parse(inspect.getsource(registry.formats.base))
    imported = [
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    ] + [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    assert not [name for name in imported if name.startswith("registry")]
