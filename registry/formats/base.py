"""What every schema format provides, independent of the format: pure data, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable


class SchemaType(StrEnum):
    """Schema formats, spelled as Confluent's `schemaType` field spells them."""

    AVRO = "AVRO"
    JSON = "JSON"
    PROTOBUF = "PROTOBUF"

    @classmethod
    def parse(cls, value: str | None) -> SchemaType:
        """Confluent's rule: a missing `schemaType` means AVRO. Case-insensitive."""
        if value is None or value == "":
            return cls.AVRO
        try:
            return cls(value.upper())
        except ValueError:
            raise SchemaError(
                f"unknown schema type {value!r}: expected one of AVRO, JSON"
            ) from None


class SchemaError(ValueError):
    """A schema is not valid. The message names what is wrong and where."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(f"{message} (at {path})" if path else message)
        self.reason = message
        self.path = path


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what the parsers accept, so hostile input cannot exhaust the process."""

    max_schema_bytes: int = 1_048_576
    max_depth: int = 128
    max_references: int = 256


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class SchemaReference:
    """A reference from one schema to a registered one: `name` as the schema uses it."""

    name: str
    subject: str
    version: int


@dataclass(frozen=True, slots=True)
class ResolvedReference:
    """A reference together with the referenced schema's text, as resolved by the caller.

    Parsers never fetch anything: callers pass the transitive closure of references,
    dependencies first.
    """

    name: str
    subject: str
    version: int
    schema: str


@dataclass(frozen=True, slots=True)
class FieldTag:
    """Tags (`confluent:tags`) attached to one field; `path` is a JSON pointer into the schema."""

    path: str
    field: str
    tags: tuple[str, ...]


@runtime_checkable
class ParsedSchema(Protocol):
    """A validated schema of some format."""

    @property
    def schema_type(self) -> SchemaType:
        """The format."""
        ...

    @property
    def raw(self) -> str:
        """The schema text exactly as given."""
        ...

    @property
    def references(self) -> tuple[ResolvedReference, ...]:
        """The references it was parsed with."""
        ...

    @property
    def name(self) -> str | None:
        """The fully-qualified record name (Avro) or `title` (JSON), for RecordNameStrategy."""
        ...

    def canonical(self) -> str:
        """A compact, deterministic text: Avro Parsing Canonical Form; JSON: sorted compact."""
        ...

    def normalized(self) -> str:
        """Equal for schemas that differ only in spelling; what `normalize=true` registers."""
        ...

    def field_tags(self) -> list[FieldTag]:
        """Every field carrying `confluent:tags`, in schema order."""
        ...


def parse_schema(
    schema_type: SchemaType | str | None,
    schema: str,
    references: Sequence[ResolvedReference] = (),
    limits: Limits = DEFAULT_LIMITS,
) -> ParsedSchema:
    """Parse and validate `schema` of the given type; raises `SchemaError` with the reason."""
    kind = schema_type if isinstance(schema_type, SchemaType) else SchemaType.parse(schema_type)
    if len(schema.encode("utf-8")) > limits.max_schema_bytes:
        raise SchemaError(
            f"schema is {len(schema.encode('utf-8'))} bytes, over the limit of "
            f"{limits.max_schema_bytes} bytes"
        )
    if len(references) > limits.max_references:
        raise SchemaError(
            f"schema has {len(references)} references, over the limit of {limits.max_references}"
        )
    if kind is SchemaType.AVRO:
        from registry.formats.avro import parse_avro

        return parse_avro(schema, references, limits)
    if kind is SchemaType.JSON:
        from registry.formats.jsonschema import parse_json_schema

        return parse_json_schema(schema, references, limits)
    raise SchemaError("PROTOBUF schemas are not supported: use AVRO or JSON")
