"""How records are stored: header encoding and the size a record counts for limits.

A header blob holds, per header, a big-endian u16 name length, the UTF-8 name, a big-endian
u32 value length and the value. The C fast path (`engine._fastpath`) implements the three
functions; the pure-Python ones here are the reference and the fallback, and give identical
results (and errors)."""

from __future__ import annotations

import struct
from collections.abc import Callable

from engine.fastpath import native
from engine.types import Headers

_KEY_LEN = struct.Struct(">H")
_VALUE_LEN = struct.Struct(">I")
_CORRUPT = "corrupt record headers"


def encode_headers_py(headers: Headers) -> bytes | None:
    """Checked headers as one blob (None when there are none, the common case)."""
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


def decode_headers_py(blob: bytes | None) -> Headers:
    """The inverse of `encode_headers`; ValueError for a blob cut short."""
    if not blob:
        return ()
    result: list[tuple[str, bytes]] = []
    pos = 0
    size = len(blob)
    while pos < size:
        if size - pos < 2:
            raise ValueError(_CORRUPT)
        (klen,) = _KEY_LEN.unpack_from(blob, pos)
        pos += 2
        if size - pos < klen + 4:
            raise ValueError(_CORRUPT)
        (vlen,) = _VALUE_LEN.unpack_from(blob, pos + klen)
        name = blob[pos : pos + klen].decode()
        pos += klen + 4
        if size - pos < vlen:
            raise ValueError(_CORRUPT)
        result.append((name, blob[pos : pos + vlen]))
        pos += vlen
    return tuple(result)


def check_headers_py(headers: Headers) -> Headers:
    """Validate producer-supplied headers: (str, bytes) pairs with a short name."""
    try:
        items = tuple(headers)
    except TypeError:
        raise TypeError("headers must be a sequence of (str, bytes) pairs") from None
    for item in items:
        if (
            not isinstance(item, tuple)
            or len(item) != 2
            or not isinstance(item[0], str)
            or not isinstance(item[1], bytes | bytearray)
        ):
            raise TypeError(f"a header must be a (str, bytes) pair, got {item!r}")
        if len(item[0].encode()) > 0xFFFF:
            raise ValueError("a header name must be shorter than 64 KiB")
    return tuple((name, bytes(value)) for name, value in items)


encode_headers: Callable[[Headers], bytes | None]
decode_headers: Callable[[bytes | None], Headers]
check_headers: Callable[[Headers], Headers]

#: Whether the C header functions run (an extension built before they existed lacks them).
HAVE_C_HEADERS = native is not None and hasattr(native, "decode_headers")
if HAVE_C_HEADERS:
    encode_headers = native.encode_headers
    decode_headers = native.decode_headers
    check_headers = native.check_headers
else:
    encode_headers = encode_headers_py
    decode_headers = decode_headers_py
    check_headers = check_headers_py
