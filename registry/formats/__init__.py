"""Schema formats: parsing, validation, parsing and normalized forms, field tags.

`FORMATS` is the one place that names the formats: a `SchemaType` and the parser that turns
its text into a `ParsedSchema`. Adding a format is a package under `registry/formats/` and one
line in that table; `registry.formats.base` holds what formats share and knows none of them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from functools import cache

from registry.formats.base import (
    DEFAULT_LIMITS,
    FieldTag,
    Limits,
    ParsedSchema,
    ResolvedReference,
    SchemaError,
    SchemaReference,
    SchemaType,
)

Parser = Callable[[str, Sequence[ResolvedReference], Limits], ParsedSchema]

#: Each supported format and its parser, as `module:function` (imported on first use, so
#: importing this package does not load every format's dependencies).
FORMATS: dict[SchemaType, str] = {
    SchemaType.AVRO: "registry.formats.avro:parse_avro",
    SchemaType.JSON: "registry.formats.jsonschema:parse_json_schema",
    SchemaType.PROTOBUF: "registry.formats.protobuf:parse_protobuf",
}


def supported_types() -> list[SchemaType]:
    """The schema types that can be parsed, in table order."""
    return list(FORMATS)


@cache
def load_entry(entry: str) -> Callable[..., object]:
    """The function a `module:function` table entry names (imported once)."""
    module, _, name = entry.partition(":")
    function: Callable[..., object] = getattr(importlib.import_module(module), name)
    return function


def parser_for(kind: SchemaType) -> Parser:
    """The parser of `kind`; `SchemaError` names the supported types when there is none."""
    entry = FORMATS.get(kind)
    if entry is None:
        allowed = ", ".join(supported.value for supported in FORMATS)
        raise SchemaError(f"{kind.value} schemas are not supported: use {allowed}")
    parser: Parser = load_entry(entry)  # type: ignore[assignment]
    return parser


def parse_schema(
    schema_type: SchemaType | str | None,
    schema: str,
    references: Sequence[ResolvedReference] = (),
    limits: Limits = DEFAULT_LIMITS,
) -> ParsedSchema:
    """Parse and validate `schema` of the given type; raises `SchemaError` with the reason."""
    kind = schema_type if isinstance(schema_type, SchemaType) else SchemaType.parse(schema_type)
    size = len(schema.encode("utf-8"))
    if size > limits.max_schema_bytes:
        raise SchemaError(
            f"schema is {size} bytes, over the limit of {limits.max_schema_bytes} bytes"
        )
    if len(references) > limits.max_references:
        raise SchemaError(
            f"schema has {len(references)} references, over the limit of {limits.max_references}"
        )
    return parser_for(kind)(schema, references, limits)


__all__ = [
    "DEFAULT_LIMITS",
    "FORMATS",
    "FieldTag",
    "Limits",
    "ParsedSchema",
    "Parser",
    "ResolvedReference",
    "SchemaError",
    "SchemaReference",
    "SchemaType",
    "load_entry",
    "parse_schema",
    "parser_for",
    "supported_types",
]
