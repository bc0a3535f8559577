"""Protobuf records for display: the message-index array and the message, as JSON text.

The TUI asks the registry for the writer's schema in Confluent's `serialized` format (base64
`FileDescriptorProto`s, the root and each reference), so it decodes with the `protobuf` runtime
alone. Imports of the well-known types are served by the runtime's own descriptors.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from google.protobuf import (
    any_pb2,
    descriptor_pb2,
    descriptor_pool,
    duration_pb2,
    empty_pb2,
    field_mask_pb2,
    json_format,
    message_factory,
    struct_pb2,
    timestamp_pb2,
    wrappers_pb2,
)

#: Well-known files a schema may import without a reference.
_WELL_KNOWN = {
    module.DESCRIPTOR.name: module.DESCRIPTOR.serialized_pb
    for module in (
        any_pb2,
        duration_pb2,
        empty_pb2,
        field_mask_pb2,
        struct_pb2,
        timestamp_pb2,
        wrappers_pb2,
    )
}
ROOT = "__root__.proto"
MAX_INDEXES = 128


def message_indexes(body: bytes) -> tuple[list[int], int]:
    """The message-index array at the start of a record's body, and where the message starts.

    Zigzag varints: a count (0 means `[0]`, the first message), then that many indexes."""
    values: list[int] = []
    pos = 0
    while True:
        result = shift = 0
        while True:
            if pos >= len(body) or shift > 63:
                raise ValueError("the message-index array is cut short")
            byte = body[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        values.append((result >> 1) ^ -(result & 1))
        count = values[0]
        if count == 0:
            return [0], pos
        if not 0 < count <= MAX_INDEXES:
            raise ValueError(f"a message-index array of length {count}")
        if len(values) == count + 1:
            return values[1:], pos


def decode(body: bytes, schema: str, references: Sequence[tuple[str, str]]) -> str:
    """The record as JSON text; `schema` and `references` ((name, schema) dependencies first)
    are base64 `FileDescriptorProto`s as the registry's `format=serialized` answers them."""
    pool = descriptor_pool.DescriptorPool()
    added: set[str] = set()
    files = [(name, text) for name, text in references]
    root = descriptor_pb2.FileDescriptorProto.FromString(base64.b64decode(schema))
    root.name = ROOT
    protos = []
    for name, text in files:
        proto = descriptor_pb2.FileDescriptorProto.FromString(base64.b64decode(text))
        proto.name = name
        protos.append(proto)
    for proto in (*protos, root):
        for dependency in proto.dependency:
            if dependency in _WELL_KNOWN and dependency not in added:
                added.add(dependency)
                pool.AddSerializedFile(_WELL_KNOWN[dependency])
        if proto.name not in added:
            added.add(proto.name)
            pool.Add(proto)
    indexes, start = message_indexes(body)
    found = pool.FindFileByName(ROOT).message_types_by_name[root.message_type[indexes[0]].name]
    for index in indexes[1:]:
        found = found.nested_types[index]
    message = message_factory.GetMessageClass(found)()
    message.ParseFromString(body[start:])
    return json_format.MessageToJson(message, preserving_proto_field_name=True, indent=None)
