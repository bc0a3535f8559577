"""Record headers: the C fast path and the pure-Python reference agree, errors included."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine.embedded import chunks, codec
from engine.types import ConsumedRecord

needs_c = pytest.mark.skipif(not codec.HAVE_C_HEADERS, reason="C fast path not built")

names = st.text(max_size=8) | st.sampled_from(["streamgov.replication", "", "é", "\U0001f600"])
values = st.binary(max_size=12)
pairs = st.tuples(names, values)
headers = st.lists(pairs, max_size=5).map(tuple)
#: Anything a producer might pass as headers: good pairs, pairs of the wrong shape or types,
#: bytearray values, names that cannot be UTF-8, names of 64 KiB.
junk_items = st.one_of(
    pairs,
    st.tuples(names, st.binary(max_size=4).map(bytearray)),
    st.tuples(names),
    st.tuples(names, values, values),
    st.lists(st.one_of(names, values), min_size=2, max_size=2),
    st.tuples(values, values),
    st.tuples(names, names),
    st.tuples(st.integers(), values),
    st.tuples(st.just("\ud800"), values),
    st.tuples(st.just("n" * 0x10000), values),
    st.tuples(st.just("é" * 0x8000), values),
    st.none(),
    st.integers(),
)
junk = st.one_of(
    st.lists(junk_items, max_size=4),
    st.lists(junk_items, max_size=4).map(tuple),
    st.integers(),
    st.none(),
)


def outcome(function: Callable[[Any], Any], argument: Any) -> tuple[str, Any]:
    """What a call gives: ("ok", result) or ("error", exception type and message)."""
    try:
        return "ok", function(argument)
    except Exception as exc:
        return "error", (type(exc), str(exc))


@settings(deadline=None)
@given(headers)
def test_decode_inverts_encode(pairs_: tuple[tuple[str, bytes], ...]) -> None:
    blob = codec.encode_headers_py(pairs_)
    assert (blob is None) == (not pairs_)
    assert codec.decode_headers_py(blob) == pairs_


@needs_c
@settings(deadline=None, max_examples=300)
@given(headers)
def test_c_encode_and_decode_equal_python(pairs_: tuple[tuple[str, bytes], ...]) -> None:
    blob = codec.encode_headers(pairs_)
    assert blob == codec.encode_headers_py(pairs_)
    assert codec.decode_headers(blob) == codec.decode_headers_py(blob) == pairs_


@needs_c
@settings(deadline=None, max_examples=300)
@given(headers, st.data())
def test_c_decode_equals_python_on_damaged_blobs(
    pairs_: tuple[tuple[str, bytes], ...], data: st.DataObject
) -> None:
    """Cut short, bytes flipped, or any bytes at all: the same headers or the same error."""
    blob = codec.encode_headers_py(pairs_) or b""
    damaged = data.draw(
        st.one_of(
            st.integers(0, len(blob)).map(lambda n: blob[:n]),
            st.tuples(st.integers(0, max(0, len(blob) - 1)), st.integers(0, 255)).map(
                lambda f: blob[: f[0]] + bytes([f[1]]) + blob[f[0] + 1 :] if blob else blob
            ),
            st.binary(max_size=30),
        )
    )
    c_result, py_result = (
        outcome(codec.decode_headers, damaged),
        outcome(codec.decode_headers_py, damaged),
    )
    assert c_result == py_result
    if c_result[0] == "error":
        assert issubclass(c_result[1][0], ValueError)


@needs_c
@settings(deadline=None, max_examples=400)
@given(junk)
@example([("a", b"1"), ("b", bytearray(b"2"))])
@example((("x" * 0x10000, b""),))
def test_c_check_equals_python(items: Any) -> None:
    """The same checked headers, or the same error type and message, for any input."""
    c_result, py_result = (
        outcome(codec.check_headers, items),
        outcome(codec.check_headers_py, items),
    )
    assert c_result == py_result
    if c_result[0] == "ok":
        checked = c_result[1]
        assert type(checked) is tuple
        assert all(type(pair) is tuple and type(pair[1]) is bytes for pair in checked)
        assert codec.encode_headers(checked) == codec.encode_headers_py(checked)


@needs_c
def test_check_names_what_is_wrong() -> None:
    with pytest.raises(TypeError, match=r"a header must be a \(str, bytes\) pair, got \('k', 1\)"):
        codec.check_headers((("k", 1),))
    with pytest.raises(ValueError, match="shorter than 64 KiB"):
        codec.check_headers((("n" * 0x10000, b""),))
    with pytest.raises(TypeError, match="sequence of"):
        codec.check_headers(5)  # type: ignore[arg-type]


@needs_c
@settings(deadline=None, max_examples=100)
@given(st.lists(st.tuples(st.binary(max_size=8), headers), max_size=8))
def test_fetched_records_carry_the_same_headers_as_the_reference(
    records: list[tuple[bytes, tuple[tuple[str, bytes], ...]]],
) -> None:
    """A chunk decoded by the C path (headers decoded in place) equals the reference."""
    rows: list[chunks.Row] = [
        (None, value, codec.encode_headers(pairs_), 7, None, 0) for value, pairs_ in records
    ]
    for count, _ts, _size, blob in chunks.pack_chunks_py(rows, None, 1000, 1 << 20):
        fast: list[ConsumedRecord] = []
        slow: list[ConsumedRecord] = []
        chunks.unpack_into(fast, blob, 0, "t", 0, 0, count, 1 << 20, 0)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(chunks, "decode_headers", codec.decode_headers_py)
            chunks.unpack_into_py(slow, blob, 0, "t", 0, 0, count, 1 << 20, 0)
        assert fast == slow
        assert [r.headers for r in fast] == [pairs_ for _value, pairs_ in records]
