"""Decoding a framed record and writing it back with the same schema id (and, for Protobuf,
the same message indexes): what a transform that rewrites values in flight needs, for every
format in `registry.formats.FORMATS`.

`RECODERS` names each format's recoder as a `module:Class` entry (loaded on first use, like
`FORMATS`); `Recoders` picks the one a record's writer schema asks for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from registry.client import RegisteredSchema, RegistryClient
from registry.formats import load_entry
from registry.formats.base import SchemaType
from registry.serde.base import writer_schema
from registry.serde.wire import SerdeError, unframe


@dataclass(frozen=True, slots=True)
class Decoded:
    """A decoded record: the framing to write back unchanged, and the value (a dict/list tree
    for Avro and JSON Schema, a message for Protobuf)."""

    schema_id: int
    prefix: bytes
    value: Any


class Recoder(Protocol):
    """Decodes framed records of one format and encodes values back with their framing."""

    def decode(self, data: bytes) -> Decoded:
        """The record's framing and value; `SerdeError` when it is not valid for its schema."""
        ...

    def encode(self, decoded: Decoded, value: Any) -> bytes:
        """`value` written with `decoded`'s framing; `SerdeError` when it does not fit."""
        ...


#: Each format's recoder (constructed with a `RegistryClient`).
RECODERS: dict[SchemaType, str] = {
    SchemaType.AVRO: "registry.serde.avro:AvroRecoder",
    SchemaType.JSON: "registry.serde.jsonschema:JSONRecoder",
    SchemaType.PROTOBUF: "registry.serde.protobuf:ProtobufRecoder",
}


class Recoders:
    """The recoder for any framed record, by its writer schema's format (one per format)."""

    def __init__(self, client: RegistryClient) -> None:
        self.client = client
        self._by_type: dict[SchemaType, Recoder] = {}

    def schema(self, data: bytes) -> RegisteredSchema:
        """The writer schema of a framed record; `SerdeError` when unframed or unknown."""
        schema_id, _ = unframe(data)
        return writer_schema(self.client, schema_id)

    def for_type(self, schema_type: str) -> Recoder:
        """The recoder of a format; `SerdeError` for a format without one."""
        try:
            kind = SchemaType.parse(schema_type)
        except ValueError:
            raise SerdeError(f"schema type {schema_type!r} has no recoder") from None
        found = self._by_type.get(kind)
        if found is None:
            entry = RECODERS.get(kind)
            if entry is None:
                raise SerdeError(f"{kind.value} records cannot be rewritten")
            found = self._by_type[kind] = load_entry(entry)(self.client)  # type: ignore[assignment]
        assert found is not None
        return found
