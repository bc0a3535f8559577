"""Record batches: what the listener writes reads back identically, for every codec, and
damaged batches are refused rather than stored."""

from __future__ import annotations

import struct

import cramjam
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.embedded.chunks import iter_entries, pack_chunks
from engine.embedded.codec import decode_headers
from engine.embedded.engine import make_row
from engine.kafka_listener.records import (
    CODEC_GZIP,
    CODEC_LZ4,
    CODEC_NONE,
    CODEC_SNAPPY,
    CODEC_ZSTD,
    CorruptBatchError,
    check_crc,
    chunks_to_records_py,
    decompress,
    frame_batch,
    read_records_py,
    read_rows,
    records_to_chunks_py,
    split_batches,
    write_batch,
    write_records_py,
)
from engine.types import ConsumedRecord

records_strategy = st.lists(
    st.tuples(
        st.one_of(st.none(), st.binary(max_size=40)),
        st.one_of(st.none(), st.binary(max_size=200)),
        st.lists(st.tuples(st.text(max_size=8), st.binary(max_size=8)), max_size=3),
        st.integers(0, 2**41),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(
    records_strategy,
    st.sampled_from([CODEC_NONE, CODEC_GZIP, CODEC_SNAPPY, CODEC_LZ4, CODEC_ZSTD]),
    st.integers(0, 2**40),
)
def test_a_written_batch_reads_back_as_the_same_records(
    fields: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]], int]],
    codec: int,
    base: int,
) -> None:
    records = [
        ConsumedRecord("t", 0, base + i, ts, key, value, tuple(headers))
        for i, (key, value, headers, ts) in enumerate(fields)
    ]
    data = write_batch(records, codec=codec)
    [(header, raw)] = split_batches(data)
    check_crc(header, raw)
    assert (header.base_offset, header.count, header.codec) == (base, len(records), codec)
    rows = read_rows(header, raw, 3)
    assert [(r[0], r[1], decode_headers(r[2]), r[3], r[4]) for r in rows] == [
        (r.key, r.value, r.headers, r.timestamp_ms, 3) for r in records
    ]


def test_a_flipped_byte_fails_the_crc() -> None:
    data = bytearray(write_batch([ConsumedRecord("t", 0, 0, 1, b"k", b"v")]))
    data[-1] ^= 0xFF
    [(header, raw)] = split_batches(bytes(data))
    with pytest.raises(CorruptBatchError, match="CRC"):
        check_crc(header, raw)


@pytest.mark.parametrize(
    "data",
    [
        b"\x00" * 10,  # shorter than a batch header
        struct.pack(">qi", 0, 10**6) + b"\x00" * 60,  # length past the end
    ],
)
def test_truncated_batches_are_refused(data: bytes) -> None:
    with pytest.raises(CorruptBatchError):
        split_batches(data)


def test_old_magic_is_refused() -> None:
    data = bytearray(write_batch([ConsumedRecord("t", 0, 0, 1, b"k", b"v")]))
    data[16] = 1
    with pytest.raises(CorruptBatchError, match="magic 1"):
        split_batches(bytes(data))


def test_javas_xerial_framed_snappy_is_read() -> None:
    payload = b"hello " * 100
    block = bytes(cramjam.snappy.compress_raw(payload))
    framed = b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 1) + struct.pack(">i", len(block)) + block
    assert decompress(CODEC_SNAPPY, framed) == payload


def test_garbage_that_claims_a_codec_is_refused() -> None:
    for codec in (CODEC_GZIP, CODEC_LZ4, CODEC_ZSTD, CODEC_SNAPPY):
        with pytest.raises(CorruptBatchError):
            decompress(codec, b"\x01\x02\x03 not compressed at all")


try:
    from engine.kafka_listener import _batches as _native  # type: ignore[attr-defined]
except ImportError:  # built by `pip install` when a C compiler is available
    _native = None

needs_c = pytest.mark.skipif(_native is None, reason="the C codec (_batches) is not built")


@needs_c
@settings(max_examples=100, deadline=None)
@given(records_strategy, st.integers(0, 2**40))
def test_the_c_codec_matches_the_python_reference(
    fields: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]], int]], base: int
) -> None:
    records = [
        ConsumedRecord("t", 0, base + 2 * i, ts, key, value, tuple(headers))
        for i, (key, value, headers, ts) in enumerate(fields)
    ]
    base_ts = records[0].timestamp_ms
    body, max_ts = write_records_py(records, base, base_ts)
    assert max_ts == max(r.timestamp_ms for r in records)
    assert _native.write_records(records, base, base_ts) == (body, max_ts)
    assert _native.read_records(body, len(records), base_ts, 2) == read_records_py(
        body, len(records), base_ts, 2
    )


@needs_c
@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120), st.integers(0, 5))
def test_the_c_reader_refuses_what_the_python_reader_refuses(data: bytes, count: int) -> None:
    try:
        expected = read_records_py(data, count, 0, 0)
    except (ValueError, CorruptBatchError):
        with pytest.raises(ValueError):
            _native.read_records(data, count, 0, 0)
    else:
        assert _native.read_records(data, count, 0, 0) == expected


@needs_c
@settings(max_examples=100, deadline=None)
@given(
    records_strategy,
    st.integers(0, 40),
    st.integers(0, 40),
    st.integers(1, 3000),
)
def test_stored_chunks_encode_alike_in_c_and_python(
    fields: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]], int]],
    skip: int,
    stop: int,
    max_bytes: int,
) -> None:
    rows = [make_row(key, value, tuple(headers), ts, 0) for key, value, headers, ts in fields]
    chunks = [
        (10 + i * 7, blob) for i, (_, _, _, blob) in enumerate(pack_chunks(rows, None, 7, 1 << 20))
    ]
    args = (chunks, 10 + skip, 10 + skip + stop, max_bytes)
    expected = chunks_to_records_py(*args)
    assert _native.chunks_to_records(*args) == expected
    section, count, first, last, base_ts, max_ts = expected
    if count:
        # The section reads back as the stored records it was made from.
        [(header, raw)] = split_batches(frame_batch(section, count, first, last, base_ts, max_ts))
        check_crc(header, raw)
        assert (header.base_offset, header.count) == (first, count)


@needs_c
@settings(max_examples=100, deadline=None)
@given(records_strategy, st.integers(1, 8), st.integers(1, 600))
def test_batches_pack_into_the_same_chunks_in_c_and_python(
    fields: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]], int]],
    max_records: int,
    max_bytes: int,
) -> None:
    records = [
        ConsumedRecord("t", 0, i, ts, key, value, tuple(headers))
        for i, (key, value, headers, ts) in enumerate(fields)
    ]
    body, _ = write_records_py(records, 0, records[0].timestamp_ms)
    args = (body, len(records), records[0].timestamp_ms, max_records, max_bytes)
    expected = records_to_chunks_py(*args)
    assert _native.records_to_chunks(*args) == expected
    # The chunks hold the records as the engine reads them back.
    stored = [e for n, _, _, blob in expected[0] for e in iter_entries(blob, 0)]
    assert [(e[1], e[2], e[3], decode_headers(e[4])) for e in stored] == [
        (r.timestamp_ms, r.key, r.value, r.headers) for r in records
    ]
