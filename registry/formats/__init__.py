"""Schema formats: parsing, validation, canonical and normalized forms, field tags."""

from registry.formats.base import (
    DEFAULT_LIMITS,
    FieldTag,
    Limits,
    ParsedSchema,
    ResolvedReference,
    SchemaError,
    SchemaReference,
    SchemaType,
    parse_schema,
)

__all__ = [
    "DEFAULT_LIMITS",
    "FieldTag",
    "Limits",
    "ParsedSchema",
    "ResolvedReference",
    "SchemaError",
    "SchemaReference",
    "SchemaType",
    "parse_schema",
]
