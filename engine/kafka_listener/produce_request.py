"""A direct decoder of Produce requests (v3-v9), the bulk of what producers send.

kio's generic reader copies each partition's record set out of the request frame into bytes of
its own (a megabyte a request under load, on the event loop). This reads the same fields with
`struct` and hands each partition's records as a read-only `memoryview` into the frame, so the
record batches are not copied before the Produce handler checks and stores them. It builds
kio's own entity classes of the version, so every reader of the request body sees what kio
would give, but for `records` being a view rather than bytes (the view keeps the frame alive).

A request kio would refuse is refused here too, with `MalformedRequestError` (the listener then
closes the connection, as it does when kio refuses one); tagged fields are refused as kio
refuses them (no Produce version up to 9 defines any). A null array (of topics or partitions)
is refused as Kafka refuses it, where kio reads it as None.
tests/engine/listener/test_produce_request.py checks it against kio's reader over generated
requests and damaged frames for every version.
"""

from __future__ import annotations

import datetime
import struct
import sys
from functools import cache
from typing import Any

from kio.index import load_request_schema

from engine.kafka_listener.framing import MalformedRequestError, OversizeArrayError, read_uvarint

#: Produce versions this decoder reads (kio has no schema below v3; v9 is flexible).
VERSIONS = range(3, 10)
_FLEXIBLE_FROM = 9
_PRODUCE = 0

_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")
_ACKS_TIMEOUT = struct.Struct(">hi")


@cache
def _entities(version: int) -> tuple[type, type, type]:
    """kio's request, topic and partition classes of a Produce version."""
    request = load_request_schema(_PRODUCE, version)
    module = sys.modules[request.__module__]
    return request, module.TopicProduceData, module.PartitionProduceData


def _length(view: memoryview, pos: int, flexible: bool, wide: bool) -> tuple[int, int]:
    """A length at `pos` (-1 for null) and the position after it: legacy (i32 when `wide`,
    else i16; -1 is null) or compact (an unsigned varint of the length plus one, 0 is null)."""
    if flexible:
        if pos < len(view) and view[pos] < 0x80:
            return view[pos] - 1, pos + 1
        value, pos = read_uvarint(view, pos)
        return value - 1, pos
    form = _I32 if wide else _I16
    if pos + form.size > len(view):
        raise MalformedRequestError("the produce request ends early")
    (value,) = form.unpack_from(view, pos)
    if value < -1:
        raise MalformedRequestError("a negative length in the produce request")
    return value, pos + form.size


def _string(view: memoryview, pos: int, flexible: bool) -> tuple[str | None, int]:
    size, pos = _length(view, pos, flexible, False)
    if size < 0:
        return None, pos
    end = pos + size
    if end > len(view):
        raise MalformedRequestError("the produce request ends inside a string")
    try:
        return str(view[pos:end], "utf-8"), end
    except UnicodeDecodeError as exc:
        raise MalformedRequestError("a string in the produce request is not UTF-8") from exc


def _array(view: memoryview, pos: int, flexible: bool) -> tuple[int, int]:
    count, pos = _length(view, pos, flexible, True)
    if count < 0:
        raise MalformedRequestError("a null array in the produce request")
    if count > len(view) - pos:
        raise OversizeArrayError(f"an array of {count} items is longer than the frame")
    return count, pos


def _no_tagged_fields(view: memoryview, pos: int) -> int:
    if pos < len(view) and view[pos] == 0:
        return pos + 1
    count, pos = read_uvarint(view, pos)
    if count:
        raise MalformedRequestError("the produce request carries tagged fields")
    return pos


def decode(version: int, frame: bytes | bytearray | memoryview, offset: int) -> Any:
    """The Produce request body of `version` at `offset` of `frame`, as kio's entity with each
    partition's records a read-only view into `frame`.

    Raises `MalformedRequestError` when the body cannot be read (kio would refuse it) and
    `ValueError` for a version outside `VERSIONS`."""
    if version not in VERSIONS:
        raise ValueError(f"Produce v{version} is not decoded here")
    request_cls, topic_cls, partition_cls = _entities(version)
    view = memoryview(frame).toreadonly()
    flexible = version >= _FLEXIBLE_FROM
    transactional_id, pos = _string(view, offset, flexible)
    if pos + _ACKS_TIMEOUT.size > len(view):
        raise MalformedRequestError("the produce request ends early")
    acks, timeout_ms = _ACKS_TIMEOUT.unpack_from(view, pos)
    topic_count, pos = _array(view, pos + _ACKS_TIMEOUT.size, flexible)
    topics = []
    for _ in range(topic_count):
        name, pos = _string(view, pos, flexible)
        if name is None:
            raise MalformedRequestError("a null topic name in the produce request")
        count, pos = _array(view, pos, flexible)
        partitions = []
        for _ in range(count):
            if pos + 4 > len(view):
                raise MalformedRequestError("the produce request ends early")
            (index,) = _I32.unpack_from(view, pos)
            size, pos = _length(view, pos + 4, flexible, True)
            records = None
            if size >= 0:
                end = pos + size
                if end > len(view):
                    raise MalformedRequestError("the produce request ends inside a record set")
                records, pos = view[pos:end], end
            if flexible:
                pos = _no_tagged_fields(view, pos)
            partitions.append(partition_cls(index=index, records=records))
        if flexible:
            pos = _no_tagged_fields(view, pos)
        topics.append(topic_cls(name=name, partition_data=tuple(partitions)))
    if flexible:
        _no_tagged_fields(view, pos)
    return request_cls(
        transactional_id=transactional_id,
        acks=acks,
        timeout=datetime.timedelta(milliseconds=timeout_ms),
        topic_data=tuple(topics),
    )
