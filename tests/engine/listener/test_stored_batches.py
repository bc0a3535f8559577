"""Kafka batches stored as they arrived (`chunks.KIND_BATCH`): validated like any other,
served back unchanged, and read, compacted and trimmed by the engine like its own chunks."""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.embedded import EmbeddedCluster
from engine.embedded.chunks import KIND_BATCH, KIND_ENTRIES, pack_chunks
from engine.embedded.codec import decode_headers
from engine.embedded.engine import make_row
from engine.kafka_listener import records as codec
from engine.kafka_listener.records import (
    CODEC_GZIP,
    CODEC_LZ4,
    CODEC_NONE,
    CODEC_SNAPPY,
    CODEC_ZSTD,
    HEADER_SIZE,
    CorruptBatchError,
    check_crc,
    check_records_py,
    decompress,
    read_records_py,
    serve_chunks,
    split_batches,
    stored_batch,
    write_batch,
    write_records_py,
)
from engine.types import ConsumedRecord, OffsetSpec, Record
from tests.engine.listener.test_records import needs_c, records_strategy

try:
    from engine.kafka_listener import _batches as _native  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - the pure-Python build
    _native = None

Fields = list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]], int]]
CODECS = [CODEC_NONE, CODEC_GZIP, CODEC_SNAPPY, CODEC_LZ4, CODEC_ZSTD]


def as_records(fields: Fields, base: int = 0) -> list[ConsumedRecord]:
    return [
        ConsumedRecord("t", 0, base + i, ts, key, value, tuple(headers))
        for i, (key, value, headers, ts) in enumerate(fields)
    ]


def stored(batch: bytes) -> tuple[tuple[int, int, int, memoryview, int], int, bool]:
    [(header, raw)] = split_batches(batch)
    result = stored_batch(header, raw)
    assert result is not None
    return result


def served_records(pieces: list[bytes | memoryview]) -> list[ConsumedRecord]:
    """Decode served batches as a client would, checking each CRC."""
    out = []
    for header, raw in split_batches(b"".join(pieces)):
        check_crc(header, raw)
        data = decompress(header.codec, raw[HEADER_SIZE:])
        rows = read_records_py(data, header.count, header.base_timestamp, 0, dense=True)
        for i, (key, value, headers, ts, _, _) in enumerate(rows):
            out.append(
                ConsumedRecord(
                    "t", 0, header.base_offset + i, ts, key, value, decode_headers(headers)
                )
            )
    return out


# -- validation --------------------------------------------------------------------------------


@needs_c
@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120), st.integers(0, 5))
def test_the_c_check_refuses_what_the_python_check_refuses(data: bytes, count: int) -> None:
    try:
        expected = check_records_py(data, count, 7)
    except (ValueError, CorruptBatchError):
        with pytest.raises(ValueError):
            _native.check_records(data, count, 7)
    else:
        max_ts, largest, keyless = _native.check_records(data, count, 7)
        assert (max_ts, largest, bool(keyless)) == expected


@settings(max_examples=60, deadline=None)
@given(records_strategy, st.sampled_from(CODECS))
def test_a_valid_batch_is_stored_as_it_came(fields: Fields, codec_id: int) -> None:
    records = as_records(fields)
    batch = write_batch(records, codec=codec_id)
    (count, max_ts, size, blob, kind), largest, keyless = stored(batch)
    assert bytes(blob) == batch and kind == KIND_BATCH and size == len(batch)
    assert count == len(records)
    assert max_ts == max(r.timestamp_ms for r in records)
    assert keyless == any(r.key is None for r in records)
    assert largest == max(
        len(r.key or b"")
        + len(r.value or b"")
        + sum(6 + len(n.encode()) + len(v) for n, v in r.headers)
        for r in records
    )


def test_records_whose_offsets_are_not_dense_are_refused() -> None:
    records = [ConsumedRecord("t", 0, o, 5, b"k", b"v", ()) for o in (0, 2)]
    body, max_ts = write_records_py(records, 0, 5)
    # The header claims two records with offsets 0..1, but the second says offset delta 2.
    batch = codec.frame_batch(body, 2, 0, 1, 5, max_ts)
    [(header, raw)] = split_batches(batch)
    with pytest.raises(CorruptBatchError, match="out of sequence"):
        stored_batch(header, raw)
    with pytest.raises(CorruptBatchError, match="out of sequence"):
        codec.read_chunks(header, raw)


def test_transactional_batches_and_wrong_max_timestamps_are_repacked() -> None:
    records = as_records([(b"k", b"v", [], 10), (b"k", b"w", [], 20)])
    [(header, raw)] = split_batches(write_batch(records, attributes=0x10, producer_id=3))
    assert stored_batch(header, raw) is None
    body, _ = write_records_py(records, 0, 10)
    [(header, raw)] = split_batches(codec.frame_batch(body, 2, 0, 1, 10, 99))
    assert stored_batch(header, raw) is None


# -- serving -----------------------------------------------------------------------------------


@st.composite
def stored_log(draw: st.DrawFn) -> tuple[list[tuple[int, int, int, bytes]], list[ConsumedRecord]]:
    """A partition's chunks, some Kafka batches and some the engine's own entries, and the
    records they hold (dense offsets from 100)."""
    chunks: list[tuple[int, int, int, bytes]] = []
    records: list[ConsumedRecord] = []
    offset = 100
    for _ in range(draw(st.integers(1, 6))):
        fields = draw(records_strategy)
        run = as_records(fields, offset)
        if draw(st.booleans()):
            batch = write_batch(run, codec=draw(st.sampled_from(CODECS)))
            chunks.append((offset, offset + len(run) - 1, KIND_BATCH, batch))
        else:
            rows = [make_row(r.key, r.value, r.headers, r.timestamp_ms, 0) for r in run]
            [(_, _, _, blob)] = pack_chunks(rows, None, 1 << 20, 1 << 30)
            chunks.append((offset, offset + len(run) - 1, KIND_ENTRIES, blob))
        records += run
        offset += len(run)
    return chunks, records


@settings(max_examples=150, deadline=None)
@given(stored_log(), st.data())
def test_served_batches_hold_exactly_the_stored_records(
    log: tuple[list[tuple[int, int, int, bytes]], list[ConsumedRecord]], data: st.DataObject
) -> None:
    chunks, records = log
    end = records[-1].offset + 1
    min_offset = data.draw(st.integers(100, end - 1), label="min_offset")
    stop = data.draw(st.integers(min_offset, end), label="stop_offset")
    max_bytes = data.draw(st.integers(1, 20_000), label="max_bytes")
    whole_first = data.draw(st.booleans(), label="whole_first")
    first = next(i for i, c in enumerate(chunks) if c[1] >= min_offset)
    pieces, size = serve_chunks(chunks[first:], min_offset, stop, max_bytes, whole_first)
    assert size == sum(len(p) for p in pieces)
    served = served_records(pieces)
    batches = split_batches(b"".join(pieces))
    # Within the limit, except a lone first batch when that is allowed (KIP-74).
    assert size <= max_bytes or (whole_first and len(batches) == 1)
    # No record at or past the stop offset; nothing lost or repeated from min_offset on, and
    # every record is the one stored at its offset.
    by_offset = {r.offset: r for r in records}
    assert all(r.offset < stop for r in served)
    wanted = [r for r in served if r.offset >= min_offset]
    assert [r.offset for r in wanted] == list(range(min_offset, min_offset + len(wanted)))
    assert all(r == by_offset[r.offset] for r in served)
    # Progress: the first record wanted comes back whenever it may exceed the limit.
    if whole_first and stop > min_offset:
        assert wanted
    # Records below min_offset come only from the front of a stored batch.
    assert all(r.offset >= min_offset for r in served[len(served) - len(wanted) :])


# -- the engine reads stored batches like its own chunks ---------------------------------------


def put_batches(cluster: EmbeddedCluster, topic: str, runs: list[list[ConsumedRecord]]) -> None:
    for run in runs:
        chunk, largest, keyless = stored(write_batch(run, codec=CODEC_LZ4))
        cluster.engine.append_packed(topic, {0: [chunk]}, largest, keyless)


def test_the_engine_reads_stored_batches(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 1)
    runs = [as_records([(b"k%d" % i, b"v%d" % i, [("h", b"x")], 1000 + i) for i in range(5)])]
    runs.append([replace(r, offset=r.offset + 5, timestamp_ms=r.timestamp_ms + 5) for r in runs[0]])
    put_batches(cluster, "t", runs)
    got = cluster.fetch("t", 0, 3, max_records=100)
    assert [(r.offset, r.key, r.timestamp_ms, r.headers) for r in got] == [
        (o, b"k%d" % (o % 5), 1000 + o, (("h", b"x"),)) for o in range(3, 10)
    ]
    assert cluster.list_offsets("t", 1007) == {0: 7}
    assert cluster.list_offsets("t", OffsetSpec.LATEST) == {0: 10}
    # Removing records inside a stored batch rewrites it as entries; the rest stay as they are.
    assert cluster.engine.remove_records("t", 0, [(6, 7)]) == 2
    assert [r.offset for r in cluster.fetch("t", 0, 0, max_records=100)] == [0, 1, 2, 3, 4, 5, 8, 9]
    assert cluster.engine.delete_records("t", 0, 2) == 2
    assert [r.offset for r in cluster.fetch("t", 0, 2, max_records=100)] == [2, 3, 4, 5, 8, 9]


def test_compaction_rewrites_stored_batches(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 1, {"cleanup.policy": "compact", "min.compaction.lag.ms": "0"})
    keys = [b"a", b"b", b"a", b"c", b"b", b"a"]
    put_batches(cluster, "t", [as_records([(k, b"%d" % i, [], 1000) for i, k in enumerate(keys)])])
    cluster.run_maintenance(10_000)
    got = cluster.fetch("t", 0, 0, max_records=100)
    assert [(r.offset, r.key) for r in got] == [(3, b"c"), (4, b"b"), (5, b"a")]


def test_a_database_from_before_chunk_kinds_is_upgraded(
    make_cluster: Callable[..., EmbeddedCluster],
) -> None:
    cluster = make_cluster()
    cluster.create_topic("t", 2)
    cluster.produce("t", [Record(b"v%d" % i, b"k%d" % i) for i in range(20)])
    [path] = (cluster.path / "topics").glob("*.db")
    cluster.close()
    # Rewrite the chunk tables the way earlier versions laid them out: no kind column.
    conn = sqlite3.connect(path, isolation_level=None)
    for part in (0, 1):
        conn.execute(f"ALTER TABLE p{part} DROP COLUMN kind")
    conn.close()
    reopened = make_cluster()
    assert sum(len(reopened.fetch("t", p, 0, max_records=100)) for p in (0, 1)) == 20
    conn = sqlite3.connect(path)
    assert all(
        "kind" in {row[1] for row in conn.execute(f"PRAGMA table_info(p{part})")} for part in (0, 1)
    )
    conn.close()
    reopened.produce("t", [Record(b"more", b"k0")])
    assert sum(len(reopened.fetch("t", p, 0, max_records=100)) for p in (0, 1)) == 21


def test_a_batch_header_is_served_with_its_offset(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 1)
    put_batches(cluster, "t", [as_records([(b"k", b"v", [], 5)] * 3)] * 2)
    chunks, _start, end = cluster.engine.fetch_chunks("t", 0, 4, 1 << 20)
    assert end == 6 and [c[2] for c in chunks] == [KIND_BATCH]
    pieces, _ = serve_chunks(chunks, 4, end, 1 << 20, True)
    (base,) = struct.unpack_from(">q", b"".join(pieces))
    assert base == 3


def test_a_stored_batch_after_a_cut_run_is_not_served() -> None:
    # Entries 0 (small) and 1 (large), then a small stored batch at 2: a limit that cuts the
    # entries after offset 0 leaves room for the batch, which must still wait (no gap at 1).
    small = ConsumedRecord("t", 0, 0, 5, b"k", b"v", ())
    large = replace(small, offset=1, value=b"x" * 500)
    rows = [make_row(r.key, r.value, r.headers, r.timestamp_ms, 0) for r in (small, large)]
    [(_, _, _, blob)] = pack_chunks(rows, None, 1 << 20, 1 << 30)
    batch = write_batch([replace(small, offset=2)])
    chunks = [(0, 1, KIND_ENTRIES, blob), (2, 2, KIND_BATCH, batch)]
    first, _ = serve_chunks(chunks[:1], 0, 1, 1 << 20, True)  # offset 0 alone, as a batch
    limit = sum(len(p) for p in first) + len(batch)
    pieces, _ = serve_chunks(chunks, 0, 3, limit, True)
    assert [r.offset for r in served_records(pieces)] == [0]
