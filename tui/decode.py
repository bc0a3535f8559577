"""Decoding record bytes for display: Confluent wire format through the registry, else text.

A record framed by the Confluent wire format starts with magic byte 0 and a big-endian 4-byte
schema id; the rest is Avro binary (schemaless), JSON text, or a Protobuf message after its
message-index array (`tui.protobuf`). The pure functions here split
and decode; fetching the schema is the caller's business (see `SchemaCache`).
"""

from __future__ import annotations

import io
import json
import struct
from dataclasses import dataclass
from typing import Any, Protocol

import fastavro

from tui import protobuf

MAGIC = 0
HEADER = struct.Struct(">bI")
MAX_REFERENCE_DEPTH = 32


@dataclass(frozen=True, slots=True)
class Decoded:
    """How a key or value is shown: the text and where it came from (`avro#7`, `json`, ...)."""

    text: str
    kind: str
    schema_id: int | None = None


def schema_id_of(raw: bytes) -> int | None:
    """The schema id when `raw` is framed by the Confluent wire format, else None."""
    if len(raw) < HEADER.size or raw[0] != MAGIC:
        return None
    _, schema_id = HEADER.unpack_from(raw)
    return int(schema_id)


def plain(raw: bytes | None) -> Decoded:
    """Bytes without a schema: JSON pretty text, UTF-8 text, or hex."""
    if raw is None:
        return Decoded("null", "null")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Decoded(raw.hex(" "), "hex")
    try:
        return Decoded(json.dumps(json.loads(text), ensure_ascii=False), "json")
    except ValueError:
        return Decoded(text, "string")


def with_schema(raw: bytes, schema: dict[str, Any]) -> Decoded:
    """Decode wire-format bytes with the registry's answer for their schema id."""
    schema_id = schema_id_of(raw)
    body = raw[HEADER.size :]
    schema_type = str(schema.get("schemaType") or "AVRO").upper()
    try:
        if schema_type == "AVRO":
            parsed = fastavro.parse_schema(json.loads(schema["schema"]))
            value = fastavro.schemaless_reader(io.BytesIO(body), parsed)
            return Decoded(json.dumps(value, default=str, ensure_ascii=False), "avro", schema_id)
        if schema_type == "JSON":
            value = json.loads(body.decode("utf-8"))
            return Decoded(json.dumps(value, ensure_ascii=False), "json-schema", schema_id)
        if schema_type == "PROTOBUF":  # `schema` in the serialized format, see SchemaCache
            text = protobuf.decode(body, schema["schema"], schema.get("resolved") or ())
            return Decoded(text, "protobuf", schema_id)
    except Exception as exc:
        return Decoded(
            f"<cannot decode with schema {schema_id}: {exc}> {body.hex(' ')}", "error", schema_id
        )
    return Decoded(body.hex(" "), schema_type.lower(), schema_id)


class SchemaSource(Protocol):
    """Where `SchemaCache` reads schemas: the registry's REST API (`tui.client`)."""

    async def schema_by_id(self, schema_id: int, fmt: str | None = None) -> dict[str, Any]:
        """`GET /schemas/ids/{id}` (`?format=fmt`)."""
        ...

    async def schema_version(
        self, subject: str, version: int | str, fmt: str | None = None
    ) -> dict[str, Any]:
        """`GET /subjects/{s}/versions/{v}` (`?format=fmt`)."""
        ...


class SchemaCache:
    """Schemas by id, fetched once from `source` (ids never change meaning). Protobuf ones are
    fetched in the `serialized` format, with their references (dependencies first)."""

    def __init__(self, source: SchemaSource) -> None:
        self._source = source
        self._schemas: dict[int, dict[str, Any] | None] = {}

    async def _fetch(self, schema_id: int) -> dict[str, Any]:
        schema = await self._source.schema_by_id(schema_id)
        if str(schema.get("schemaType") or "").upper() != "PROTOBUF":
            return schema
        schema = await self._source.schema_by_id(schema_id, "serialized")
        resolved: dict[str, str] = {}
        await self._references(schema.get("references") or [], resolved, 0)
        return {**schema, "resolved": list(resolved.items())}

    async def _references(
        self, references: list[dict[str, Any]], out: dict[str, str], depth: int
    ) -> None:
        if depth > MAX_REFERENCE_DEPTH:
            raise ValueError("schema references nest too deeply")
        for ref in references:
            if ref["name"] in out:
                continue
            found = await self._source.schema_version(ref["subject"], ref["version"], "serialized")
            await self._references(found.get("references") or [], out, depth + 1)
            out[ref["name"]] = found["schema"]

    async def decode(self, raw: bytes | None) -> Decoded:
        """Decode through the registry when framed, else as plain bytes."""
        if raw is None:
            return plain(raw)
        schema_id = schema_id_of(raw)
        if schema_id is None:
            return plain(raw)
        if schema_id not in self._schemas:
            try:
                self._schemas[schema_id] = await self._fetch(schema_id)
            except Exception:
                self._schemas[schema_id] = None
        schema = self._schemas[schema_id]
        if schema is None:
            return plain(raw)
        return with_schema(raw, schema)
