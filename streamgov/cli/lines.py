"""Reading records from standard input as they arrive (kcat -P habits).

`read_lines` splits a byte stream on a delimiter and, between records, tells its caller when
the input has nothing more ready: that is the moment to deliver what was read, so a slow
source (`tail -f app.log | streamgov produce t`, or typing) is delivered line by line while a
fast one is still sent in large batches.
"""

from __future__ import annotations

import codecs
import os
import select
from collections.abc import Iterator
from typing import BinaryIO

import click

#: Bytes read from the input at once.
CHUNK = 65_536
#: Yielded by `read_lines` when the input has nothing ready (the caller should flush).
IDLE = None


def unescape(text: str, option: str) -> bytes:
    """A delimiter as typed, with kcat's escapes: `\\n`, `\\t`, `\\r`, `\\xNN`, `\\\\`..."""
    try:
        decoded = codecs.escape_decode(text.encode("utf-8"))[0]
    except ValueError as exc:
        raise click.BadParameter(f"{text!r}: {exc}", param_hint=option) from None
    if not decoded:
        raise click.BadParameter("must not be empty", param_hint=option)
    assert isinstance(decoded, bytes)
    return decoded


def _has_ready_data(fd: int) -> bool:
    try:
        ready, _, _ = select.select([fd], [], [], 0)
    except (OSError, ValueError):
        return True  # cannot tell: read (and block) as a plain reader would
    return bool(ready)


def _chunks(stream: BinaryIO) -> Iterator[bytes | None]:
    """The stream's bytes as they come; IDLE before a read that would wait."""
    try:
        fd: int | None = stream.fileno()
    except (OSError, ValueError, AttributeError):
        fd = None
    if fd is None:  # an in-memory stream: everything is ready
        while chunk := stream.read(CHUNK):
            yield chunk
        return
    while True:
        if not _has_ready_data(fd):
            yield IDLE
        chunk = os.read(fd, CHUNK)
        if not chunk:
            return
        yield chunk


def read_lines(
    stream: BinaryIO,
    max_bytes: int | None = None,
    why: str = "",
    delimiter: bytes = b"\n",
) -> Iterator[bytes | None]:
    """Records of a binary stream without their delimiter (with the default `\\n`, a `\\r`
    before it goes too), and IDLE whenever the input has nothing more ready.

    A record longer than `max_bytes` is an error naming its number and `why` the limit holds,
    raised before it is held in memory whole. A last record without a delimiter counts."""
    crlf = delimiter == b"\n"
    slack = len(delimiter) + (1 if crlf else 0)
    buffer = bytearray()
    number = 0

    def finish(raw: bytes) -> bytes:
        nonlocal number
        number += 1
        line = raw.removesuffix(b"\r") if crlf else raw
        if max_bytes is not None and len(line) > max_bytes:
            raise click.ClickException(f"line {number} is longer than {max_bytes} bytes{why}")
        return line

    for chunk in _chunks(stream):
        if chunk is IDLE:
            yield IDLE
            continue
        buffer += chunk
        start = 0
        while (end := buffer.find(delimiter, start)) >= 0:
            yield finish(bytes(buffer[start:end]))
            start = end + len(delimiter)
        del buffer[:start]
        if max_bytes is not None and len(buffer) > max_bytes + slack:
            finish(bytes(buffer))  # raises: the record is too long already
    if buffer:
        yield finish(bytes(buffer))
