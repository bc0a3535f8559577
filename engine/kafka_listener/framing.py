"""Kafka request framing: the size prefix, the request header, and the ApiVersions answer for
a version the broker does not know. Pure functions over bytes."""

from __future__ import annotations

import struct
from dataclasses import dataclass

#: Kafka's `socket.request.max.bytes` default: larger frames close the connection.
DEFAULT_MAX_REQUEST_BYTES = 100 * 1024 * 1024

API_VERSIONS_KEY = 18
UNSUPPORTED_VERSION = 35

_KEY_VERSION_CORRELATION = struct.Struct(">hhi")


class MalformedRequestError(ValueError):
    """A request frame cannot be parsed; Kafka closes the connection."""


class OversizeArrayError(MalformedRequestError):
    """An array claims more items than the bytes left in the frame could hold (every item
    takes at least one). kio's native reader sizes its result by a compact array's claimed
    count before reading, and a count of billions makes it abort the whole process, so such
    a request is refused before kio sees it."""


@dataclass(frozen=True, slots=True)
class RequestHeader:
    """The request header (v1 or v2) and where the body starts."""

    api_key: int
    api_version: int
    correlation_id: int
    client_id: str
    body_offset: int


def read_uvarint(buf: bytes | bytearray | memoryview, pos: int) -> tuple[int, int]:
    """The unsigned varint at `pos` and the position after it."""
    shift = value = 0
    while True:
        if pos >= len(buf):
            raise MalformedRequestError("a varint runs past the end of the frame")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift > 35:
            raise MalformedRequestError("a varint is too long")


def parse_header(frame: bytes | memoryview, flexible: bool | None) -> RequestHeader:
    """Parse the header of a frame (without its size prefix).

    `flexible` says whether the API version uses header v2 (tagged fields after the client
    id); None means the version is unknown, and only key, version and correlation id are
    read (enough to answer or refuse it)."""
    if len(frame) < _KEY_VERSION_CORRELATION.size:
        raise MalformedRequestError("the frame is shorter than a request header")
    key, version, correlation = _KEY_VERSION_CORRELATION.unpack_from(frame, 0)
    if flexible is None:
        return RequestHeader(key, version, correlation, "", len(frame))
    pos = _KEY_VERSION_CORRELATION.size
    if pos + 2 > len(frame):
        raise MalformedRequestError("the frame ends inside the client id")
    (length,) = struct.unpack_from(">h", frame, pos)
    pos += 2
    client_id = ""
    if length > 0:
        if pos + length > len(frame):
            raise MalformedRequestError("the frame ends inside the client id")
        client_id = str(frame[pos : pos + length], "utf-8", "replace")
        pos += length
    if flexible:
        count, pos = read_uvarint(frame, pos)
        for _ in range(count):
            _, pos = read_uvarint(frame, pos)
            size, pos = read_uvarint(frame, pos)
            pos += size
        if pos > len(frame):
            raise MalformedRequestError("a tagged header field runs past the frame")
    return RequestHeader(key, version, correlation, client_id, pos)


def unsupported_api_versions(correlation_id: int, min_version: int, max_version: int) -> bytes:
    """Kafka's answer to an ApiVersions request of a version it does not know: a v0 response
    with UNSUPPORTED_VERSION listing the ApiVersions range, so the client retries lower."""
    body = struct.pack(
        ">ihihhh",
        correlation_id,
        UNSUPPORTED_VERSION,
        1,
        API_VERSIONS_KEY,
        min_version,
        max_version,
    )
    return struct.pack(">i", len(body)) + body
