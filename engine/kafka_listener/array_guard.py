"""A guard run before kio reads a flexible request: an array claiming more items than the
bytes left in the frame could hold is refused first.

kio's native reader sizes a compact array's result by its claimed count before reading any
item, and for a count of billions the allocation fails and the process aborts (one 20-byte
Metadata v9 frame ended a listener so). This walks the request's fields by kio's own schema
of the version, far enough to see every compact array count; it refuses only such an array
and leaves every other question, including a frame it cannot walk, to kio. Legacy
(non-flexible) arrays are read item by item by kio and need no guard.
"""

from __future__ import annotations

import contextlib
import dataclasses
from functools import cache

from engine.kafka_listener.framing import MalformedRequestError, OversizeArrayError, read_uvarint
from engine.kafka_listener.kio_fields import field_plan

_FIXED = {
    "bool": 1,
    "int8": 1,
    "uint8": 1,
    "int16": 2,
    "uint16": 2,
    "error_code": 2,
    "int32": 4,
    "uint32": 4,
    "timedelta_i32": 4,
    "int64": 8,
    "uint64": 8,
    "float64": 8,
    "timedelta_i64": 8,
    "datetime_i64": 8,
    "uuid": 16,
}
_SIZED = frozenset({"string", "bytes", "records"})


class _WalkEndedError(Exception):
    """The walk cannot go on (the frame does not fit the schema); kio decides."""


@dataclasses.dataclass(frozen=True, slots=True)
class _Field:
    kafka_type: str
    entity: type | None
    array: bool


@cache
def _fields(cls: type) -> tuple[tuple[_Field | int, ...], dict[int, _Field]]:
    """The entity's untagged fields in wire order (a run of fixed-width ones as their total
    width), and its tagged fields by tag."""
    untagged: list[_Field | int] = []
    tagged: dict[int, _Field] = {}
    for f in field_plan(cls):
        field = _Field(f.kafka_type, f.entity, f.array)
        if f.tag is not None:
            tagged[f.tag] = field
            continue
        width = _FIXED.get(f.kafka_type) if f.entity is None and not f.array else None
        if width is None:
            untagged.append(field)
        elif untagged and isinstance(untagged[-1], int):
            untagged[-1] += width
        else:
            untagged.append(width)
    return tuple(untagged), tagged


def check_arrays(cls: type, buf: bytes | memoryview, offset: int) -> None:
    """Raise `OversizeArrayError` when a compact array in the flexible request body `cls` at
    `offset` claims more items than the rest of `buf` could hold."""
    with contextlib.suppress(_WalkEndedError):
        _entity(cls, buf, offset, len(buf))


def _uvarint(buf: bytes | memoryview, pos: int, end: int) -> tuple[int, int]:
    try:
        value, pos = read_uvarint(buf, pos)
    except MalformedRequestError:
        raise _WalkEndedError from None
    if pos > end:
        raise _WalkEndedError
    return value, pos


def _entity(cls: type, buf: bytes | memoryview, pos: int, end: int) -> int:
    untagged, tagged = _fields(cls)
    for step in untagged:
        if isinstance(step, int):
            pos += step
            if pos > end:
                raise _WalkEndedError
        else:
            pos = _field(step, buf, pos, end)
    count, pos = _uvarint(buf, pos, end)
    for _ in range(count):
        tag, pos = _uvarint(buf, pos, end)
        size, pos = _uvarint(buf, pos, end)
        if pos + size > end:
            raise _WalkEndedError
        known = tagged.get(tag)
        if known is not None:
            _field(known, buf, pos, pos + size)
        pos += size
    return pos


def _field(field: _Field, buf: bytes | memoryview, pos: int, end: int) -> int:
    if not field.array:
        return _value(field, buf, pos, end)
    count, pos = _uvarint(buf, pos, end)
    count -= 1  # compact: the count plus one, 0 for null
    if count > end - pos:
        raise OversizeArrayError(f"an array of {count} items is longer than the frame")
    width = _FIXED.get(field.kafka_type) if field.entity is None else None
    if width is not None:
        pos += max(count, 0) * width
        if pos > end:
            raise _WalkEndedError
        return pos
    for _ in range(max(count, 0)):
        pos = _value(field, buf, pos, end)
    return pos


def _value(field: _Field, buf: bytes | memoryview, pos: int, end: int) -> int:
    if field.entity is not None:
        return _entity(field.entity, buf, pos, end)
    width = _FIXED.get(field.kafka_type)
    if width is None:
        if field.kafka_type not in _SIZED:
            raise _WalkEndedError
        size, pos = _uvarint(buf, pos, end)
        width = max(size - 1, 0)
    if pos + width > end:
        raise _WalkEndedError
    return pos + width
