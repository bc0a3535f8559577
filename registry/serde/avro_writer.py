"""A specialised Avro binary encoder, built once per schema from fastavro's parsed form.

fastavro's `schemaless_writer` walks the schema for every record. Here the walk happens once:
each schema node becomes a small closure that writes one value, so writing a record is a chain
of direct calls. Only the common shapes are compiled (primitives, records, enums, fixed, arrays,
maps, and unions of null with one other type); `compile_writer` returns None for anything else
(logical types, wider unions), and the serializer then uses fastavro. Values of an unexpected
Python type raise `ShapeMismatchError`, and the serializer re-encodes that value with fastavro,
so the bytes (and the error messages) are always fastavro's own.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

Encoder = Callable[[bytearray, Any], None]

_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_PACK_DOUBLE = struct.Struct("<d").pack
_PACK_FLOAT = struct.Struct("<f").pack
_SMALL = 1024
#: zig-zag varint bytes of every long in [-_SMALL, _SMALL)
_VARINTS: list[bytes] = []


class ShapeMismatchError(Exception):
    """The value does not have the plain shape the compiled encoder expects."""


class UnsupportedSchemaError(Exception):
    """The schema uses something the compiled encoder does not handle."""


def _varint(n: int) -> bytes:
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n & ~0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


_VARINTS.extend(_varint(n) for n in range(-_SMALL, _SMALL))


def write_long(out: bytearray, n: int) -> None:
    """Append a zig-zag varint."""
    if -_SMALL <= n < _SMALL:
        out += _VARINTS[n + _SMALL]
    else:
        out += _varint(n)


def _null(out: bytearray, value: Any) -> None:
    if value is not None:
        raise ShapeMismatchError


def _boolean(out: bytearray, value: Any) -> None:
    if value is True:
        out.append(1)
    elif value is False:
        out.append(0)
    else:
        raise ShapeMismatchError


def _int(out: bytearray, value: Any) -> None:
    if type(value) is not int or not _INT_MIN <= value <= _INT_MAX:
        raise ShapeMismatchError
    write_long(out, value)


def _long(out: bytearray, value: Any) -> None:
    if type(value) is not int or not _LONG_MIN <= value <= _LONG_MAX:
        raise ShapeMismatchError
    write_long(out, value)


def _float(out: bytearray, value: Any) -> None:
    if type(value) is not float:
        raise ShapeMismatchError
    out += _PACK_FLOAT(value)


def _double(out: bytearray, value: Any) -> None:
    if type(value) is not float:
        raise ShapeMismatchError
    out += _PACK_DOUBLE(value)


def _bytes(out: bytearray, value: Any) -> None:
    if type(value) is not bytes:
        raise ShapeMismatchError
    write_long(out, len(value))
    out += value


def _string(out: bytearray, value: Any) -> None:
    if type(value) is not str:
        raise ShapeMismatchError
    data = value.encode("utf-8")
    write_long(out, len(data))
    out += data


_PRIMITIVES: dict[str, Encoder] = {
    "null": _null,
    "boolean": _boolean,
    "int": _int,
    "long": _long,
    "float": _float,
    "double": _double,
    "bytes": _bytes,
    "string": _string,
}


class _Compiler:
    def __init__(self, named: dict[str, Any]) -> None:
        self.named = named
        self.compiled: dict[str, Encoder] = {}

    def compile(self, schema: Any) -> Encoder:
        if isinstance(schema, str):
            if schema in _PRIMITIVES:
                return _PRIMITIVES[schema]
            return self._named(schema)
        if isinstance(schema, list):
            return self._union(schema)
        if not isinstance(schema, dict):
            raise UnsupportedSchemaError(f"schema node {schema!r}")
        if "logicalType" in schema:
            raise UnsupportedSchemaError("logical types")
        kind = schema.get("type")
        if kind in _PRIMITIVES:
            return _PRIMITIVES[kind]
        if kind == "record" or kind == "error":
            return self._record(schema)
        if kind == "enum":
            return self._enum(schema)
        if kind == "fixed":
            return self._fixed(schema)
        if kind == "array":
            return self._array(schema)
        if kind == "map":
            return self._map(schema)
        if isinstance(kind, (dict, list, str)):
            return self.compile(kind)
        raise UnsupportedSchemaError(f"schema type {kind!r}")

    def _named(self, name: str) -> Encoder:
        if name in self.compiled:
            return self.compiled[name]
        if name not in self.named:
            raise UnsupportedSchemaError(f"unknown named type {name!r}")
        slot: list[Encoder] = []

        def forward(out: bytearray, value: Any) -> None:
            slot[0](out, value)

        self.compiled[name] = forward  # recursion goes through the forward reference
        slot.append(self.compile(self.named[name]))
        self.compiled[name] = slot[0]
        return slot[0]

    def _register(self, schema: dict[str, Any], encoder: Encoder) -> Encoder:
        name = schema.get("name")
        if isinstance(name, str):
            self.compiled.setdefault(name, encoder)
        return encoder

    def _record(self, schema: dict[str, Any]) -> Encoder:
        name = schema.get("name")
        fields: list[tuple[str, Encoder]] = []

        def record(out: bytearray, value: Any) -> None:
            if type(value) is not dict:
                raise ShapeMismatchError
            try:
                for field_name, encode in fields:
                    encode(out, value[field_name])
            except KeyError:
                raise ShapeMismatchError from None

        if isinstance(name, str):
            self.compiled[name] = record
        for item in schema.get("fields", ()):
            fields.append((item["name"], self.compile(item["type"])))
        return record

    def _enum(self, schema: dict[str, Any]) -> Encoder:
        index = {symbol: i for i, symbol in enumerate(schema["symbols"])}

        def enum(out: bytearray, value: Any) -> None:
            position = index.get(value) if type(value) is str else None
            if position is None:
                raise ShapeMismatchError
            write_long(out, position)

        return self._register(schema, enum)

    def _fixed(self, schema: dict[str, Any]) -> Encoder:
        size = int(schema["size"])

        def fixed(out: bytearray, value: Any) -> None:
            if type(value) is not bytes or len(value) != size:
                raise ShapeMismatchError
            out += value

        return self._register(schema, fixed)

    def _array(self, schema: dict[str, Any]) -> Encoder:
        encode_item = self.compile(schema["items"])

        def array(out: bytearray, value: Any) -> None:
            if type(value) is not list:
                raise ShapeMismatchError
            if value:
                write_long(out, len(value))
                for item in value:
                    encode_item(out, item)
            out.append(0)

        return array

    def _map(self, schema: dict[str, Any]) -> Encoder:
        encode_value = self.compile(schema["values"])

        def map_(out: bytearray, value: Any) -> None:
            if type(value) is not dict:
                raise ShapeMismatchError
            if value:
                write_long(out, len(value))
                for key, item in value.items():
                    _string(out, key)
                    encode_value(out, item)
            out.append(0)

        return map_

    def _union(self, branches: list[Any]) -> Encoder:
        if len(branches) != 2 or "null" not in branches:
            raise UnsupportedSchemaError("unions other than null and one type")
        null_index = branches.index("null")
        other = branches[1 - null_index]
        if isinstance(other, list) or other == "null":
            raise UnsupportedSchemaError("nested unions")
        encode_other = self.compile(other)
        null_tag, other_tag = _VARINTS[null_index + _SMALL], _VARINTS[1 - null_index + _SMALL]

        def union(out: bytearray, value: Any) -> None:
            if value is None:
                out += null_tag
            else:
                out += other_tag
                encode_other(out, value)

        return union


def compile_writer(parsed: Any, named: dict[str, Any]) -> Encoder | None:
    """A specialised encoder for a fastavro-parsed schema, or None when it is not supported."""
    try:
        return _Compiler(named).compile(parsed)
    except (UnsupportedSchemaError, KeyError, TypeError, ValueError):
        return None
