"""Kafka record batches (magic 2): reading produced batches into storable rows, and writing
stored records back out as batches. Pure functions over bytes, no I/O.

Layout (Kafka's DefaultRecordBatch): base offset i64, length i32, leader epoch i32, magic i8,
CRC-32C u32 (over everything after it), attributes i16, last offset delta i32, base and
max timestamp i64, producer id i64, producer epoch i16, base sequence i32, record count i32,
then the records, compressed as a whole when the attributes name a codec.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cramjam
from crc32c import crc32c

from engine.embedded.chunks import (
    CHUNK_BYTES,
    CHUNK_RECORDS,
    KIND_BATCH,
    Chunk,
    Row,
    StoredChunk,
    entries_of,
    iter_entries,
    pack_chunks_py,
)
from engine.embedded.codec import decode_headers
from engine.types import ConsumedRecord

_HEADER = struct.Struct(">qiibIhiqqqhii")
HEADER_SIZE = _HEADER.size  # 61
#: The fields a stored batch is served with anew: base offset, length, partition leader epoch.
_BATCH_START = struct.Struct(">qii")
_AFTER_CRC = 21

CODEC_NONE, CODEC_GZIP, CODEC_SNAPPY, CODEC_LZ4, CODEC_ZSTD = range(5)
ATTR_TRANSACTIONAL = 0x10
ATTR_CONTROL = 0x20
_XERIAL_MAGIC = b"\x82SNAPPY\x00"

#: A decompressed batch may not grow past this (a zip bomb is refused, not inflated).
MAX_DECOMPRESSED = 256 * 1024 * 1024


class CorruptBatchError(ValueError):
    """A record batch is malformed: bad CRC, bad lengths, unknown codec or magic."""


@dataclass(frozen=True, slots=True)
class BatchHeader:
    """The fixed fields of one record batch."""

    base_offset: int
    length: int
    magic: int
    crc: int
    attributes: int
    last_offset_delta: int
    base_timestamp: int
    max_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    count: int

    @property
    def codec(self) -> int:
        """The compression codec (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd)."""
        return self.attributes & 0x07

    @property
    def transactional(self) -> bool:
        """Whether the batch belongs to a transaction."""
        return bool(self.attributes & ATTR_TRANSACTIONAL)

    @property
    def control(self) -> bool:
        """Whether the batch is a control batch (transaction marker)."""
        return bool(self.attributes & ATTR_CONTROL)

    @property
    def last_sequence(self) -> int:
        """The sequence number of the batch's last record."""
        return self.base_sequence + self.last_offset_delta


@dataclass(frozen=True, slots=True)
class Batch:
    """A parsed batch: its header and its rows, ready for `EmbeddedEngine.append_rows`."""

    header: BatchHeader
    rows: list[Row]


def split_batches(data: bytes) -> list[tuple[BatchHeader, memoryview]]:
    """The batches in a produce request's record set, each with its whole bytes."""
    view = memoryview(data)
    out = []
    pos = 0
    while pos < len(data):
        if len(data) - pos < HEADER_SIZE:
            raise CorruptBatchError("a record batch is truncated")
        fields = _HEADER.unpack_from(data, pos)
        header = BatchHeader(*fields[:2], *fields[3:])
        end = pos + 12 + header.length
        if header.length < HEADER_SIZE - 12 or end > len(data):
            raise CorruptBatchError("a record batch's length is out of bounds")
        if header.magic != 2:
            raise CorruptBatchError(f"record batches of magic {header.magic} are not supported")
        out.append((header, view[pos:end]))
        pos = end
    return out


def check_crc(header: BatchHeader, batch: memoryview) -> None:
    """Raise `CorruptBatchError` unless the batch's CRC-32C matches its bytes."""
    if crc32c(batch[_AFTER_CRC:]) != header.crc:
        raise CorruptBatchError("a record batch's CRC does not match its contents")


def decompress(codec: int, payload: bytes | memoryview) -> bytes:
    """The records section of a batch, decompressed with the batch's codec."""
    try:
        if codec == CODEC_NONE:
            return bytes(payload)
        if codec == CODEC_GZIP:
            out = bytes(cramjam.gzip.decompress(payload))
        elif codec == CODEC_SNAPPY:
            out = _snappy_decompress(bytes(payload))
        elif codec == CODEC_LZ4:
            out = bytes(cramjam.lz4.decompress(payload))
        elif codec == CODEC_ZSTD:
            out = bytes(cramjam.zstd.decompress(payload))
        else:
            raise CorruptBatchError(f"unknown compression codec {codec}")
    except cramjam.DecompressionError as exc:
        raise CorruptBatchError(f"a compressed record batch does not decompress: {exc}") from None
    if len(out) > MAX_DECOMPRESSED:
        raise CorruptBatchError("a record batch decompresses to more than 256 MiB")
    return out


def compress(codec: int, payload: bytes) -> bytes:
    """Compress a records section with a codec (the reverse of `decompress`)."""
    if codec == CODEC_GZIP:
        return bytes(cramjam.gzip.compress(payload))
    if codec == CODEC_SNAPPY:
        return bytes(cramjam.snappy.compress_raw(payload))
    if codec == CODEC_LZ4:
        return bytes(cramjam.lz4.compress(payload))
    if codec == CODEC_ZSTD:
        return bytes(cramjam.zstd.compress(payload))
    return payload


def _snappy_decompress(payload: bytes) -> bytes:
    # Java clients frame snappy the xerial way; librdkafka sends raw snappy blocks.
    if not payload.startswith(_XERIAL_MAGIC):
        return bytes(cramjam.snappy.decompress_raw(payload))
    out = bytearray()
    pos = 16
    while pos + 4 <= len(payload):
        (size,) = struct.unpack_from(">i", payload, pos)
        pos += 4
        out += cramjam.snappy.decompress_raw(payload[pos : pos + size])
        pos += size
    return bytes(out)


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """A zig-zag varint at `pos`: (value, next position)."""
    shift = 0
    raw = 0
    while True:
        byte = data[pos]
        pos += 1
        raw |= (byte & 0x7F) << shift
        if byte < 0x80:
            return (raw >> 1) ^ -(raw & 1), pos
        shift += 7
        if shift > 63:
            raise CorruptBatchError("a varint is longer than 10 bytes")


def _read_bytes(data: bytes, pos: int) -> tuple[bytes | None, int]:
    """A varint-length-prefixed field (-1: null) at `pos`: (bytes, next position)."""
    length, pos = _varint(data, pos)
    if length < 0:
        return None, pos
    end = pos + length
    if end > len(data):
        raise CorruptBatchError("a record field runs past the end of its batch")
    return data[pos:end], end


def _encode_headers(pairs: list[tuple[bytes, bytes | None]]) -> bytes:
    # The engine's stored header encoding (engine.embedded.codec): name u16, value u32.
    out = bytearray()
    for name, value in pairs:
        out += struct.pack(">H", len(name)) + name
        body = value or b""
        out += struct.pack(">I", len(body)) + body
    return bytes(out)


def read_rows(header: BatchHeader, batch: memoryview, partition: int) -> list[Row]:
    """The records of a (checked) batch as rows placed on `partition`."""
    data = decompress(header.codec, batch[HEADER_SIZE:])
    try:
        return _read_records(data, header.count, header.base_timestamp, partition)
    except ValueError as exc:
        raise CorruptBatchError(str(exc)) from None


def read_chunks(header: BatchHeader, batch: memoryview) -> tuple[list[Chunk], int, bool]:
    """The records of a (checked) batch packed as the engine stores them: (chunks, the
    largest record's size, whether any record has no key)."""
    data = decompress(header.codec, batch[HEADER_SIZE:])
    try:
        return _records_to_chunks(
            data, header.count, header.base_timestamp, CHUNK_RECORDS, CHUNK_BYTES
        )
    except ValueError as exc:
        raise CorruptBatchError(str(exc)) from None


def stored_batch(header: BatchHeader, batch: memoryview) -> tuple[StoredChunk, int, bool] | None:
    """A (checked) batch as the engine stores it unchanged (`KIND_BATCH`), once its records
    are validated: the chunk, the largest record's size and whether any record has no key.
    None when it must be repacked instead: a transaction's batch (aborts rewrite them), or a
    header whose maximum timestamp is not its records'. A compressed batch's records are
    decompressed to be validated, and stored compressed."""
    if header.transactional:
        return None
    section = batch[HEADER_SIZE:]  # checked in place when it is not compressed
    data = section if header.codec == CODEC_NONE else decompress(header.codec, section)
    try:
        max_ts, largest, keyless = _check_records(data, header.count, header.base_timestamp)
    except ValueError as exc:
        raise CorruptBatchError(str(exc)) from None
    if max_ts != header.max_timestamp:
        return None
    return (header.count, max_ts, len(batch), batch, KIND_BATCH), largest, bool(keyless)


def batch_entries(blob: bytes) -> bytes:
    """The records of a batch stored as it arrived, as one chunk of the engine's own entries
    (offset deltas from 0), for readers that decode chunks."""
    header, raw = split_batches(blob)[0]
    data = decompress(header.codec, raw[HEADER_SIZE:])
    chunks, _, _ = _records_to_chunks(data, header.count, header.base_timestamp, 1 << 62, 1 << 62)
    return chunks[0][3] if chunks else b""


def check_records_py(data: bytes | memoryview, count: int, base_ts: int) -> tuple[int, int, bool]:
    """Validate a decompressed records section: (max timestamp, largest record size, whether
    any record has no key); the pure-Python reference of the C fast path."""
    rows = read_records_py(bytes(data), count, base_ts, 0, dense=True)
    return (
        max((r[3] for r in rows), default=-(2**63)),
        max((r[5] for r in rows), default=0),
        any(r[0] is None for r in rows),
    )


def records_to_chunks_py(
    data: bytes, count: int, base_ts: int, max_records: int, max_bytes: int
) -> tuple[list[Chunk], int, bool]:
    """`read_chunks` on a decompressed records section (the pure-Python reference of the C
    fast path): the rows packed by `pack_chunks_py`."""
    rows = read_records_py(data, count, base_ts, 0, dense=True)
    chunks = pack_chunks_py(rows, None, max_records, max_bytes)
    return chunks, max((r[5] for r in rows), default=0), any(r[0] is None for r in rows)


def read_records_py(
    data: bytes, count: int, base_ts: int, partition: int, *, dense: bool = False
) -> list[Row]:
    """Decode a decompressed records section into engine rows (the pure-Python reference of
    the C fast path); ValueError when malformed, or with `dense` when the records' offset
    deltas are not 0, 1, 2..."""
    rows: list[Row] = []
    pos = 0
    try:
        while len(rows) < count:
            length, pos = _varint(data, pos)
            end = pos + length
            pos += 1  # attributes
            ts_delta, pos = _varint(data, pos)
            offset_delta, pos = _varint(data, pos)
            if dense and offset_delta != len(rows):
                raise CorruptBatchError("a record's offset delta is out of sequence")
            key, pos = _read_bytes(data, pos)
            value, pos = _read_bytes(data, pos)
            nheaders, pos = _varint(data, pos)
            blob = None
            if nheaders > 0:
                pairs = []
                for _ in range(nheaders):
                    hklen, pos = _varint(data, pos)
                    name = data[pos : pos + hklen]
                    pos += hklen
                    hvalue, pos = _read_bytes(data, pos)
                    pairs.append((name, hvalue))
                blob = _encode_headers(pairs)
            if pos != end or pos > len(data):
                raise CorruptBatchError("a record's length does not match its fields")
            size = (0 if key is None else len(key)) + (0 if value is None else len(value))
            if blob is not None:
                size += len(blob)
            rows.append((key, value, blob, base_ts + ts_delta, partition, size))
    except IndexError:
        raise CorruptBatchError("a record batch ends inside a record") from None
    if pos != len(data):
        raise CorruptBatchError("a record batch holds more bytes than its record count says")
    return rows


def _put_varint(out: bytearray, value: int) -> None:
    raw = (value << 1) ^ (value >> 63)
    while raw >= 0x80:
        out.append((raw & 0x7F) | 0x80)
        raw >>= 7
    out.append(raw)


def _put_bytes(out: bytearray, data: bytes | None) -> None:
    if data is None:
        out.append(1)  # varint -1
    else:
        _put_varint(out, len(data))
        out += data


def write_records_py(
    records: Sequence[ConsumedRecord], base_offset: int, base_ts: int
) -> tuple[bytes, int]:
    """The records section for `records` and their largest timestamp (the pure-Python
    reference of the C fast path)."""
    max_ts = base_ts
    body = bytearray()
    rec = bytearray()
    for record in records:
        rec.clear()
        rec.append(0)
        max_ts = max(max_ts, record.timestamp_ms)
        _put_varint(rec, record.timestamp_ms - base_ts)
        _put_varint(rec, record.offset - base_offset)
        _put_bytes(rec, record.key)
        _put_bytes(rec, record.value)
        _put_varint(rec, len(record.headers))
        for name, hvalue in record.headers:
            raw = name.encode()
            _put_varint(rec, len(raw))
            rec += raw
            _put_varint(rec, len(hvalue))
            rec += hvalue
        _put_varint(body, len(rec))
        body += rec
    return bytes(body), max_ts


def write_batch(
    records: Sequence[ConsumedRecord],
    *,
    producer_id: int = -1,
    producer_epoch: int = -1,
    base_sequence: int = -1,
    attributes: int = 0,
    codec: int = CODEC_NONE,
) -> bytes:
    """One batch holding `records` (ascending offsets, possibly with gaps)."""
    base_offset = records[0].offset
    base_ts = records[0].timestamp_ms
    body, max_ts = _write_records(records, base_offset, base_ts)
    payload = compress(codec, body) if codec else body
    return frame_batch(
        payload,
        len(records),
        base_offset,
        records[-1].offset,
        base_ts,
        max_ts,
        attributes=attributes | codec,
        producer=(producer_id, producer_epoch, base_sequence),
    )


def frame_batch(
    payload: bytes,
    count: int,
    first: int,
    last: int,
    base_ts: int,
    max_ts: int,
    *,
    attributes: int = 0,
    producer: tuple[int, int, int] = (-1, -1, -1),
) -> bytes:
    """A batch around a (possibly compressed) records section of `count` records with
    offsets first..last; `producer` is (id, epoch, base sequence)."""
    tail = struct.pack(">hiqqqhii", attributes, last - first, base_ts, max_ts, *producer, count)
    crc = crc32c(payload, crc32c(tail))
    head = struct.pack(">qiibI", first, 9 + len(tail) + len(payload), 0, 2, crc)
    return b"".join((head, tail, payload))  # one copy of the payload (it can be megabytes)


def chunks_to_records_py(
    chunks: Sequence[tuple[int, bytes]], min_offset: int, stop_offset: int, max_bytes: int
) -> tuple[bytes, int, int, int, int, int]:
    """The records of stored engine chunks with offsets in [min_offset, stop_offset) as a
    records section, stopping before it would pass `max_bytes` (the first record always goes
    in): (section, count, first offset, last offset, base timestamp, max timestamp). The
    pure-Python reference of the C fast path."""
    out = bytearray()
    count, first, last, base_ts, max_ts = 0, -1, -1, 0, 0
    for base, blob in chunks:
        for offset, ts, key, value, headers in iter_entries(blob, base):
            if offset < min_offset:
                continue
            if offset >= stop_offset:
                return bytes(out), count, first, last, base_ts, max_ts
            if count == 0:
                first, base_ts, max_ts = offset, ts, ts
            record = ConsumedRecord("", 0, offset, ts, key, value, decode_headers(headers))
            encoded, _ = write_records_py([record], first, base_ts)
            if count and len(out) + len(encoded) > max_bytes:
                return bytes(out), count, first, last, base_ts, max_ts
            out += encoded
            max_ts = max(max_ts, ts)
            last = offset
            count += 1
    return bytes(out), count, first, last, base_ts, max_ts


def serve_chunks(
    chunks: Sequence[tuple[int, int, int, bytes]],
    min_offset: int,
    stop_offset: int,
    max_bytes: int,
    whole_first: bool,
) -> tuple[list[bytes | memoryview], int]:
    """The record batches that serve stored chunks (base, last offset, kind, blob) from
    `min_offset` up to `stop_offset` (excluded), and their size: at most `max_bytes`, except
    that with `whole_first` the first batch goes out whatever its size (KIP-74).

    A stored Kafka batch that ends below `stop_offset` goes out as it is, with its base offset
    set; it may start below `min_offset`, as Kafka's batches do (clients skip those records).
    The records of other chunks are written as uncompressed batches."""
    pieces: list[bytes | memoryview] = []
    used = 0
    run: list[tuple[int, bytes]] = []
    run_last = -1

    def fits(size: int) -> bool:
        return used + size <= max_bytes or (whole_first and not pieces)

    def flush() -> bool:
        """Write the run of entry chunks as one batch; False when the response is full."""
        nonlocal used
        section, count, low, last, base_ts, max_ts = chunks_to_records(
            run, min_offset, stop_offset, max(max_bytes - used - HEADER_SIZE, 1)
        )
        run.clear()
        if count == 0:
            return True
        batch = frame_batch(section, count, low, last, base_ts, max_ts)
        if not fits(len(batch)):
            return False
        pieces.append(batch)
        used += len(batch)
        return last >= run_last

    for base, last, kind, blob in chunks:
        if base >= stop_offset:
            break
        if last < min_offset:
            continue
        if kind == KIND_BATCH and last < stop_offset:
            if run and not flush():
                break
            if not fits(len(blob)):
                break
            pieces.append(_BATCH_START.pack(base, len(blob) - 12, 0))
            pieces.append(memoryview(blob)[_BATCH_START.size :])
            used += len(blob)
        else:
            run.append((base, entries_of(kind, blob)))
            run_last = min(last, stop_offset - 1)
    if run:
        flush()
    return pieces, used


_read_records: Callable[[bytes, int, int, int], list[Row]] = read_records_py
_write_records: Callable[[Sequence[ConsumedRecord], int, int], tuple[bytes, int]] = write_records_py
_records_to_chunks: Callable[[bytes, int, int, int, int], tuple[list[Chunk], int, bool]] = (
    records_to_chunks_py
)
_check_records: Callable[[bytes | memoryview, int, int], tuple[int, int, bool]] = check_records_py
chunks_to_records: Callable[
    [Sequence[tuple[int, bytes]], int, int, int], tuple[bytes, int, int, int, int, int]
] = chunks_to_records_py
#: Whether the C codec (engine/kafka_listener/_batches.c) is in use.
HAVE_C_BATCHES = False
if os.environ.get("STREAMGOV_PURE_PYTHON") != "1":
    try:
        from engine.kafka_listener import _batches  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        pass
    else:
        _read_records = _batches.read_records
        _write_records = _batches.write_records
        chunks_to_records = _batches.chunks_to_records
        _records_to_chunks = _batches.records_to_chunks
        _check_records = _batches.check_records
        HAVE_C_BATCHES = True
