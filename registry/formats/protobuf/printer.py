"""A `.proto` file written from its descriptor: its canonical string and normalized form.

The registry stores and identifies a Protobuf schema by this text, so the same definitions
written with other whitespace, comments or relative type names, or sent as a base64
`FileDescriptorProto` (as confluent-kafka's serializer does), get one id. Types are written
fully qualified (`.pkg.Name`), which protoc reads back to the same descriptor.

The normalized form additionally sorts what Confluent's normalization sorts: imports, options,
fields by number (oneofs by their first field), enum values by number, reserved and extension
ranges. Messages, enums and services keep their order: message indexes on the wire depend on it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from google.protobuf import descriptor_pb2, message_factory, text_encoding, text_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.descriptor_pool import DescriptorPool
from google.protobuf.message import Message

FDP = descriptor_pb2.FieldDescriptorProto
MAX_FIELD_NUMBER = 536_870_911
SCALAR_NAMES = {
    FDP.TYPE_DOUBLE: "double",
    FDP.TYPE_FLOAT: "float",
    FDP.TYPE_INT64: "int64",
    FDP.TYPE_UINT64: "uint64",
    FDP.TYPE_INT32: "int32",
    FDP.TYPE_FIXED64: "fixed64",
    FDP.TYPE_FIXED32: "fixed32",
    FDP.TYPE_BOOL: "bool",
    FDP.TYPE_STRING: "string",
    FDP.TYPE_BYTES: "bytes",
    FDP.TYPE_UINT32: "uint32",
    FDP.TYPE_SFIXED32: "sfixed32",
    FDP.TYPE_SFIXED64: "sfixed64",
    FDP.TYPE_SINT32: "sint32",
    FDP.TYPE_SINT64: "sint64",
}
_LABELS = {FDP.LABEL_OPTIONAL: "optional", FDP.LABEL_REQUIRED: "required"}
_EDITIONS = {
    descriptor_pb2.EDITION_2023: "2023",
    descriptor_pb2.EDITION_2024: "2024",
}


def json_name_default(name: str) -> str:
    """protoc's default `json_name`: lowerCamelCase of the field name."""
    out: list[str] = []
    upper = False
    for char in name:
        if char == "_":
            upper = True
        elif upper:
            out.append(char.upper())
            upper = False
        else:
            out.append(char)
    return "".join(out)


class _Options:
    """Reads option messages with the extensions the schema's files define."""

    def __init__(self, pool: DescriptorPool) -> None:
        self._pool = pool
        self._classes: dict[str, Callable[[], Message]] = {}

    def fields(self, options: Message, normalize: bool) -> list[tuple[str, Any]]:
        """(option name as written, value) for every option set, repeated ones spread out."""
        if not options.ByteSize():
            return []
        full_name = options.DESCRIPTOR.full_name
        cls = self._classes.get(full_name)
        if cls is None:
            try:
                found = self._pool.FindMessageTypeByName(full_name)
                cls = message_factory.GetMessageClass(found)
            except KeyError:
                cls = type(options)
            self._classes[full_name] = cls
        parsed = cls()
        parsed.ParseFromString(options.SerializeToString())
        out: list[tuple[str, Any]] = []
        for field, value in parsed.ListFields():
            if field.name == "map_entry" and not field.is_extension:
                continue
            name = f"({field.full_name})" if field.is_extension else field.name
            if field.is_repeated:
                out.extend((name, (field, item)) for item in value)
            else:
                out.append((name, (field, value)))
        if normalize:
            out.sort(key=lambda item: (item[0], _value(*item[1])))
        return out


def _quote(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return '"' + text_encoding.CEscape(data, as_utf8=isinstance(text, str)) + '"'


def _number(value: float | int) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    return str(value)


def _value(field: FieldDescriptor, value: Any) -> str:
    if field.type == FieldDescriptor.TYPE_MESSAGE or field.type == FieldDescriptor.TYPE_GROUP:
        body = text_format.MessageToString(value, as_one_line=True, as_utf8=True).strip()
        return "{ " + body + " }" if body else "{}"
    if field.type == FieldDescriptor.TYPE_ENUM:
        found = field.enum_type.values_by_number.get(value)
        return found.name if found is not None else str(value)
    if field.type == FieldDescriptor.TYPE_BOOL:
        return "true" if value else "false"
    if field.type in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES):
        return _quote(value)
    return _number(value)


class Printer:
    """Writes one file's descriptor as `.proto` text."""

    def __init__(self, pool: DescriptorPool, normalize: bool = False) -> None:
        self._options = _Options(pool)
        self._normalize = normalize
        self._lines: list[str] = []
        self._proto3 = False
        self._editions = False

    def file(self, proto: descriptor_pb2.FileDescriptorProto) -> str:
        """The whole file."""
        self._lines = []
        self._editions = proto.syntax == "editions"
        self._proto3 = proto.syntax == "proto3"
        if self._editions:
            self._line(0, f'edition = "{_EDITIONS.get(proto.edition, proto.edition)}";')
        else:
            self._line(0, f'syntax = "{proto.syntax or "proto2"}";')
        if proto.package:
            self._line(0, f"package {proto.package};")
        imports = []
        for index, name in enumerate(proto.dependency):
            kind = (
                "public "
                if index in proto.public_dependency
                else "weak "
                if index in proto.weak_dependency
                else ""
            )
            imports.append(f'import {kind}"{name}";')
        if self._normalize:
            imports = sorted(set(imports))
        if imports:
            self._lines.append("")
            for line in imports:
                self._line(0, line)
        self._option_lines(0, proto.options)
        for message in proto.message_type:
            self._lines.append("")
            self._message(0, message)
        for enum in proto.enum_type:
            self._lines.append("")
            self._enum(0, enum)
        self._extensions(0, proto.extension, {})
        for service in proto.service:
            self._lines.append("")
            self._service(service)
        return "\n".join(self._lines) + "\n"

    def _line(self, depth: int, text: str) -> None:
        self._lines.append("  " * depth + text)

    def _option_lines(self, depth: int, options: Message) -> None:
        found = self._options.fields(options, self._normalize)
        if found and depth == 0:
            self._lines.append("")
        for name, (field, value) in found:
            self._line(depth, f"option {name} = {_value(field, value)};")

    def _message(self, depth: int, message: descriptor_pb2.DescriptorProto) -> None:
        self._line(depth, f"message {message.name} {{")
        self._message_body(depth + 1, message)
        self._line(depth, "}")

    def _message_body(self, depth: int, message: descriptor_pb2.DescriptorProto) -> None:
        self._option_lines(depth, message.options)
        entries = {
            nested.name: nested for nested in message.nested_type if nested.options.map_entry
        }
        real_oneofs = _real_oneofs(message)
        plain = [field for field in message.field if not _in_real_oneof(field, real_oneofs)]
        members: dict[int, list[descriptor_pb2.FieldDescriptorProto]] = {}
        for field in message.field:
            if _in_real_oneof(field, real_oneofs):
                members.setdefault(field.oneof_index, []).append(field)
        # Items in the order written: a field, or a oneof at its first field. Normalized:
        # fields by number, then oneofs by their first field.
        items: list[tuple[str, int]] = []
        if self._normalize:
            plain.sort(key=lambda field: field.number)
            for fields in members.values():
                fields.sort(key=lambda field: field.number)
            items = [("field", field.number) for field in plain]
            items += [
                ("oneof", index)
                for index in sorted(members, key=lambda index: members[index][0].number)
            ]
        else:
            for field in message.field:
                if not _in_real_oneof(field, real_oneofs):
                    items.append(("field", field.number))
                elif ("oneof", field.oneof_index) not in items:
                    items.append(("oneof", field.oneof_index))
        by_number = {field.number: field for field in message.field}
        # Nested messages go where they keep their order among the map entries and groups the
        # fields make (message indexes on the wire count them all): before the item that
        # makes the next entry or group.
        makers = {
            field.type_name.rsplit(".", 1)[-1]: field.number
            for field in message.field
            if field.type == FDP.TYPE_GROUP
            or (field.label == FDP.LABEL_REPEATED and field.type_name.rsplit(".", 1)[-1] in entries)
        }
        position = 0

        def emit(item: tuple[str, int]) -> None:
            kind, key = item
            if kind == "field":
                self._field(depth, by_number[key], message, entries)
            else:
                self._oneof(depth, message, key, members[key], entries)

        for nested in message.nested_type:
            made_by = makers.get(nested.name)
            if made_by is None:
                self._message(depth, nested)
                continue
            while position < len(items):
                item = items[position]
                position += 1
                emit(item)
                numbers = [item[1]] if item[0] == "field" else [f.number for f in members[item[1]]]
                if made_by in numbers:
                    break
        for item in items[position:]:
            emit(item)
        for enum in message.enum_type:
            self._enum(depth, enum)
        self._extensions(depth, message.extension, {})
        self._ranges(depth, "extensions", message.extension_range, MAX_FIELD_NUMBER + 1, True)
        self._ranges(depth, "reserved", message.reserved_range, MAX_FIELD_NUMBER + 1, True)
        self._reserved_names(depth, message.reserved_name)

    def _oneof(
        self,
        depth: int,
        message: descriptor_pb2.DescriptorProto,
        index: int,
        fields: list[descriptor_pb2.FieldDescriptorProto],
        entries: dict[str, descriptor_pb2.DescriptorProto],
    ) -> None:
        oneof = message.oneof_decl[index]
        self._line(depth, f"oneof {oneof.name} {{")
        self._option_lines(depth + 1, oneof.options)
        for field in fields:
            self._field(depth + 1, field, message, entries, in_oneof=True)
        self._line(depth, "}")

    def _ranges(
        self, depth: int, keyword: str, ranges: Iterable[Any], maximum: int, exclusive: bool
    ) -> None:
        pairs = [(item.start, item.end - 1 if exclusive else item.end, item) for item in ranges]
        if self._normalize:
            pairs.sort(key=lambda pair: (pair[0], pair[1]))
        for start, end, item in pairs:
            text = (
                str(start) if start == end else f"{start} to {'max' if end >= maximum - 1 else end}"
            )
            options = ""
            if keyword == "extensions" and item.HasField("options"):
                found = self._options.fields(item.options, self._normalize)
                if found:
                    options = " [" + ", ".join(f"{n} = {_value(*v)}" for n, v in found) + "]"
            self._line(depth, f"{keyword} {text}{options};")

    def _reserved_names(self, depth: int, names: Iterable[str]) -> None:
        ordered = sorted(names) if self._normalize else list(names)
        if ordered:
            self._line(depth, "reserved " + ", ".join(_quote(name) for name in ordered) + ";")

    def _field(
        self,
        depth: int,
        field: descriptor_pb2.FieldDescriptorProto,
        message: descriptor_pb2.DescriptorProto | None,
        entries: dict[str, descriptor_pb2.DescriptorProto],
        in_oneof: bool = False,
    ) -> None:
        entry = entries.get(field.type_name.rsplit(".", 1)[-1]) if field.type_name else None
        if entry is not None and field.label == FDP.LABEL_REPEATED:
            key, value = entry.field[0], entry.field[1]
            kind = f"map<{self._type(key)}, {self._type(value)}>"
            label = ""
        else:
            kind = self._type(field)
            label = self._label(field, in_oneof)
        options = self._field_options(field)
        if field.type == FDP.TYPE_GROUP and message is not None:
            group = next(
                (n for n in message.nested_type if n.name == field.type_name.rsplit(".", 1)[-1]),
                None,
            )
            if group is not None:
                self._line(depth, f"{label}group {group.name} = {field.number}{options} {{")
                self._message_body(depth + 1, group)
                self._line(depth, "}")
                return
        self._line(depth, f"{label}{kind} {field.name} = {field.number}{options};")

    def _label(self, field: descriptor_pb2.FieldDescriptorProto, in_oneof: bool) -> str:
        if field.label == FDP.LABEL_REPEATED:
            return "repeated "
        if in_oneof or self._editions:
            return ""
        if self._proto3:
            return "optional " if field.proto3_optional else ""
        return _LABELS[field.label] + " "

    def _type(self, field: descriptor_pb2.FieldDescriptorProto) -> str:
        if field.type in SCALAR_NAMES:
            return SCALAR_NAMES[field.type]
        return field.type_name

    def _field_options(self, field: descriptor_pb2.FieldDescriptorProto) -> str:
        parts: list[str] = []
        if field.HasField("default_value"):
            parts.append(f"default = {self._default(field)}")
        if field.HasField("json_name") and field.json_name != json_name_default(field.name):
            parts.append(f"json_name = {_quote(field.json_name)}")
        parts.extend(
            f"{name} = {_value(*value)}"
            for name, value in self._options.fields(field.options, self._normalize)
        )
        return " [" + ", ".join(parts) + "]" if parts else ""

    @staticmethod
    def _default(field: descriptor_pb2.FieldDescriptorProto) -> str:
        if field.type == FDP.TYPE_STRING:
            return _quote(field.default_value)
        if field.type == FDP.TYPE_BYTES:
            return '"' + field.default_value + '"'  # already C-escaped in the descriptor
        return field.default_value

    def _enum(self, depth: int, enum: descriptor_pb2.EnumDescriptorProto) -> None:
        self._line(depth, f"enum {enum.name} {{")
        self._option_lines(depth + 1, enum.options)
        values = list(enum.value)
        if self._normalize:
            values.sort(key=lambda value: (value.number, value.name))
        for value in values:
            found = self._options.fields(value.options, self._normalize)
            options = (
                " [" + ", ".join(f"{n} = {_value(*v)}" for n, v in found) + "]" if found else ""
            )
            self._line(depth + 1, f"{value.name} = {value.number}{options};")
        self._ranges(depth + 1, "reserved", enum.reserved_range, 2**31, False)
        self._reserved_names(depth + 1, enum.reserved_name)
        self._line(depth, "}")

    def _extensions(
        self,
        depth: int,
        fields: Iterable[descriptor_pb2.FieldDescriptorProto],
        entries: dict[str, descriptor_pb2.DescriptorProto],
    ) -> None:
        by_extendee: dict[str, list[descriptor_pb2.FieldDescriptorProto]] = {}
        for field in fields:
            by_extendee.setdefault(field.extendee, []).append(field)
        extendees = sorted(by_extendee) if self._normalize else list(by_extendee)
        for extendee in extendees:
            if depth == 0:
                self._lines.append("")
            self._line(depth, f"extend {extendee} {{")
            chosen = by_extendee[extendee]
            if self._normalize:
                chosen.sort(key=lambda field: field.number)
            for field in chosen:
                self._field(depth + 1, field, None, entries)
            self._line(depth, "}")

    def _service(self, service: descriptor_pb2.ServiceDescriptorProto) -> None:
        self._line(0, f"service {service.name} {{")
        self._option_lines(1, service.options)
        for method in service.method:
            request = ("stream " if method.client_streaming else "") + method.input_type
            response = ("stream " if method.server_streaming else "") + method.output_type
            head = f"rpc {method.name}({request}) returns ({response})"
            found = self._options.fields(method.options, self._normalize)
            if not found:
                self._line(1, head + ";")
                continue
            self._line(1, head + " {")
            for name, value in found:
                self._line(2, f"option {name} = {_value(*value)};")
            self._line(1, "}")
        self._line(0, "}")


def _real_oneofs(message: descriptor_pb2.DescriptorProto) -> set[int]:
    """Indexes of oneofs written in the schema (not proto3 `optional`'s synthetic ones)."""
    synthetic = {
        field.oneof_index
        for field in message.field
        if field.proto3_optional and field.HasField("oneof_index")
    }
    return set(range(len(message.oneof_decl))) - synthetic


def _in_real_oneof(field: descriptor_pb2.FieldDescriptorProto, real: set[int]) -> bool:
    return field.HasField("oneof_index") and field.oneof_index in real


def print_file(
    proto: descriptor_pb2.FileDescriptorProto, pool: DescriptorPool, normalize: bool = False
) -> str:
    """`proto` as `.proto` text (see the module docstring)."""
    return Printer(pool, normalize).file(proto)
