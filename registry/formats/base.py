"""What every schema format provides, independent of the format: pure data, no I/O.

This module knows no format; `registry.formats` maps each `SchemaType` to its parser.
"""

from __future__ import annotations

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
            allowed = ", ".join(kind.value for kind in cls)
            raise SchemaError(f"unknown schema type {value!r}: expected one of {allowed}") from None


class SchemaError(ValueError):
    """A schema is not valid. The message names what is wrong and where.

    `path` is a JSON pointer into the text that is wrong: the schema's own, or, when `origin`
    is set, the text of the reference of that name.
    """

    def __init__(self, message: str, path: str = "", origin: str | None = None) -> None:
        super().__init__(f"{message} (at {path})" if path else message)
        self.reason = message
        self.path = path
        self.origin = origin


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

    def canonical_string(self) -> str:
        """Confluent's canonical string: the text the registry stores, answers and keys ids on."""
        ...

    def parsing_form(self) -> str:
        """The parsing form: Avro's Parsing Canonical Form; JSON Schema: sorted-key compact JSON.

        Equal for schemas that read data alike (Avro) or are the same document (JSON). Not
        what the registry stores: that is `canonical_string`.
        """
        ...

    def normalized_form(self) -> str:
        """Equal for schemas that differ only in spelling; what `normalize=true` registers."""
        ...

    def field_tags(self) -> list[FieldTag]:
        """Every field carrying `confluent:tags`, in schema order."""
        ...
