"""How records are stored: header encoding and the size a record counts for limits."""

from __future__ import annotations

import struct

from engine.types import Headers

_KEY_LEN = struct.Struct(">H")
_VALUE_LEN = struct.Struct(">I")


def encode_headers(headers: Headers) -> bytes | None:
    """Headers as one blob (None when there are none, the common case)."""
    if not headers:
        return None
    out = bytearray()
    for name, value in headers:
        raw = name.encode()
        out += _KEY_LEN.pack(len(raw))
        out += raw
        out += _VALUE_LEN.pack(len(value))
        out += value
    return bytes(out)


def decode_headers(blob: bytes | None) -> Headers:
    """The inverse of `encode_headers`."""
    if not blob:
        return ()
    result: list[tuple[str, bytes]] = []
    pos = 0
    while pos < len(blob):
        (klen,) = _KEY_LEN.unpack_from(blob, pos)
        pos += 2
        name = blob[pos : pos + klen].decode()
        pos += klen
        (vlen,) = _VALUE_LEN.unpack_from(blob, pos)
        pos += 4
        result.append((name, blob[pos : pos + vlen]))
        pos += vlen
    return tuple(result)


def check_headers(headers: Headers) -> Headers:
    """Validate producer-supplied headers: (str, bytes) pairs with a short name."""
    for item in headers:
        if (
            not isinstance(item, tuple)
            or len(item) != 2
            or not isinstance(item[0], str)
            or not isinstance(item[1], bytes | bytearray)
        ):
            raise TypeError(f"a header must be a (str, bytes) pair, got {item!r}")
        if len(item[0].encode()) > 0xFFFF:
            raise ValueError("a header name must be shorter than 64 KiB")
    return tuple((name, bytes(value)) for name, value in headers)
