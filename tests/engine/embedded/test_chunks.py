"""The stored chunk format: the C fast path and the pure-Python reference agree."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.embedded import chunks
from engine.embedded.codec import decode_headers, encode_headers
from engine.types import ConsumedRecord, RecordMetadata

fields = st.one_of(st.none(), st.binary(max_size=40))
headers = st.lists(st.tuples(st.text(max_size=5), st.binary(max_size=5)), max_size=3)
rows = st.lists(
    st.builds(
        lambda k, v, h, ts: (k, v, encode_headers(tuple(h)), ts, None, 0),
        fields,
        fields,
        headers,
        st.integers(min_value=-(2**40), max_value=2**45),
    ),
    max_size=30,
)

needs_c = pytest.mark.skipif(not chunks.HAVE_C_CHUNKS, reason="C fast path not built")


@settings(deadline=None, max_examples=60)
@given(rows=rows, max_records=st.integers(1, 7), max_bytes=st.integers(1, 400))
def test_pack_round_trips(rows: list[chunks.Row], max_records: int, max_bytes: int) -> None:
    packed = chunks.pack_chunks_py(rows, None, max_records, max_bytes)
    assert sum(c[0] for c in packed) == len(rows)
    assert all(c[0] <= max_records for c in packed)
    entries = []
    base = 100
    for count, _max_ts, _size, blob in packed:
        decoded = chunks.iter_entries(blob, base)
        assert [e[0] for e in decoded] == list(range(base, base + count))
        assert chunks.pack_entries(decoded, base) == blob
        entries.extend(decoded)
        base += count
    assert [(e[2], e[3], e[4], e[1]) for e in entries] == [r[:4] for r in rows]


@needs_c
@settings(deadline=None, max_examples=60)
@given(
    rows=rows,
    max_records=st.integers(1, 7),
    max_bytes=st.integers(1, 400),
    pick=st.lists(st.integers(0, 29), max_size=10),
)
def test_c_pack_equals_python(
    rows: list[chunks.Row], max_records: int, max_bytes: int, pick: list[int]
) -> None:
    assert chunks.pack_chunks(rows, None, max_records, max_bytes) == chunks.pack_chunks_py(
        rows, None, max_records, max_bytes
    )
    indexes = [i for i in pick if i < len(rows)]
    assert chunks.pack_chunks(rows, indexes, max_records, max_bytes) == chunks.pack_chunks_py(
        rows, indexes, max_records, max_bytes
    )


@needs_c
@settings(deadline=None, max_examples=60)
@given(
    rows=rows.filter(bool),
    min_offset=st.integers(0, 35),
    max_records=st.integers(1, 40),
    max_bytes=st.integers(0, 300),
    prefilled=st.booleans(),
)
def test_c_unpack_equals_python(
    rows: list[chunks.Row], min_offset: int, max_records: int, max_bytes: int, prefilled: bool
) -> None:
    ((_, _, _, blob),) = chunks.pack_chunks_py(rows, None, len(rows), 1 << 30)
    results = []
    for unpack in (chunks.unpack_into, chunks.unpack_into_py):
        out: list[ConsumedRecord] = []
        if prefilled:
            out.append(ConsumedRecord("t", 0, 0, 0, None, None))
        used = unpack(out, blob, 0, "t", 3, min_offset, max_records, max_bytes, 5)
        results.append((out, used))
    assert results[0] == results[1]
    for record in results[0][0][1 if prefilled else 0 :]:
        assert record.headers == decode_headers(rows[record.offset][2])


@needs_c
@settings(deadline=None, max_examples=40)
@given(
    parts=st.lists(st.integers(0, 4), max_size=30),
    bases=st.lists(st.integers(0, 99), min_size=5, max_size=5),
)
def test_c_batch_helpers_equal_python(parts: list[int], bases: list[int]) -> None:
    rows: list[chunks.Row] = [(None, b"v", None, i * 3, None, 1) for i in range(len(parts))]
    fast = chunks.make_metadata(RecordMetadata, "t", parts, bases, rows)
    assert fast == chunks.make_metadata_py(RecordMetadata, "t", parts, bases, rows)
    assert all(type(m) is RecordMetadata for m in fast)


@needs_c
@settings(deadline=None, max_examples=60)
@given(
    rows=rows,
    seed=st.randoms(use_true_random=False),
    count=st.integers(1, 4),
    max_records=st.integers(1, 7),
    max_bytes=st.integers(1, 400),
)
def test_c_pack_partitions_equals_python(
    rows: list[chunks.Row], seed: Any, count: int, max_records: int, max_bytes: int
) -> None:
    parts = [seed.randrange(count) for _ in rows]
    expected = chunks.pack_partitions_py(rows, parts, count, max_records, max_bytes)
    assert chunks.pack_partitions(rows, parts, count, max_records, max_bytes) == expected
    indexes = [[i for i, p in enumerate(parts) if p == part] for part in range(count)]
    assert expected == [chunks.pack_chunks_py(rows, idx, max_records, max_bytes) for idx in indexes]


def test_corrupt_chunks_are_detected() -> None:
    ((_, _, _, blob),) = chunks.pack_chunks_py([(b"k", b"value", None, 1, None, 6)], None, 5, 99)
    for unpack in (chunks.unpack_into, chunks.unpack_into_py):
        with pytest.raises(ValueError, match="corrupt"):
            unpack([], blob[:-2], 0, "t", 0, 0, 10, 100, 0)
