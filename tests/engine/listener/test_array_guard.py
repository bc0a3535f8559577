"""The guard before kio reads a flexible request: it passes every request kio's writer makes,
for every flexible version the listener serves, and refuses an array claiming more items than
the frame holds, which kio's native reader would abort the whole process on."""

from __future__ import annotations

import io
import struct
from typing import Any

import pytest

from engine.kafka_listener import array_guard, messages
from engine.kafka_listener.apis import APIS
from engine.kafka_listener.framing import OversizeArrayError
from engine.kafka_listener.kio_fields import field_plan
from tests.engine.listener.conftest import Served
from tests.engine.listener.test_protocol import connect, read_frame, still_serves

FLEXIBLE = [
    (key, version)
    for key, api in sorted(APIS.items())
    for version in range(api.min_version, api.max_version + 1)
    if key != 0 or version >= 3  # Produce below v3 has no schema
    if getattr(messages.request_type(key, version), "__flexible__", False)
]

_VALUES: dict[str, Any] = {"string": "ab", "bytes": b"xyz", "records": b"xyz", "bool": True}


def example(cls: type, items: int) -> dict[str, Any]:
    """Field values for `cls` with `items` items in every array, nested ones included."""
    out: dict[str, Any] = {}
    for field in field_plan(cls):
        if field.entity is not None:
            value: Any = example(field.entity, items)
        elif field.kafka_type == "uuid":
            value = 7
        else:
            value = _VALUES.get(field.kafka_type, 1)
        out[field.name] = [value] * items if field.array else value
    return out


def encode(cls: type, entity: Any) -> bytes:
    out = io.BytesIO()
    messages._writer(cls)(out, entity)
    return out.getvalue()


@pytest.mark.parametrize(("key", "version"), FLEXIBLE)
@pytest.mark.parametrize("items", [0, 1, 3])
def test_every_request_kios_writer_makes_passes(key: int, version: int, items: int) -> None:
    cls = messages.request_type(key, version)
    entity = messages.build(cls, example(cls, items))
    frame = b"\x00" * 3 + encode(cls, entity)
    array_guard.check_arrays(cls, frame, 3)
    assert messages.decode_with_kio(key, version, frame, 3) == entity


def test_an_array_of_billions_is_refused_before_kio_reads_it() -> None:
    cls = messages.request_type(3, 9)  # Metadata v9: topics is the first field
    with pytest.raises(OversizeArrayError):
        messages.decode_with_kio(3, 9, bytes.fromhex("ffffffff0f") + b"\x00" * 4, 0)
    # One item more than the bytes left: refused; as many as the bytes left: left to kio.
    assert array_guard.check_arrays(cls, bytes([2 + 1]) + b"\x00\x00", 0) is None
    with pytest.raises(OversizeArrayError):
        array_guard.check_arrays(cls, bytes([3 + 1]) + b"\x00\x00", 0)


@pytest.mark.kafka
def test_the_listener_survives_an_array_of_billions(served: Served) -> None:
    """Metadata v9 (header v2) whose topic array claims 4 billion items: the connection is
    closed and the listener serves on (kio's reader used to abort the process)."""
    body = bytes.fromhex("ffffffff0f") + b"\x00\x00\x00\x00"
    frame = struct.pack(">hhih", 3, 9, 1, 1) + b"x" + b"\x00" + body
    with connect(served) as sock:
        sock.sendall(struct.pack(">i", len(frame)) + frame)
        assert read_frame(sock) == b""
    still_serves(served)
