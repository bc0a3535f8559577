"""Key and value formats of `produce` and `consume` (`--key-format`, `--value-format`).

`string` passes bytes through; `json` checks (produce) or parses (consume) JSON text; every
format in `SCHEMA_FORMATS` writes and reads Confluent's wire format with the project's own
serdes and the schema registry, as `kafka-avro-console-producer` and `kcat -s avro` do. `auto`
(consume only) decodes a record that is registry-framed with a schema of a known type and
leaves any other record as it is. A new registry format is one line in `SCHEMA_FORMATS`.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from registry.client import RegistryClient, RegistryClientError
from registry.serde import (
    AvroDeserializer,
    AvroSerializer,
    JSONDeserializer,
    JSONSerializer,
    ProtobufJSONDeserializer,
    ProtobufJSONSerializer,
    SerdeError,
)
from registry.serde.wire import HEADER_SIZE, MAGIC_BYTE, unframe

Serializer = Callable[[Any, str, bool], bytes | None]
Deserializer = Callable[[bytes | None, str | None], Any]


@dataclass(frozen=True)
class SchemaFormat:
    """A registry-backed format: its `schemaType` and the serdes that speak it."""

    schema_type: str
    serializer: Callable[..., Serializer]
    deserializer: Callable[[RegistryClient], Deserializer]


#: CLI name -> registry format. Adding a format that the registry and serdes support is one line.
SCHEMA_FORMATS: dict[str, SchemaFormat] = {
    "avro": SchemaFormat("AVRO", AvroSerializer, AvroDeserializer),
    "jsonschema": SchemaFormat("JSON", JSONSerializer, JSONDeserializer),
    "protobuf": SchemaFormat("PROTOBUF", ProtobufJSONSerializer, ProtobufJSONDeserializer),
}
PLAIN_FORMATS = ("string", "json")
PRODUCE_FORMATS = (*PLAIN_FORMATS, *SCHEMA_FORMATS)
CONSUME_FORMATS = (*PRODUCE_FORMATS, "auto")


def needs_registry(*formats: str) -> bool:
    """Whether any of these formats talks to the schema registry."""
    return any(f in SCHEMA_FORMATS or f == "auto" for f in formats)


def _json_default(value: Any) -> Any:
    """JSON for the values Avro decoding returns beyond JSON's own types."""
    if isinstance(value, bytes):
        return value.decode("latin-1")  # Avro's JSON encoding of bytes and fixed
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    raise TypeError(f"{type(value).__name__} has no JSON form")


def to_json(value: Any) -> str:
    """Compact JSON text of a decoded value."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)


@dataclass(frozen=True)
class Decoded:
    """A decoded key or value: a JSON value, and the registry schema id it was written with."""

    value: Any
    schema_id: int | None = None

    def text(self) -> bytes:
        """The value as output text (compact JSON)."""
        return to_json(self.value).encode()


class RecordEncoder:
    """Turns the key and value text of an input line into the bytes `produce` sends."""

    def __init__(
        self,
        topic: str,
        key_format: str,
        value_format: str,
        serializers: dict[bool, Serializer],
    ) -> None:
        self._topic = topic
        self._formats = {True: key_format, False: value_format}
        self._serializers = serializers

    def _one(self, data: bytes | None, is_key: bool, number: int) -> bytes | None:
        fmt = self._formats[is_key]
        if data is None or fmt == "string":
            return data
        what = "key" if is_key else "value"
        try:
            value = json.loads(data)
        except ValueError as exc:
            raise click.ClickException(f"line {number}: the {what} is not JSON ({exc})") from None
        if fmt == "json":
            return data
        try:
            return self._serializers[is_key](value, self._topic, is_key)
        except SerdeError as exc:
            raise click.ClickException(f"line {number}: the {what}: {exc}") from None

    def __call__(
        self, key: bytes | None, value: bytes | None, number: int
    ) -> tuple[bytes | None, bytes | None]:
        """The (key, value) to send for input line `number`."""
        return self._one(key, True, number), self._one(value, False, number)


def make_serializer(
    client: RegistryClient, fmt: str, schema: str | None, subject: str | None
) -> Serializer:
    """A serializer that registers `schema` (or, without one, writes with the latest version)
    under `subject` (default: Confluent's TopicNameStrategy, `<topic>-key|value`)."""
    kwargs: dict[str, Any] = {"use_latest": schema is None}
    if subject is not None:
        kwargs["subject_name_strategy"] = lambda _topic, _is_key, _record: subject
    try:
        return SCHEMA_FORMATS[fmt].serializer(client, schema, **kwargs)
    except SerdeError as exc:
        raise click.ClickException(f"the {fmt} schema: {exc}") from None


def _framed_id(data: bytes) -> int | None:
    if len(data) < HEADER_SIZE or data[0] != MAGIC_BYTE:
        return None
    return unframe(data)[0]


class RecordDecoder:
    """Turns the bytes of a consumed key or value into what `consume` prints."""

    def __init__(self, fmt: str, client: RegistryClient | None) -> None:
        self._format = fmt
        self._client = client
        self._deserializers: dict[str, Deserializer] = {}

    def _deserializer(self, name: str) -> Deserializer:
        found = self._deserializers.get(name)
        if found is None:
            assert self._client is not None
            found = self._deserializers[name] = SCHEMA_FORMATS[name].deserializer(self._client)
        return found

    def _auto(self, data: bytes, topic: str) -> bytes | Decoded:
        schema_id = _framed_id(data)
        if schema_id is None:
            return data
        assert self._client is not None
        try:
            schema_type = self._client.get_schema(schema_id).schema_type
        except RegistryClientError as exc:
            if exc.status == 404:
                return data  # a leading zero byte, not a registry frame
            raise click.ClickException(f"schema registry: {exc.message}") from None
        name = next((n for n, f in SCHEMA_FORMATS.items() if f.schema_type == schema_type), None)
        if name is None:
            return data
        try:
            return Decoded(self._deserializer(name)(data, topic), schema_id)
        except SerdeError:
            return data

    def __call__(self, data: bytes | None, topic: str, where: str) -> bytes | Decoded | None:
        """Raw bytes (string format, or `auto` on an unframed record), a `Decoded` value, or
        None for a null; a record the format cannot read is an error naming `where`."""
        if data is None or self._format == "string":
            return data
        if self._format == "auto":
            return self._auto(data, topic)
        if self._format == "json":
            try:
                return Decoded(json.loads(data))
            except ValueError:
                raise click.ClickException(f"{where} is not JSON") from None
        try:
            return Decoded(self._deserializer(self._format)(data, topic), _framed_id(data))
        except SerdeError as exc:
            raise click.ClickException(f"{where}: {exc}") from None
        except RegistryClientError as exc:
            raise click.ClickException(f"{where}: schema registry: {exc.message}") from None


def as_bytes(item: bytes | Decoded | None) -> bytes | None:
    """What text output prints for a key or value."""
    return item.text() if isinstance(item, Decoded) else item


def json_field(item: bytes | Decoded | None, field: str, out: dict[str, Any]) -> None:
    """Put a key or value into a JSON output object: decoded values as JSON (with their
    schema id), bytes as UTF-8 text or, when not text, base64 flagged `<field>_encoding`."""
    if isinstance(item, Decoded):
        out[field] = json.loads(to_json(item.value))
        if item.schema_id is not None:
            out[f"{field}_schema_id"] = item.schema_id
        return
    if item is None:
        out[field] = None
        return
    try:
        out[field] = item.decode("utf-8")
    except UnicodeDecodeError:
        out[field] = base64.b64encode(item).decode("ascii")
        out[f"{field}_encoding"] = "base64"
