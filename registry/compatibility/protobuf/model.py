"""What the Protobuf rules look at, indexed once per schema: every type by full name, the file
and reference it comes from, and each message's fields in the shape Confluent's checker sees
(labels as written, map fields as maps, proto3 `optional` as a label, not a oneof)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from google.protobuf import descriptor_pb2

from registry.formats.protobuf import ProtobufSchema
from registry.formats.protobuf.printer import SCALAR_NAMES

FDP = descriptor_pb2.FieldDescriptorProto

#: Confluent's scalar kinds: a change within one kind keeps the wire type.
SCALAR_KINDS = {
    "int32": "GENERAL_NUMBER",
    "int64": "GENERAL_NUMBER",
    "uint32": "GENERAL_NUMBER",
    "uint64": "GENERAL_NUMBER",
    "bool": "GENERAL_NUMBER",
    "sint32": "SIGNED_NUMBER",
    "sint64": "SIGNED_NUMBER",
    "string": "STRING_OR_BYTES",
    "bytes": "STRING_OR_BYTES",
    "fixed32": "FIXED32",
    "sfixed32": "FIXED32",
    "fixed64": "FIXED64",
    "sfixed64": "FIXED64",
    "float": "FLOAT",
    "double": "DOUBLE",
}
NUMERIC_KINDS = frozenset(
    {"GENERAL_NUMBER", "SIGNED_NUMBER", "FIXED32", "FIXED64", "FLOAT", "DOUBLE"}
)


@dataclass(frozen=True, slots=True)
class TypeRef:
    """A field's type: a scalar name, or a named type's full name (no leading dot)."""

    scalar: str | None = None
    named: str | None = None


@dataclass(frozen=True, slots=True)
class Field:
    """One field as the rules see it."""

    name: str
    number: int
    label: str | None  # "optional" | "required" | "repeated" | None (none written)
    type: TypeRef
    map_key: TypeRef | None = None
    map_value: TypeRef | None = None
    oneof: str | None = None

    @property
    def spelled(self) -> str:
        """The type as written in the schema."""
        if self.map_key is not None and self.map_value is not None:
            return f"map<{_spell(self.map_key)}, {_spell(self.map_value)}>"
        return _spell(self.type)


def _spell(ref: TypeRef) -> str:
    return ref.scalar or f".{ref.named}"


@dataclass(slots=True)
class Message:
    """A message: fields by number, oneofs by name, nested messages and enums by name."""

    full_name: str
    package: str
    # (subject, version, text) of the reference defining it; ("", -1, "") for the root. Confluent
    # compares (subject, version); the text counts too, for trees where versions are not known.
    reference: tuple[str, int, str] | None
    fields: dict[int, Field] = field(default_factory=dict)
    oneofs: dict[str, list[int]] = field(default_factory=dict)
    messages: dict[str, Message] = field(default_factory=dict)
    message_order: list[str] = field(default_factory=list)
    enums: set[str] = field(default_factory=set)


@dataclass(slots=True)
class SchemaModel:
    """Every type the schema can name, and the root file's top-level types."""

    package: str
    messages: dict[str, Message]  # every message (root, references, built-ins) by full name
    enums: set[str]  # every enum by full name
    maps: dict[str, tuple[TypeRef, TypeRef]]  # map entry types -> (key, value)
    top_messages: dict[str, Message]
    top_order: list[str]
    top_enums: set[str]


_SCALAR_REFS = {number: TypeRef(scalar=name) for number, name in SCALAR_NAMES.items()}


@functools.lru_cache(maxsize=65_536)
def _named(type_name: str) -> TypeRef:
    return TypeRef(named=type_name.lstrip("."))


def _type_ref(proto: descriptor_pb2.FieldDescriptorProto) -> TypeRef:
    found = _SCALAR_REFS.get(proto.type)
    return found if found is not None else _named(proto.type_name)


def _label(proto: descriptor_pb2.FieldDescriptorProto, syntax: str, in_oneof: bool) -> str | None:
    if proto.label == FDP.LABEL_REPEATED:
        return "repeated"
    if proto.label == FDP.LABEL_REQUIRED:
        return "required"
    if in_oneof or syntax == "editions":
        return None
    if syntax == "proto3":
        return "optional" if proto.proto3_optional else None
    return "optional"


class _Builder:
    def __init__(self) -> None:
        self.messages: dict[str, Message] = {}
        self.enums: set[str] = set()
        self.maps: dict[str, tuple[TypeRef, TypeRef]] = {}

    def file(
        self, proto: descriptor_pb2.FileDescriptorProto, reference: tuple[str, int, str] | None
    ) -> tuple[dict[str, Message], list[str], set[str]]:
        prefix = f"{proto.package}." if proto.package else ""
        syntax = proto.syntax or "proto2"
        tops: dict[str, Message] = {}
        order: list[str] = []
        for message in proto.message_type:
            built = self.message(message, prefix, proto.package, reference, syntax)
            if built is not None:
                tops[message.name] = built
                order.append(message.name)
        top_enums = {enum.name for enum in proto.enum_type}
        self.enums.update(prefix + name for name in top_enums)
        return tops, order, top_enums

    def message(
        self,
        proto: descriptor_pb2.DescriptorProto,
        prefix: str,
        package: str,
        reference: tuple[str, int, str] | None,
        syntax: str,
    ) -> Message | None:
        full = prefix + proto.name
        if proto.options.map_entry:
            self.maps[full] = (_type_ref(proto.field[0]), _type_ref(proto.field[1]))
            return None
        built = Message(full, package, reference)
        self.messages[full] = built
        synthetic = {f.oneof_index for f in proto.field if f.proto3_optional}
        for field_proto in proto.field:
            oneof = None
            if field_proto.HasField("oneof_index") and field_proto.oneof_index not in synthetic:
                oneof = proto.oneof_decl[field_proto.oneof_index].name
                built.oneofs.setdefault(oneof, []).append(field_proto.number)
            built.fields[field_proto.number] = Field(
                field_proto.name,
                field_proto.number,
                _label(field_proto, syntax, oneof is not None),
                _type_ref(field_proto),
                oneof=oneof,
            )
        for nested in proto.nested_type:
            child = self.message(nested, full + ".", package, reference, syntax)
            if child is not None:
                built.messages[nested.name] = child
                built.message_order.append(nested.name)
        for enum in proto.enum_type:
            built.enums.add(enum.name)
            self.enums.add(f"{full}.{enum.name}")
        return built

    def resolve_maps(self) -> None:
        """Map fields become (key, value) once every entry type is known."""
        for message in self.messages.values():
            for number, found in list(message.fields.items()):
                entry = self.maps.get(found.type.named or "")
                if entry is not None and found.label == "repeated":
                    message.fields[number] = Field(
                        found.name, number, None, found.type, entry[0], entry[1], found.oneof
                    )


def build_model(schema: ProtobufSchema) -> SchemaModel:
    """Index a schema for the rules (cached on the schema by the caller)."""
    builder = _Builder()
    by_name = {ref.name: (ref.subject, ref.version, ref.schema) for ref in schema.references}
    for name, proto in schema.files.items():
        builder.file(proto, by_name.get(name))
    tops, order, top_enums = builder.file(schema.proto, ("", -1, ""))
    builder.resolve_maps()
    return SchemaModel(
        schema.proto.package,
        builder.messages,
        builder.enums,
        builder.maps,
        tops,
        order,
        top_enums,
    )
