"""The copy path's batch helpers agree with the record-by-record provenance rules."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.types import ConsumedRecord, Record
from replicator import codec

aliases = st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True)
header_names = st.sampled_from(["trace", "", "é", codec.PROVENANCE_HEADER, "streamgov"])
headers = st.lists(st.tuples(header_names, st.binary(max_size=12)), max_size=3).map(tuple)
records = st.lists(
    st.builds(
        lambda offset, ts, key, value, hs: ConsumedRecord("t", 0, offset, ts, key, value, hs),
        st.integers(0, 2**62),
        st.integers(-(2**40), 2**45),
        st.none() | st.binary(max_size=8),
        st.none() | st.binary(max_size=8),
        headers,
    ),
    max_size=8,
)


@settings(deadline=None)
@given(records)
def test_any_provenance_finds_every_header_of_that_name(batch: list[ConsumedRecord]) -> None:
    expected = any(name == codec.PROVENANCE_HEADER for r in batch for name, _ in r.headers)
    assert codec.any_provenance(batch) == expected


@settings(deadline=None)
@given(records, aliases, st.integers(0, 1000))
def test_fresh_copies_equal_stamping_each_record(
    batch: list[ConsumedRecord], source: str, partition: int
) -> None:
    fresh = [r for r in batch if not codec.any_provenance([r])]
    expected = [
        Record(r.value, r.key, codec.stamp(r.headers, source, r.offset), r.timestamp_ms, partition)
        for r in fresh
    ]
    copies = codec.fresh_copies_py(fresh, source, partition)
    assert copies == expected
    assert codec.fresh_copies(fresh, source, partition) == expected  # C when built
    assert [codec.provenance(c.headers) for c in copies] == [
        codec.Provenance(source, source, r.offset) for r in fresh
    ]


@pytest.mark.skipif(not codec.HAVE_C_COPIES, reason="C fast path not built")
def test_c_copies_take_any_offset_and_name_what_is_wrong() -> None:
    big = ConsumedRecord("t", 0, 2**63 - 1, 5, None, None, (("h", b""),))
    (copy,) = codec.fresh_copies([big], "a", 3)
    assert copy.headers == (("h", b""), (codec.PROVENANCE_HEADER, f"a;a;{2**63 - 1}".encode()))
    assert (copy.partition, copy.timestamp_ms, copy.key, copy.value) == (3, 5, None, None)
    with pytest.raises(AttributeError):
        codec.fresh_copies([object()], "a", 0)  # type: ignore[list-item]
