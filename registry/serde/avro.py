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
from fastavro.schema import SchemaParseException, UnknownType

from registry.client import RegistryClient
from registry.formats.base import SchemaReference
from registry.serde.avro_writer import Encoder, ShapeMismatchError, compile_writer
from registry.serde.base import SubjectSchemas, referenced_schemas, writer_schema
from registry.serde.recode import Decoded
from registry.serde.strategies import SubjectNameStrategy, topic_name_strategy
from registry.serde.wire import HEADER_SIZE, SerdeError, unframe

ParsedAvro = Any


def _parse(schema: str, named: dict[str, Any] | None = None) -> ParsedAvro:
    try:
        return parse_schema(json.loads(schema), named_schemas=named if named is not None else {})
    except (
        SchemaParseException,
        UnknownType,
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
    ) as exc:
        raise SerdeError(f"invalid Avro schema: {exc}") from exc


def _parse_with_references(
    client: RegistryClient, schema: str, references: Iterable[SchemaReference]
) -> ParsedAvro:
    return _parse_named(client, schema, references)[0]


def _parse_named(
    client: RegistryClient, schema: str, references: Iterable[SchemaReference]
) -> tuple[ParsedAvro, dict[str, Any]]:
    named: dict[str, Any] = {}
    for _, text in referenced_schemas(client, references):
        _parse(text, named)
    return _parse(schema, named), named


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
        self._parsed: dict[str, tuple[ParsedAvro, Encoder | None]] = {}
        parsed = None
        if schema is not None:
            parsed, named = _parse_named(client, schema, self._references)
            self._parsed[schema] = (parsed, compile_writer(parsed, named))
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
        self._writers: dict[tuple[str, bool], tuple[bytes, ParsedAvro, Encoder | None]] = {}

    def _writer(self, topic: str, is_key: bool) -> tuple[bytes, ParsedAvro, Encoder | None]:
        found = self._schemas.writer(topic, is_key)
        compiled = self._parsed.get(found.schema)
        if compiled is None:
            registered = writer_schema(self._client, found.schema_id)
            parsed, named = _parse_named(self._client, registered.schema, registered.references)
            compiled = self._parsed[found.schema] = (parsed, compile_writer(parsed, named))
        entry = self._writers[(topic, is_key)] = (found.prefix, *compiled)
        return entry

    def __call__(self, value: Any, topic: str, is_key: bool = False) -> bytes | None:
        """The framed Avro bytes of `value` (None stays None)."""
        if value is None:
            return None
        prefix, parsed, encode = self._writers.get((topic, is_key)) or self._writer(topic, is_key)
        return _write(prefix, parsed, encode, value)


def _write(prefix: bytes, parsed: ParsedAvro, encode: Encoder | None, value: Any) -> bytes:
    """`prefix` and the Avro encoding of `value` (the compiled encoder when the value has
    the plain shape, fastavro otherwise, which also explains a mismatch)."""
    if encode is not None:
        buffer = bytearray(prefix)
        try:
            encode(buffer, value)
            return bytes(buffer)
        except (ShapeMismatchError, RecursionError):
            pass  # not the plain shape: let fastavro decide (and explain)
    out = io.BytesIO()
    out.write(prefix)
    try:
        schemaless_writer(out, parsed, value)
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        raise SerdeError(f"value does not match the Avro schema: {exc}") from exc
    except RecursionError:
        raise SerdeError("value is nested too deeply to serialize") from None
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


class AvroRecoder:
    """Decode framed Avro records and write values back with the same schema id."""

    def __init__(self, client: RegistryClient) -> None:
        self._client = client
        self._reader = AvroDeserializer(client)
        self._writers: dict[int, tuple[ParsedAvro, Encoder | None]] = {}

    def decode(self, data: bytes) -> Decoded:
        """The record's header and value (see `AvroDeserializer`)."""
        schema_id, _ = unframe(data)
        return Decoded(schema_id, bytes(data[:HEADER_SIZE]), self._reader(data))

    def encode(self, decoded: Decoded, value: Any) -> bytes:
        """`value` in Avro under `decoded`'s header, with its writer schema."""
        compiled = self._writers.get(decoded.schema_id)
        if compiled is None:
            registered = writer_schema(self._client, decoded.schema_id)
            parsed, named = _parse_named(self._client, registered.schema, registered.references)
            compiled = self._writers[decoded.schema_id] = (parsed, compile_writer(parsed, named))
        return _write(decoded.prefix, *compiled, value)
