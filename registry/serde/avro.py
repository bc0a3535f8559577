"""Avro serializer and deserializer in Confluent's wire format (fastavro, schemaless).

Byte for byte the same records as confluent-kafka's `AvroSerializer`, so either side can read
what the other wrote.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import Any

from fastavro import parse_schema, schemaless_reader, schemaless_writer

from registry.client import RegistryClient
from registry.formats.base import SchemaReference
from registry.serde.base import SubjectSchemas, referenced_schemas, writer_schema
from registry.serde.strategies import SubjectNameStrategy, topic_name_strategy
from registry.serde.wire import SerdeError, unframe

ParsedAvro = Any


def _parse(schema: str, named: dict[str, Any] | None = None) -> ParsedAvro:
    try:
        return parse_schema(json.loads(schema), named_schemas=named if named is not None else {})
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise SerdeError(f"invalid Avro schema: {exc}") from exc


def _parse_with_references(
    client: RegistryClient, schema: str, references: Iterable[SchemaReference]
) -> ParsedAvro:
    named: dict[str, Any] = {}
    for _, text in referenced_schemas(client, references):
        _parse(text, named)
    return _parse(schema, named)


def _record_name(parsed: ParsedAvro) -> str | None:
    if isinstance(parsed, dict) and parsed.get("type") in ("record", "enum", "fixed"):
        return str(parsed.get("name"))
    return None


class AvroSerializer:
    """Serialize Python values (dicts for records) to framed Avro for a topic."""

    def __init__(
        self,
        client: RegistryClient,
        schema: str | None = None,
        *,
        references: Iterable[SchemaReference] = (),
        auto_register: bool = True,
        use_latest: bool = False,
        normalize: bool = False,
        subject_name_strategy: SubjectNameStrategy = topic_name_strategy,
    ) -> None:
        self._client = client
        self._references = tuple(references)
        parsed = (
            _parse_with_references(client, schema, self._references) if schema is not None else None
        )
        self._parsed: dict[str, ParsedAvro] = {schema: parsed} if schema is not None else {}
        self._schemas = SubjectSchemas(
            client,
            schema,
            "AVRO",
            self._references,
            record_name=_record_name(parsed),
            auto_register=auto_register,
            use_latest=use_latest,
            normalize=normalize,
            subject_name_strategy=subject_name_strategy,
        )
        self._writers: dict[tuple[str, bool], tuple[bytes, ParsedAvro]] = {}

    def _writer(self, topic: str, is_key: bool) -> tuple[bytes, ParsedAvro]:
        found = self._schemas.writer(topic, is_key)
        parsed = self._parsed.get(found.schema)
        if parsed is None:
            registered = writer_schema(self._client, found.schema_id)
            parsed = self._parsed[found.schema] = _parse_with_references(
                self._client, registered.schema, registered.references
            )
        entry = self._writers[(topic, is_key)] = (found.prefix, parsed)
        return entry

    def __call__(self, value: Any, topic: str, is_key: bool = False) -> bytes | None:
        """The framed Avro bytes of `value` (None stays None)."""
        if value is None:
            return None
        entry = self._writers.get((topic, is_key)) or self._writer(topic, is_key)
        out = io.BytesIO()
        out.write(entry[0])
        try:
            schemaless_writer(out, entry[1], value)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            raise SerdeError(f"value does not match the Avro schema: {exc}") from exc
        return out.getvalue()


class AvroDeserializer:
    """Read framed Avro records, resolving the writer schema by id (and to a reader schema
    when one is given)."""

    def __init__(
        self,
        client: RegistryClient,
        reader_schema: str | None = None,
        *,
        return_record_name: bool = False,
    ) -> None:
        self._client = client
        self._reader = _parse(reader_schema) if reader_schema is not None else None
        self._return_record_name = return_record_name
        self._writers: dict[int, ParsedAvro] = {}

    def _writer(self, schema_id: int) -> ParsedAvro:
        registered = writer_schema(self._client, schema_id)
        if registered.schema_type != "AVRO":
            raise SerdeError(f"schema {schema_id} is {registered.schema_type}, not AVRO")
        parsed = self._writers[schema_id] = _parse_with_references(
            self._client, registered.schema, registered.references
        )
        return parsed

    def __call__(self, data: bytes | None, topic: str | None = None) -> Any:
        """The value a framed record holds (None stays None)."""
        if data is None:
            return None
        schema_id, body = unframe(data)
        writer = self._writers.get(schema_id)
        if writer is None:
            writer = self._writer(schema_id)
        try:
            return schemaless_reader(
                io.BytesIO(body), writer, self._reader, self._return_record_name
            )
        except (ValueError, TypeError, KeyError, IndexError, EOFError, StopIteration) as exc:
            raise SerdeError(f"record {schema_id} is not valid Avro for its schema: {exc}") from exc
