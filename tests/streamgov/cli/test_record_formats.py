"""Properties of the produce/consume line formats: nothing is lost in either direction."""

from __future__ import annotations

import base64
import contextlib
import io
import json

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.types import ConsumedRecord
from streamgov.cli.consume import record_json
from streamgov.cli.produce import read_lines, split_line

maybe_bytes = st.none() | st.binary(max_size=40)
text_or_binary = st.one_of(st.binary(max_size=40), st.text(max_size=20).map(str.encode))


def _decoded(obj: dict[str, object], field: str) -> bytes | None:
    value = obj[field]
    if value is None:
        return None
    assert isinstance(value, str)
    if obj.get(f"{field}_encoding") == "base64":
        return base64.b64decode(value)
    return value.encode("utf-8")


@settings(deadline=None, max_examples=150)
@given(
    st.none() | text_or_binary,
    st.none() | text_or_binary,
    st.lists(st.tuples(st.text(max_size=8), text_or_binary), max_size=3),
)
def test_json_lines_keep_every_byte(
    key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
) -> None:
    record = ConsumedRecord("t", 1, 7, 1234, key, value, tuple(headers))
    line = record_json(record)
    assert "\n" not in line
    obj = json.loads(line)
    assert (obj["topic"], obj["partition"], obj["offset"], obj["timestamp"]) == ("t", 1, 7, 1234)
    assert _decoded(obj, "key") == key
    assert _decoded(obj, "value") == value
    assert [(h["key"], _decoded(h, "value")) for h in obj["headers"]] == headers


@settings(deadline=None, max_examples=150)
@given(st.binary(max_size=30), st.binary(min_size=1, max_size=3), st.binary(max_size=30))
def test_key_is_everything_before_the_first_separator(
    key: bytes, separator: bytes, value: bytes
) -> None:
    if separator in key:
        key = key.replace(separator, b"")
    assert split_line(key + separator + value, separator, 1) == (key, value)


@settings(deadline=None, max_examples=100)
@given(st.lists(st.binary(max_size=20).filter(lambda b: b"\n" not in b and b"\r" not in b)))
def test_lines_round_trip_with_either_line_ending(lines: list[bytes]) -> None:
    for ending in (b"\n", b"\r\n"):
        data = b"".join(line + ending for line in lines)
        assert list(read_lines(io.BytesIO(data))) == lines


@settings(deadline=None, max_examples=100)
@given(
    st.lists(st.binary(max_size=12).filter(lambda b: b"\n" not in b and b"\r" not in b)),
    st.integers(0, 12),
    st.sampled_from([b"\n", b"\r\n"]),
)
def test_a_line_limit_passes_short_lines_and_names_the_first_long_one(
    lines: list[bytes], limit: int, ending: bytes
) -> None:
    data = b"".join(line + ending for line in lines)
    long = [n for n, line in enumerate(lines, start=1) if len(line) > limit]
    read: list[bytes] = []
    with pytest.raises(click.ClickException) if long else contextlib.nullcontext() as raised:
        read.extend(read_lines(io.BytesIO(data), limit))
    if long:
        assert raised is not None and raised.value.message.startswith(f"line {long[0]} ")
        assert read == lines[: long[0] - 1]
    else:
        assert read == lines
