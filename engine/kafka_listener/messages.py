"""Request and response bodies through kio's generated message types.

Produce, the bulk of the traffic, is the exception: its requests are read by `produce_request`
(record sets stay views into the frame) and its responses written by `produce_response`;
both are checked against kio's own reader and writer.

Handlers answer with plain dicts named after Kafka's field names; `build` turns one into the
kio entity of the negotiated version, dropping fields that version lacks and filling the ones
it has with their defaults. One handler thereby serves every version of an API.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import struct
import uuid
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import Any

from kio.index import KioIndexError, load_request_schema, load_response_schema
from kio.schema.errors import ErrorCode
from kio.serial import entity_reader, entity_writer

from engine.kafka_listener import array_guard, produce_request, produce_response
from engine.kafka_listener.kio_fields import FieldPlan, field_plan

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_PRODUCE = 0


def _zero(field: FieldPlan) -> Any:
    if field.array:
        return ()
    if field.entity is not None:
        return build(field.entity, {})
    kind = field.kafka_type
    if field.optional:
        return None
    if kind == "string":
        return ""
    if kind in ("bytes", "records"):
        return b""
    if kind == "bool":
        return False
    if kind == "uuid":
        return uuid.UUID(int=0)
    return _convert(kind, 0)


def _convert(kind: str, value: Any) -> Any:
    if kind == "error_code":
        return value if isinstance(value, ErrorCode) else ErrorCode(int(value))
    if kind in ("timedelta_i32", "timedelta_i64"):
        if isinstance(value, datetime.timedelta):
            return value
        return datetime.timedelta(milliseconds=int(value))
    if kind == "datetime_i64":
        if isinstance(value, datetime.datetime):
            return value
        return _EPOCH + datetime.timedelta(milliseconds=int(value))
    if kind == "uuid" and isinstance(value, int):
        return uuid.UUID(int=value)
    return value


def build(cls: type, data: Mapping[str, Any]) -> Any:
    """The kio entity `cls` from a dict of field values (see the module docstring)."""
    kwargs = {}
    for field in field_plan(cls):
        if field.name not in data:
            if field.default is dataclasses.MISSING:
                kwargs[field.name] = _zero(field)
            continue
        value = data[field.name]
        if value is None:
            if field.optional:
                kwargs[field.name] = None
            elif field.default is not dataclasses.MISSING:
                pass
            else:
                kwargs[field.name] = _zero(field)
            continue
        if field.entity is not None:
            if field.array:
                kwargs[field.name] = tuple(
                    v if isinstance(v, field.entity) else build(field.entity, v) for v in value
                )
            else:
                kwargs[field.name] = (
                    value if isinstance(value, field.entity) else build(field.entity, value)
                )
        elif field.array:
            kwargs[field.name] = tuple(_convert(field.kafka_type, v) for v in value)
        elif field.kafka_type == "datetime_i64" and field.optional and int(value) < 0:
            kwargs[field.name] = None
        else:
            kwargs[field.name] = _convert(field.kafka_type, value)
    return cls(**kwargs)


@cache
def request_type(api_key: int, version: int) -> type:
    """The kio request class of an API version (raises kio's index errors when unknown)."""
    return load_request_schema(api_key, version)


@cache
def response_type(api_key: int, version: int) -> type:
    """The kio response class of an API version."""
    return load_response_schema(api_key, version)


def load_schemas(versions: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Load the request and response classes of these (API key, version) pairs, with their
    reader and writer, ahead of the first request of each: loading one imports its module
    (tens of milliseconds). Returns the pairs kio has a schema for (the others are skipped:
    Produce v0-v2 are advertised only)."""
    loaded = []
    for api_key, version in versions:
        try:
            _reader(request_type(api_key, version))
            _writer(response_type(api_key, version))
        except KioIndexError:
            continue
        loaded.append((api_key, version))
    return loaded


@cache
def _reader(cls: type) -> Callable[[Any, int], tuple[Any, int]]:
    return entity_reader(cls)


@cache
def _writer(cls: type) -> Callable[[Any, Any], None]:
    return entity_writer(cls)


def decode_body(api_key: int, version: int, buf: bytes | memoryview, offset: int) -> Any:
    """The request body at `offset`, as a kio entity (a Produce request's records are views
    into `buf`: see `produce_request`)."""
    if api_key == _PRODUCE and version in produce_request.VERSIONS:
        return produce_request.decode(version, buf, offset)
    return decode_with_kio(api_key, version, buf, offset)


def decode_with_kio(api_key: int, version: int, buf: bytes | memoryview, offset: int) -> Any:
    """`decode_body` through kio's generic entity reader (every API and version); a flexible
    request whose array claims more items than the frame holds is refused first
    (`array_guard.OversizeArrayError`), as kio's reader would abort the process on it."""
    cls = request_type(api_key, version)
    if getattr(cls, "__flexible__", False):
        array_guard.check_arrays(cls, buf, offset)
    return _reader(cls)(buf, offset)[0]


def flexible_request(api_key: int, version: int) -> bool:
    """Whether requests of this API version use the flexible (compact, tagged) encoding."""
    return bool(getattr(request_type(api_key, version), "__flexible__", False))


def encode_response(api_key: int, version: int, correlation_id: int, body: Any) -> bytes:
    """A whole response frame (size, header, body) for a kio entity or a dict."""
    if api_key == _PRODUCE and isinstance(body, dict):
        frame = produce_response.encode(version, correlation_id, body)
        if frame is not None:
            return frame
    return encode_with_kio(api_key, version, correlation_id, body)


def encode_with_kio(api_key: int, version: int, correlation_id: int, body: Any) -> bytes:
    """`encode_response` through kio's generic entity writer (every API and version)."""
    cls = response_type(api_key, version)
    entity = body if isinstance(body, cls) else build(cls, body)
    out = io.BytesIO()
    out.write(b"\x00\x00\x00\x00")
    out.write(struct.pack(">i", correlation_id))
    # ApiVersions answers always use header v0, whatever the version (clients parse the
    # header before they know whether the broker understood their version).
    if getattr(cls, "__flexible__", False) and api_key != 18:
        out.write(b"\x00")
    _writer(cls)(out, entity)
    size = out.tell() - 4
    out.seek(0)
    out.write(struct.pack(">i", size))
    # getvalue hands over the buffer without copying it (a fetch response can be megabytes).
    return out.getvalue()
