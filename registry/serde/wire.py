"""Confluent's wire format: magic byte 0, the schema id as a 4-byte big-endian int, the body."""

from __future__ import annotations

import struct

MAGIC_BYTE = 0
HEADER = struct.Struct(">bI")
HEADER_SIZE = HEADER.size


class SerdeError(ValueError):
    """A record could not be serialized or deserialized; the message says why."""


def header(schema_id: int) -> bytes:
    """The 5-byte prefix for a schema id."""
    if not 0 <= schema_id <= 0xFFFFFFFF:
        raise SerdeError(f"schema id {schema_id} does not fit the wire format (0..2^32-1)")
    return HEADER.pack(MAGIC_BYTE, schema_id)


def frame(schema_id: int, body: bytes) -> bytes:
    """Prefix a serialized body with the magic byte and schema id."""
    return header(schema_id) + body


def unframe(data: bytes | bytearray | memoryview) -> tuple[int, memoryview]:
    """Split a framed record into (schema id, body)."""
    if len(data) < HEADER_SIZE:
        raise SerdeError(
            f"record is {len(data)} bytes, shorter than the {HEADER_SIZE}-byte wire-format header"
        )
    magic, schema_id = HEADER.unpack_from(data)
    if magic != MAGIC_BYTE:
        raise SerdeError(
            f"unknown magic byte {magic}: the record was not written in the schema registry "
            "wire format"
        )
    return schema_id, memoryview(data)[HEADER_SIZE:]
