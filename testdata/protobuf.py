"""Protobuf values, as the JSON mapping of the schema's first message (what the registry's
`ProtobufJSONSerializer` takes): every scalar type, enums, nested and recursive messages,
repeated fields, maps, oneofs (one member set), proto3 `optional`, proto2 `required`, and the
well-known types a JSON mapping can carry (Timestamp, Duration, wrappers, Struct, Value,
ListValue, FieldMask, Empty; an `Any` is left unset). Each value is checked by parsing it into
the message class (`json_format.ParseDict`) and requiring it initialized."""

from __future__ import annotations

import base64
import datetime
from collections.abc import Callable
from typing import Any

from google.protobuf import json_format, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from registry.formats.protobuf import ProtobufSchema
from testdata.core import MAX_DEPTH, GenerationError, ValueGenerator
from testdata.words import WORDS, text_maker

F = FieldDescriptor
_INTS32 = {F.TYPE_INT32, F.TYPE_UINT32, F.TYPE_SINT32, F.TYPE_FIXED32, F.TYPE_SFIXED32}
_INTS64 = {F.TYPE_INT64, F.TYPE_UINT64, F.TYPE_SINT64, F.TYPE_FIXED64, F.TYPE_SFIXED64}
_WRAPPERS = {
    "google.protobuf.DoubleValue": F.TYPE_DOUBLE,
    "google.protobuf.FloatValue": F.TYPE_FLOAT,
    "google.protobuf.Int64Value": F.TYPE_INT64,
    "google.protobuf.UInt64Value": F.TYPE_UINT64,
    "google.protobuf.Int32Value": F.TYPE_INT32,
    "google.protobuf.UInt32Value": F.TYPE_UINT32,
    "google.protobuf.BoolValue": F.TYPE_BOOL,
    "google.protobuf.StringValue": F.TYPE_STRING,
    "google.protobuf.BytesValue": F.TYPE_BYTES,
}


def _map_key(key: Any) -> str:
    """A map key as the JSON mapping spells it (`true`, `42`, text)."""
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


class ProtobufGenerator(ValueGenerator):
    """Values for the first message of a Protobuf schema."""

    def prepare(self) -> None:
        """Find the message and its class."""
        parsed = self.parsed
        if not isinstance(parsed, ProtobufSchema):
            raise GenerationError("not a parsed Protobuf schema")
        self._message = parsed.message([0])
        self._class = message_factory.GetMessageClass(self._message)
        self._package = parsed.file.package if hasattr(parsed, "file") else ""
        self._schema_tags = {tag.path: tag.tags for tag in parsed.field_tags()}
        self._texts: dict[str, Callable[[], str]] = {}
        self._fakes: dict[str, Callable[[], str] | None] = {}

    def candidate(self) -> Any:
        """The JSON mapping of a message."""
        return self._fields(self._message, "", 0)

    def problem(self, value: Any) -> str | None:
        """Why the message class refuses the value, or None."""
        try:
            message = json_format.ParseDict(value, self._class())
        except (json_format.ParseError, ValueError, TypeError) as exc:
            return str(exc)
        if not message.IsInitialized():
            return "required fields are missing: " + ", ".join(message.FindInitializationErrors())
        return None

    def _fields(self, message: Descriptor, path: str, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for oneof in message.oneofs:
            members = list(oneof.fields)
            synthetic = (
                len(members) == 1
                and members[0].has_presence
                and members[0].name in (oneof.name.lstrip("_"),)
            )
            if synthetic and self.rng.random() < 0.3:
                continue
            field = self.rng.choice(members)
            if field.message_type is not None and depth >= MAX_DEPTH:
                continue
            out[field.name] = self._field(field, path, depth)
        for field in message.fields:
            if field.containing_oneof is not None or field.name in out:
                continue
            if field.message_type is not None and depth >= MAX_DEPTH and not field.is_required:
                continue
            out[field.name] = self._field(field, path, depth)
        return out

    def _field(self, field: FieldDescriptor, path: str, depth: int) -> Any:
        child = f"{path}.{field.name}" if path else field.name
        if field.is_repeated:
            entry = field.message_type
            # Fewer entries the deeper they are, so recursive messages stay small.
            count = int(self.rng.random() * max(0, 4 - depth // 2))
            if entry is not None and entry.GetOptions().map_entry:
                key_field, value_field = entry.fields_by_name["key"], entry.fields_by_name["value"]
                return {
                    _map_key(self._single(key_field, child, depth + 1)): self._single(
                        value_field, child, depth + 1
                    )
                    for _ in range(count)
                }
            return [self._single(field, child, depth + 1) for _ in range(count)]
        return self._single(field, child, depth + 1)

    def _single(self, field: FieldDescriptor, path: str, depth: int) -> Any:
        message = field.message_type
        if message is not None:
            return self._message_value(message, path, depth)
        if field.type == F.TYPE_ENUM:
            return self.rng.choice(field.enum_type.values).name
        if field.type == F.TYPE_STRING:
            fake = self._fake(field, path)
            if fake is not None:
                return fake()
        return self._scalar(field.type, path)

    def _scalar(self, kind: int, path: str) -> Any:
        rng = self.rng
        if kind in _INTS32:
            return rng.getrandbits(17)
        if kind in _INTS64:
            return rng.getrandbits(34)
        if kind in (F.TYPE_FLOAT, F.TYPE_DOUBLE):
            return rng.getrandbits(20) / 100
        if kind == F.TYPE_BOOL:
            return rng.random() < 0.5
        if kind == F.TYPE_BYTES:
            return base64.b64encode(rng.randbytes(rng.getrandbits(4))).decode("ascii")
        found = self._texts.get(path)
        if found is None:
            found = self._texts[path] = text_maker(rng, path.rpartition(".")[2])
        return found()

    def _message_value(self, message: Descriptor, path: str, depth: int) -> Any:
        name = message.full_name
        rng = self.rng
        if name == "google.protobuf.Timestamp":
            start = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
            moment = start + datetime.timedelta(seconds=rng.randrange(10 * 365 * 86_400))
            return moment.isoformat().replace("+00:00", "Z")
        if name == "google.protobuf.Duration":
            return f"{rng.getrandbits(16)}.{rng.getrandbits(9):03d}s"
        if name in _WRAPPERS:
            return self._scalar(_WRAPPERS[name], path)
        if name == "google.protobuf.Struct":
            return {WORDS[rng.getrandbits(5)]: self._scalar(F.TYPE_STRING, path)}
        if name == "google.protobuf.Value":
            return self._scalar(F.TYPE_STRING, path)
        if name == "google.protobuf.ListValue":
            return [self._scalar(F.TYPE_STRING, path)]
        if name == "google.protobuf.FieldMask":
            return WORDS[rng.getrandbits(5)]
        if name in ("google.protobuf.Empty", "google.protobuf.Any"):
            return {}
        if depth > 4 * MAX_DEPTH:
            raise GenerationError(f"message {name} contains itself with no way to end")
        return self._fields(message, path, depth)

    def _fake(self, field: FieldDescriptor, path: str) -> Callable[[], str] | None:
        if path not in self._fakes:
            # Schema tags are keyed by the message path inside the file: /Outer/Inner/field.
            full = field.full_name
            if self._package and full.startswith(self._package + "."):
                full = full[len(self._package) + 1 :]
            pointer = "/" + full.replace(".", "/")
            tags = self._schema_tags.get(pointer, ())
            self._fakes[path] = self.tags.fake(path, field.name, tags, pointer)
        return self._fakes[path]
