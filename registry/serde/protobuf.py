"""Protobuf serializer and deserializer in Confluent's wire format.

A record is the 5-byte header (magic 0, schema id), the message-index array that names the
message inside the schema's file, then the message's Protobuf encoding, byte for byte as
confluent-kafka's `ProtobufSerializer` writes it. The index array is a count and the indexes
as zigzag varints (`[1, 0]`: the first message nested in the file's second), with `[0]`, the
first top-level message, written as the single byte 0.

The serializer registers the message's file as confluent-kafka does: the file as a base64
`FileDescriptorProto`, each imported file (except the built-in ones) first, under a subject
named like the import (`common/money.proto`), referenced by that name.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from google.protobuf import json_format, message_factory
from google.protobuf.descriptor import Descriptor, FileDescriptor
from google.protobuf.message import DecodeError, EncodeError, Message

from registry.client import RegistryClient, RegistryClientError
from registry.formats.base import ResolvedReference, SchemaError, SchemaReference
from registry.formats.protobuf import ProtobufSchema, parse_protobuf
from registry.formats.protobuf.builtins import is_builtin
from registry.serde.base import SubjectSchemas, referenced_schemas, writer_schema
from registry.serde.recode import Decoded
from registry.serde.strategies import SubjectNameStrategy, topic_name_strategy
from registry.serde.wire import HEADER_SIZE, SerdeError, unframe

#: More indexes than messages can nest is not an index array.
MAX_INDEXES = 128


def _zigzag(value: int) -> int:
    return (value << 1) ^ (value >> 63)


def _varint(value: int, out: bytearray) -> None:
    value &= 0xFFFFFFFFFFFFFFFF
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def encode_indexes(indexes: Sequence[int]) -> bytes:
    """The message-index array as Confluent writes it."""
    if list(indexes) == [0]:
        return b"\x00"
    out = bytearray()
    _varint(_zigzag(len(indexes)), out)
    for index in indexes:
        _varint(_zigzag(index), out)
    return bytes(out)


def _read_varint(data: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise SerdeError("record ends inside its message-index array")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            break
        shift += 7
        if shift > 63:
            raise SerdeError("a message index is not a valid varint")
    return (result >> 1) ^ -(result & 1), pos


def decode_indexes(data: memoryview) -> tuple[list[int], int]:
    """The message-index array at the start of `data` and the offset after it."""
    count, pos = _read_varint(data, 0)
    if count == 0:
        return [0], pos
    if not 0 < count <= MAX_INDEXES:
        raise SerdeError(f"message-index array of length {count} (at most {MAX_INDEXES})")
    indexes = []
    for _ in range(count):
        index, pos = _read_varint(data, pos)
        if index < 0:
            raise SerdeError(f"negative message index {index}")
        indexes.append(index)
    return indexes, pos


def message_indexes(descriptor: Descriptor) -> list[int]:
    """Where a message sits in its file: top-level index, then nested indexes."""
    path: list[int] = []
    current = descriptor
    while current.containing_type is not None:
        parent = current.containing_type
        path.append(list(parent.nested_types).index(current))
        current = parent
    path.append(list(current.file.message_types_by_name.values()).index(current))
    return list(reversed(path))


def _schema_text(file: FileDescriptor) -> str:
    return base64.standard_b64encode(file.serialized_pb).decode("ascii")


class ProtobufSerializer:
    """Serialize messages of one generated (or dynamic) Protobuf class to framed records."""

    def __init__(
        self,
        client: RegistryClient,
        message_type: type[Message],
        *,
        auto_register: bool = True,
        use_latest: bool = False,
        normalize: bool = False,
        subject_name_strategy: SubjectNameStrategy = topic_name_strategy,
    ) -> None:
        self._client = client
        self._type = message_type
        descriptor: Descriptor = message_type.DESCRIPTOR
        self._indexes = encode_indexes(message_indexes(descriptor))
        self._file = descriptor.file
        self._options = (auto_register, use_latest, normalize, subject_name_strategy)
        self._record_name = descriptor.full_name
        self._schemas: SubjectSchemas | None = None
        self._prefixes: dict[tuple[str, bool], bytes] = {}

    def _references(
        self, file: FileDescriptor, seen: dict[str, SchemaReference]
    ) -> list[SchemaReference]:
        auto_register, _, normalize, _ = self._options
        out = []
        for dependency in file.dependencies:
            if is_builtin(dependency.name):
                continue
            found = seen.get(dependency.name)
            if found is None:
                nested = self._references(dependency, seen)
                text = _schema_text(dependency)
                subject = dependency.name
                try:
                    if auto_register:
                        self._client.register(subject, text, "PROTOBUF", nested, normalize)
                    version = self._client.lookup(subject, text, "PROTOBUF", nested, normalize)
                except RegistryClientError as exc:
                    raise SerdeError(f"cannot register import {dependency.name!r}: {exc}") from exc
                found = seen[dependency.name] = SchemaReference(
                    dependency.name, subject, int(version.version or 0)
                )
            out.append(found)
        return out

    def _prefix(self, topic: str, is_key: bool) -> bytes:
        if self._schemas is None:
            auto_register, use_latest, normalize, strategy = self._options
            references = [] if use_latest else self._references(self._file, {})
            self._schemas = SubjectSchemas(
                self._client,
                None if use_latest else _schema_text(self._file),
                "PROTOBUF",
                references,
                record_name=self._record_name,
                auto_register=auto_register,
                use_latest=use_latest,
                normalize=normalize,
                subject_name_strategy=strategy,
            )
        prefix = self._schemas.writer(topic, is_key).prefix + self._indexes
        self._prefixes[(topic, is_key)] = prefix
        return prefix

    def __call__(self, value: Message | None, topic: str, is_key: bool = False) -> bytes | None:
        """The framed bytes of `value` (None stays None)."""
        if value is None:
            return None
        if not isinstance(value, self._type):
            raise SerdeError(
                f"value must be a {self._type.DESCRIPTOR.full_name} message, "
                f"not {type(value).__name__}"
            )
        prefix = self._prefixes.get((topic, is_key)) or self._prefix(topic, is_key)
        try:
            return prefix + value.SerializeToString()
        except Exception as exc:  # EncodeError: a proto2 required field unset
            raise SerdeError(f"message cannot be serialized: {exc}") from exc


def parse_registered(
    client: RegistryClient, schema: str, references: Sequence[SchemaReference]
) -> ProtobufSchema:
    """A registered Protobuf schema, its references fetched from the registry."""
    resolved = [
        ResolvedReference(name, "", 0, text)
        for name, text in referenced_schemas(client, references)
    ]
    try:
        return parse_protobuf(schema, resolved)
    except SchemaError as exc:
        raise SerdeError(f"invalid Protobuf schema: {exc}") from exc


class ProtobufDeserializer:
    """Read framed Protobuf records: into `message_type` when given, else into a message class
    built from the writer's schema (fetched by id, cached)."""

    def __init__(self, client: RegistryClient, message_type: type[Message] | None = None) -> None:
        self._client = client
        self._type = message_type
        self._classes: dict[tuple[int, tuple[int, ...]], type[Message]] = {}

    def message_class(self, schema_id: int, indexes: Sequence[int]) -> type[Message]:
        """The class for the message the writer named (cached by id and indexes)."""
        key = (schema_id, tuple(indexes))
        found = self._classes.get(key)
        if found is None:
            registered = writer_schema(self._client, schema_id)
            if registered.schema_type != "PROTOBUF":
                raise SerdeError(f"schema {schema_id} is {registered.schema_type}, not PROTOBUF")
            parsed = parse_registered(self._client, registered.schema, registered.references)
            try:
                descriptor = parsed.message(indexes)
            except SchemaError as exc:
                raise SerdeError(f"record of schema {schema_id}: {exc}") from None
            found = self._classes[key] = message_factory.GetMessageClass(descriptor)
        return found

    def __call__(self, data: bytes | None, topic: str | None = None) -> Message | None:
        """The message a framed record holds (None stays None)."""
        if data is None:
            return None
        return self.decode(data)[1]

    def decode(self, data: bytes) -> tuple[int, Message, int]:
        """(schema id, message, length of the header and message indexes) of a framed record."""
        schema_id, body = unframe(data)
        indexes, offset = decode_indexes(body)
        cls = self._type or self.message_class(schema_id, indexes)
        message = cls()
        try:
            message.ParseFromString(body[offset:])
        except DecodeError as exc:
            raise SerdeError(f"record of schema {schema_id} is not valid Protobuf: {exc}") from exc
        return schema_id, message, HEADER_SIZE + offset


class ProtobufRecoder:
    """Decode framed Protobuf records into messages of the writer's schema and write them
    back with the same schema id and message indexes."""

    def __init__(self, client: RegistryClient) -> None:
        self._reader = ProtobufDeserializer(client)

    def decode(self, data: bytes) -> Decoded:
        """The record's header with its message indexes, and the message."""
        schema_id, message, size = self._reader.decode(data)
        return Decoded(schema_id, bytes(data[:size]), message)

    def encode(self, decoded: Decoded, value: Any) -> bytes:
        """The message under `decoded`'s header and message indexes."""
        if not isinstance(value, Message):
            raise SerdeError(f"a Protobuf record holds a message, not {type(value).__name__}")
        try:
            return decoded.prefix + value.SerializeToString()
        except EncodeError as exc:  # a proto2 required field unset
            raise SerdeError(f"message cannot be serialized: {exc}") from exc


class ProtobufJSONSerializer:
    """Serialize JSON values (Protobuf's JSON mapping) as the first message of a `.proto`
    schema, for tools that hold no generated classes (`streamgov produce`). Without a schema
    (`use_latest`) it writes with the subject's latest registered schema."""

    def __init__(
        self,
        client: RegistryClient,
        schema: str | None = None,
        *,
        auto_register: bool = True,
        use_latest: bool = False,
        normalize: bool = False,
        subject_name_strategy: SubjectNameStrategy = topic_name_strategy,
    ) -> None:
        self._client = client
        record_name = None
        if schema is not None:
            try:
                record_name = parse_protobuf(schema).name
            except SchemaError as exc:
                raise SerdeError(f"invalid Protobuf schema: {exc}") from exc
        self._schemas = SubjectSchemas(
            client,
            schema,
            "PROTOBUF",
            record_name=record_name,
            auto_register=auto_register,
            use_latest=use_latest,
            normalize=normalize,
            subject_name_strategy=subject_name_strategy,
        )
        self._writers: dict[tuple[str, bool], tuple[bytes, type[Message]]] = {}

    def _writer(self, topic: str, is_key: bool) -> tuple[bytes, type[Message]]:
        found = self._schemas.writer(topic, is_key)
        registered = writer_schema(self._client, found.schema_id)
        parsed = parse_registered(self._client, registered.schema, registered.references)
        try:
            cls = message_factory.GetMessageClass(parsed.message([0]))
        except SchemaError as exc:
            raise SerdeError(f"schema {found.schema_id}: {exc}") from None
        entry = self._writers[(topic, is_key)] = (found.prefix + encode_indexes([0]), cls)
        return entry

    def __call__(self, value: Any, topic: str, is_key: bool = False) -> bytes | None:
        """The framed bytes of the message `value` describes (None stays None)."""
        if value is None:
            return None
        prefix, cls = self._writers.get((topic, is_key)) or self._writer(topic, is_key)
        try:
            message = json_format.ParseDict(value, cls())
            return prefix + message.SerializeToString()
        except (json_format.ParseError, EncodeError, ValueError, TypeError) as exc:
            name = cls.DESCRIPTOR.full_name
            raise SerdeError(f"value does not match Protobuf message {name}: {exc}") from None


class ProtobufJSONDeserializer:
    """Read framed Protobuf records as JSON-compatible data (see `to_json`)."""

    def __init__(self, client: RegistryClient) -> None:
        self._messages = ProtobufDeserializer(client)

    def __call__(self, data: bytes | None, topic: str | None = None) -> dict[str, Any] | None:
        """The record's message as JSON-compatible data (None stays None)."""
        message = self._messages(data, topic)
        return None if message is None else to_json(message)


def to_json(message: Message) -> dict[str, Any]:
    """A message as JSON-compatible data (Protobuf's JSON mapping, field names as written)."""
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


__all__ = [
    "ProtobufDeserializer",
    "ProtobufJSONDeserializer",
    "ProtobufJSONSerializer",
    "ProtobufRecoder",
    "ProtobufSerializer",
    "decode_indexes",
    "encode_indexes",
    "message_indexes",
    "parse_registered",
    "to_json",
]
