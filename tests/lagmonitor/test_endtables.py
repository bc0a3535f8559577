"""The columnar end-offset tables against the one-partition `EndOffsetTable` they must match."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lagmonitor.endtables import EndOffsetTables
from lagmonitor.lag import EndOffsetTable

KEYS = ("a", "b", "c", "d")

#: One step: the keys a sample reads (repeats allowed) with an end each, whether time moves
#: on, and which keys are forgotten afterwards.
steps = st.lists(
    st.tuples(
        st.lists(st.tuples(st.sampled_from(KEYS), st.integers(0, 60)), max_size=8),
        st.booleans(),
        st.lists(st.sampled_from(KEYS), max_size=1),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(
    points=st.integers(2, 7),
    script=steps,
    probes=st.lists(st.integers(-5, 70), min_size=1, max_size=6),
)
def test_tables_match_one_table_per_partition(
    points: int, script: list[tuple[list[tuple[str, int]], bool, list[str]]], probes: list[int]
) -> None:
    tables = EndOffsetTables(points)
    model: dict[str, EndOffsetTable] = {}
    at = 100.0
    for read, advance, forget in script:
        if advance:
            at += 1.5
        rows = np.array([tables.row(key) for key, _ in read], np.int64)
        tables.record(rows, np.array([end for _, end in read], np.int64), at, 1)
        for key, end in read:
            table = model.setdefault(key, EndOffsetTable(points))
            if table.updated_at != at:  # the first end of a sample counts
                table.add(end, at)
        tables.drop(forget)
        for key in forget:
            model.pop(key, None)
        assert set(tables.rows) == set(model)
        for key, table in model.items():
            assert tables.points(tables.rows[key]) == table.points
        now = at + 2.0
        keys = sorted(model)
        for committed in probes:
            seconds, lower = tables.seconds_behind(
                np.array([tables.rows[key] for key in keys], np.int64),
                np.full(len(keys), committed, np.int64),
                now,
            )
            for key, got, bound in zip(keys, seconds.tolist(), lower.tolist(), strict=True):
                expected = model[key].seconds_behind(committed, now)
                if expected is None:
                    assert math.isnan(got)
                else:
                    assert (got, bound) == expected


def test_rows_are_reused_and_start_empty() -> None:
    tables = EndOffsetTables(4)
    first = tables.row("a")
    tables.record(np.array([first]), np.array([10]), 1.0, 1)
    assert tables.points(first) == [(10, 1.0)]
    tables.drop(["a"])
    assert "a" not in tables
    again = tables.row("b")
    assert again == first
    assert tables.points(again) == []


def test_unread_lists_partitions_no_sample_read() -> None:
    tables = EndOffsetTables()
    a, b = tables.row("a"), tables.row("b")
    tables.record(np.array([a, b]), np.array([1, 1]), 1.0, 1)
    tables.record(np.array([a]), np.array([2]), 2.0, 2)
    assert tables.unread(2) == ["b"]


def test_many_rows_and_wide_rings_grow_as_needed() -> None:
    tables = EndOffsetTables(60)
    rows = np.array([tables.row(i) for i in range(500)], np.int64)
    for step in range(70):
        tables.record(rows, np.full(500, step * 10, np.int64), float(step), step)
    assert tables.points(int(rows[-1]))[0] == (100, 10.0)  # the 60 newest points
    assert len(tables.points(int(rows[0]))) == 60


def test_needs_two_points() -> None:
    with pytest.raises(ValueError, match="at least 2 points"):
        EndOffsetTables(1)
