"""Stored record chunks: how a run of records of one partition is packed into one row.

A produce call becomes one or more chunks per partition (at most `CHUNK_RECORDS` records or
`CHUNK_BYTES` bytes each), so the log grows by a few rows per call instead of one row per
record. Entry format (little-endian): u32 offset delta, i64 timestamp, i32 key length, i32
value length, i32 headers length (-1 for null), then the bytes. Offsets inside a chunk may
have gaps after compaction.

A chunk can also stand for a Kafka record batch (magic 2) exactly as a Kafka client produced
it: the Kafka listener stores batches so, and serves them back unchanged, without decoding or
re-encoding a record; its records have dense offsets from the chunk's base. Appended as
`KIND_BATCH`, such a batch is written to a segment file and its row holds its place
(`KIND_SEGMENT`, see `engine.embedded.segments`); readers get it back as `KIND_BATCH`. Readers
that decode entries take `entries_of(kind, blob)`, which converts such a batch (compaction and
record removal rewrite it as entries).

The batch helpers of the produce path (`pack_partitions`, `make_metadata`) live here too. The C fast
path (`engine._fastpath`) implements every one of them; the pure-Python functions here are the
reference and the fallback, and give identical results.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import fields

from engine.embedded.codec import decode_headers
from engine.fastpath import native
from engine.types import ConsumedRecord, RecordMetadata

#: A record ready to store: key, value, encoded headers, timestamp, explicit partition, size.
Row = tuple[bytes | None, bytes | None, bytes | None, int, int | None, int]

#: A packed chunk: record count, maximum timestamp, payload bytes, blob.
Chunk = tuple[int, int, int, bytes]

#: A decoded entry: offset, timestamp, key, value, encoded headers.
Entry = tuple[int, int, bytes | None, bytes | None, bytes | None]

#: How a chunk's blob is encoded (the `kind` column): the engine's entries, a Kafka batch, or
#: where a Kafka batch lies in a segment file (`engine.embedded.segments`; readers get the
#: batch itself, as `KIND_BATCH`).
KIND_ENTRIES, KIND_BATCH, KIND_SEGMENT = 0, 1, 2

#: A chunk to store, with its kind: record count, maximum timestamp, bytes, blob, kind.
StoredChunk = tuple[int, int, int, bytes | memoryview, int]

CHUNK_RECORDS = 1000
CHUNK_BYTES = 1 << 20

_HEADER = struct.Struct("<Iqiii")


def _length(field: bytes | None) -> int:
    return -1 if field is None else len(field)


def pack_chunks_py(
    rows: list[Row], indexes: list[int] | None, max_records: int, max_bytes: int
) -> list[Chunk]:
    """Pack `rows` (or `rows[i] for i in indexes`) into chunks with dense offset deltas."""
    selected = rows if indexes is None else [rows[i] for i in indexes]
    max_records = max(max_records, 1)
    pack = _HEADER.pack
    header = _HEADER.size
    chunks: list[Chunk] = []
    start = 0
    total = len(selected)
    while start < total:
        parts: list[bytes] = []
        append = parts.append
        used = 0
        payload = 0
        max_ts = -(2**63)
        count = 0
        for key, value, headers, ts, _part, _size in selected[start : start + max_records]:
            klen = -1 if key is None else len(key)
            vlen = -1 if value is None else len(value)
            hlen = -1 if headers is None else len(headers)
            body = (klen if klen > 0 else 0) + (vlen if vlen > 0 else 0) + (hlen if hlen > 0 else 0)
            if count and used + header + body > max_bytes:
                break
            append(pack(count, ts, klen, vlen, hlen))
            if klen > 0:
                append(key)  # type: ignore[arg-type]
            if vlen > 0:
                append(value)  # type: ignore[arg-type]
            if hlen > 0:
                append(headers)  # type: ignore[arg-type]
            used += header + body
            payload += body
            if ts > max_ts:
                max_ts = ts
            count += 1
        chunks.append((count, max_ts, payload, b"".join(parts)))
        start += count
    return chunks


def entries_of(kind: int, blob: bytes) -> bytes:
    """A stored chunk's blob as the engine's entries, whatever its kind."""
    if kind == KIND_ENTRIES:
        return blob
    if kind == KIND_BATCH:
        # The batch codec lives with the Kafka listener, which is what stores such chunks.
        from engine.kafka_listener.records import batch_entries

        return batch_entries(blob)
    raise ValueError(f"unknown chunk kind {kind}")


def iter_entries(blob: bytes, base: int) -> list[Entry]:
    """Every entry of a chunk, decoded (maintenance and time lookups)."""
    entries: list[Entry] = []
    pos = 0
    view = memoryview(blob)
    while pos + _HEADER.size <= len(blob):
        delta, ts, klen, vlen, hlen = _HEADER.unpack_from(blob, pos)
        pos += _HEADER.size
        fields: list[bytes | None] = []
        for length in (klen, vlen, hlen):
            if length < 0:
                fields.append(None)
            else:
                fields.append(bytes(view[pos : pos + length]))
                pos += length
        entries.append((base + delta, ts, fields[0], fields[1], fields[2]))
    return entries


def pack_entries(entries: Sequence[Entry], base: int) -> bytes:
    """Pack decoded entries back into a chunk based at `base` (compaction rewrites)."""
    out = bytearray()
    for offset, ts, key, value, headers in entries:
        out += _HEADER.pack(offset - base, ts, _length(key), _length(value), _length(headers))
        for field in (key, value, headers):
            if field:
                out += field
    return bytes(out)


def unpack_into_py(
    out: list[ConsumedRecord],
    blob: bytes,
    base: int,
    topic: str,
    partition: int,
    min_offset: int,
    max_records: int,
    max_bytes: int,
    used: int,
) -> tuple[int, bool]:
    """Append the chunk's records at or after `min_offset` to `out` while `out` holds fewer
    than `max_records` and the bytes stay within `max_bytes` (the first record of a fetch is
    always taken); returns the bytes used and whether the fetch is full."""
    pos = 0
    size = len(blob)
    unpack = _HEADER.unpack_from
    header = _HEADER.size
    append = out.append
    record = ConsumedRecord
    room = max_records - len(out)
    while room > 0 and pos + header <= size:
        delta, ts, klen, vlen, hlen = unpack(blob, pos)
        start = pos + header
        body = (klen if klen > 0 else 0) + (vlen if vlen > 0 else 0) + (hlen if hlen > 0 else 0)
        pos = start + body
        if pos > size:
            raise ValueError("corrupt record chunk")
        offset = base + delta
        if offset < min_offset:
            continue
        if out and used + body > max_bytes:
            return used, True
        if klen < 0:
            key = None
        else:
            key = blob[start : start + klen]
            start += klen
        if vlen < 0:
            value = None
        else:
            value = blob[start : start + vlen]
            start += vlen
        headers = () if hlen < 0 else decode_headers(blob[start : start + hlen])
        append(record(topic, partition, offset, ts, key, value, headers))
        used += body
        room -= 1
    return used, room <= 0


def pack_partitions_py(
    rows: list[Row], parts: list[int], count: int, max_records: int, max_bytes: int
) -> list[list[Chunk]]:
    """The chunks of each of `count` partitions: `pack_chunks` of the rows placed on it."""
    buckets: list[list[int]] = [[] for _ in range(count)]
    for index, part in enumerate(parts):
        buckets[part].append(index)
    return [pack_chunks_py(rows, indexes, max_records, max_bytes) for indexes in buckets]


def make_metadata_py(
    cls: type[RecordMetadata], topic: str, parts: list[int], bases: list[int], rows: list[Row]
) -> list[RecordMetadata]:
    """Where each appended row landed: offsets count up from `bases[partition]` in row order."""
    following = list(bases)
    result = []
    for part, row in zip(parts, rows, strict=True):
        result.append(cls(topic, part, following[part], row[3]))
        following[part] += 1
    return result


pack_chunks: Callable[[list[Row], list[int] | None, int, int], list[Chunk]]
unpack_into: Callable[..., tuple[int, bool]]
pack_partitions: Callable[[list[Row], list[int], int, int, int], list[list[Chunk]]]
make_metadata: Callable[
    [type[RecordMetadata], str, list[int], list[int], list[Row]], list[RecordMetadata]
]

# The C path fills these records slot by slot: use it only while their fields are the ones it
# knows (a changed record type falls back to the Python path instead of half-built records).
_C_FIELDS_MATCH = tuple(f.name for f in fields(ConsumedRecord)) == (
    "topic",
    "partition",
    "offset",
    "timestamp_ms",
    "key",
    "value",
    "headers",
) and tuple(f.name for f in fields(RecordMetadata)) == (
    "topic",
    "partition",
    "offset",
    "timestamp_ms",
)

if native is None or not _C_FIELDS_MATCH:
    HAVE_C_CHUNKS = False
    pack_chunks = pack_chunks_py
    unpack_into = unpack_into_py
    pack_partitions = pack_partitions_py
    make_metadata = make_metadata_py
else:
    HAVE_C_CHUNKS = True
    native.configure(ConsumedRecord, decode_headers)
    pack_chunks = native.pack_chunks
    unpack_into = native.unpack_into
    pack_partitions = native.pack_partitions
    make_metadata = native.make_metadata
