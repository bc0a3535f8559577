"""Pure helpers of the terminal UI: formatting, decoding, diffs and command completion."""

from __future__ import annotations

import base64
import io
import json
import struct

import fastavro
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import textfmt as fmt
from tui.decode import plain, schema_id_of, with_schema
from tui.dialogs.command_bar import common_prefix, complete, resolve
from tui.diff import pretty, side_by_side
from tui.screens.base import Row, matches
from tui.screens.compatibility import reason_rows, verdict
from tui.screens.lag_detail import history_line, plan_table, reset_value
from tui.screens.records import header_text
from tui.screens.topics import total_size


def test_durations_and_counts() -> None:
    assert fmt.duration_ms("604800000") == "7d"
    assert fmt.duration_ms("3600000") == "1h"
    assert fmt.duration_ms(1500) == "1.5s"
    assert fmt.duration_ms("-1") == "forever"
    assert fmt.duration_ms(None) == "-"
    assert fmt.count(1234567) == "1,234,567"
    assert fmt.seconds(4.25) == "4.2s"
    assert fmt.seconds(185) == "3m05s"
    assert fmt.seconds(7300, lower_bound=True) == ">=2h01m"
    assert fmt.seconds(3 * 86_400 + 7200) == "3d02h"
    assert fmt.rate(None) == "-" and fmt.rate(2.0) == "2.0/s" and fmt.rate(1500) == "1,500/s"


@settings(deadline=None, max_examples=60)
@given(st.lists(st.floats(0, 1e9, allow_nan=False), max_size=30), st.integers(1, 20))
def test_sparkline_has_one_bar_per_value_and_peaks_at_the_maximum(
    values: list[float], width: int
) -> None:
    line = fmt.sparkline(values, width)
    tail = values[-width:]
    assert len(line) == len(tail)
    assert set(line) <= set(fmt.SPARK_BARS)
    if tail and max(tail) > 0:
        assert line[tail.index(max(tail))] == fmt.SPARK_BARS[-1]


def test_decodes_wire_format_avro_and_plain_bytes() -> None:
    schema = {"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]}
    body = io.BytesIO()
    fastavro.schemaless_writer(body, fastavro.parse_schema(schema), {"a": 5})
    framed = struct.pack(">bI", 0, 42) + body.getvalue()
    assert schema_id_of(framed) == 42
    decoded = with_schema(framed, {"schema": json.dumps(schema)})
    assert (json.loads(decoded.text), decoded.kind, decoded.schema_id) == ({"a": 5}, "avro", 42)
    broken = with_schema(struct.pack(">bI", 0, 42), {"schema": json.dumps(schema)})
    assert broken.kind == "error"
    json_framed = struct.pack(">bI", 0, 7) + b'{"x": 1}'
    assert with_schema(json_framed, {"schema": "{}", "schemaType": "JSON"}).kind == "json-schema"
    assert schema_id_of(b"\x01abcd") is None and schema_id_of(b"\x00ab") is None
    assert plain(b'{"k": 1}').kind == "json"
    assert plain(b"hello").text == "hello"
    assert plain(b"\xff\xfe").kind == "hex"
    assert plain(None).kind == "null"


@settings(deadline=None, max_examples=60)
@given(
    st.lists(st.sampled_from(["a", "b", "c", "{", "}", ""]), max_size=12),
    st.lists(st.sampled_from(["a", "b", "d", "{", "}", ""]), max_size=12),
)
def test_side_by_side_keeps_every_line_of_both_sides_in_order(
    old: list[str], new: list[str]
) -> None:
    rows = side_by_side("\n".join(old), "\n".join(new))
    left = [r.left for r in rows if r.change != "added"]
    right = [r.right for r in rows if r.change != "removed"]
    # Both sides are shown pretty-printed (JSON texts are re-indented first).
    assert left == pretty("\n".join(old)).splitlines()
    assert right == pretty("\n".join(new)).splitlines()
    assert all(r.left == r.right for r in rows if r.change == "same")


def test_command_completion() -> None:
    names = ["topics", "schemas", "lag", "quit"]
    assert complete("t", names) == ["topics"]
    assert complete("", names) == names
    assert resolve("sch", names) == "schemas"
    assert resolve("LAG", names) == "lag"
    assert resolve("x", names) is None
    assert common_prefix(["schemas", "schedule"]) == "sche"


def test_reset_values() -> None:
    assert reset_value("") is None
    assert reset_value(" -3 ") == -3
    assert reset_value("+5") == 5
    assert reset_value("2026-01-01T00:00:00Z") == 1_767_225_600_000
    assert reset_value("2026-01-01T00:00:00") == 1_767_225_600_000
    with pytest.raises(ValueError, match="neither a whole number"):
        reset_value("soon")
    with pytest.raises(ValueError):
        reset_value("-+5")


def test_filter_matches_every_word_in_any_cell() -> None:
    row = Row("orders", ("orders", "3", "delete"))
    assert matches(row, "ord del")
    assert matches(row, "")
    assert not matches(row, "ord compact")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "-"),
        (0, "0 B"),
        (1023, "1023 B"),
        (1536, "1.5 KiB"),
        (150 * 1024, "150 KiB"),
        (5 * 1024**3, "5.0 GiB"),
        (3 * 1024**5, "3072 TiB"),
    ],
)
def test_sizes_in_binary_units(value: int | None, shown: str) -> None:
    assert fmt.size(value) == shown


def test_topic_size_is_unknown_when_any_partition_size_is() -> None:
    assert total_size([{"size_bytes": 10}, {"size_bytes": 5}]) == 15
    assert total_size([{"size_bytes": 10}, {"size_bytes": None}]) is None
    assert total_size([{"earliest_offset": 0}]) is None


def test_one_sparkline_scale_for_the_list_and_the_detail() -> None:
    constant = [1.0] * 12
    assert fmt.sparkline(constant, 10) == "█" * 10  # the list's column
    assert history_line(constant).plain == f"history {'█' * 12}  0..1 over 12 samples"
    assert fmt.sparkline([0.0, 0.0], 10) == "▁▁"
    assert history_line([]).plain == "history -"


def test_registry_reasons_are_laid_out_like_check_findings() -> None:
    message = (
        "{errorType:'TYPE_MISMATCH', description:'The type (path '/fields/0/type') differs', "
        "additionalInfo:'backward check against version 1 at /fields/0/type'}"
    )
    assert reason_rows(message) == (
        "TYPE_MISMATCH",
        [
            ("against", "version 1 (backward check)"),
            ("at", "/fields/0/type"),
            ("problem", "The type (path '/fields/0/type') differs"),
        ],
    )
    assert reason_rows("plain words") == ("plain words", [])
    shown = verdict(False, [message]).plain.splitlines()
    assert shown == [
        "NOT compatible",
        "TYPE_MISMATCH",
        "  against: version 1 (backward check)",
        "  at:      /fields/0/type",
        "  problem: The type (path '/fields/0/type') differs",
    ]


def test_reset_plan_is_a_table_like_the_cli_prints() -> None:
    plan = [
        {"topic_name": "orders", "partition_id": 0, "previous_offset": 1, "offset": 0},
        {"topic_name": "orders", "partition_id": 11, "previous_offset": None, "offset": 250},
    ]
    assert plan_table(plan).splitlines() == [
        "TOPIC   PARTITION  CURRENT-OFFSET  NEW-OFFSET",
        "orders  0          1               0",
        "orders  11         -               250",
    ]


def test_header_values_are_text_json_or_hex() -> None:
    encode = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    assert header_text(encode(b"batch")) == "batch"
    assert header_text(encode(b"\xff\x00")) == "ff 00"
    assert header_text(None) == "null"
