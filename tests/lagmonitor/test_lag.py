"""Offset lag, time lag (exact and interpolated), rates and time to catch up."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lagmonitor.lag import (
    EndOffsetTable,
    TimeLag,
    catch_up_seconds,
    offset_lag,
    rate,
    time_lag_from_timestamp,
)


@pytest.mark.parametrize(
    ("committed", "end", "earliest", "policy", "expected"),
    [
        (10, 25, 0, "latest", 15),
        (25, 25, 0, "latest", 0),
        (30, 25, 0, "latest", 0),  # committed past the end (log recreated): never negative
        (None, 25, 5, "latest", 0),
        (None, 25, 5, "earliest", 20),
    ],
)
def test_offset_lag(
    committed: int | None, end: int, earliest: int, policy: str, expected: int
) -> None:
    assert offset_lag(committed, end, earliest, policy) == expected  # type: ignore[arg-type]


def test_exact_time_lag() -> None:
    assert time_lag_from_timestamp(0, None, 100.0) == TimeLag(0.0)
    assert time_lag_from_timestamp(5, 90.0, 100.0) == TimeLag(10.0)
    assert time_lag_from_timestamp(5, None, 100.0) is None
    assert time_lag_from_timestamp(5, 120.0, 100.0) == TimeLag(0.0)  # clock skew


def table(points: list[tuple[int, float]]) -> EndOffsetTable:
    built = EndOffsetTable(max_points=10)
    for end, at in points:
        built.add(end, at)
    return built


def test_interpolation_between_points() -> None:
    t = table([(0, 0.0), (100, 10.0), (200, 20.0)])
    # record 149 was appended when the end went from 149 to 150: at 15.0
    assert t.time_lag(149, now=20.0) == TimeLag(pytest.approx(5.0))
    assert t.time_lag(200, now=20.0) == TimeLag(0.0)


def test_idle_producer_caught_up_is_zero_forever() -> None:
    t = table([(0, 0.0), (100, 10.0)] + [(100, 10.0 * i) for i in range(2, 50)])
    assert t.time_lag(100, now=490.0) == TimeLag(0.0)


def test_idle_producer_behind_is_the_real_age() -> None:
    # the end stayed at 100 from 10 s to 490 s; record 50 was appended at 5 s
    t = table([(0, 0.0), (100, 10.0)] + [(100, 10.0 * i) for i in range(2, 50)])
    assert t.time_lag(49, now=490.0) == TimeLag(pytest.approx(485.0))
    assert len(t.points) == 3  # the flat stretch costs one extra point


def test_burst_after_idle_is_placed_at_the_end_of_the_flat_stretch() -> None:
    t = table([(100, 0.0), (100, 100.0), (200, 110.0)])
    # record 150 appeared between 100 s (end still 100) and 110 s (end 200)
    assert t.time_lag(150, now=110.0) == TimeLag(pytest.approx(4.9))


def test_far_behind_is_a_lower_bound_not_an_extrapolation() -> None:
    t = table([(1_000_000, 0.0), (1_000_100, 10.0)])
    result = t.time_lag(5, now=10.0)
    assert result == TimeLag(10.0, lower_bound=True)


def test_unknown_with_fewer_than_two_samples() -> None:
    assert table([(100, 0.0)]).time_lag(50, now=0.0) is None
    assert EndOffsetTable().time_lag(0, now=0.0) is None
    assert table([(100, 0.0), (200, 10.0)]).time_lag(None, now=10.0) is None


def test_shrinking_end_resets_the_table() -> None:
    t = table([(500, 0.0), (600, 10.0), (5, 20.0)])
    assert t.points == [(5, 20.0)]
    assert t.samples == 1


def test_table_is_bounded() -> None:
    t = EndOffsetTable(max_points=4)
    for i in range(100):
        t.add(i * 10, float(i))
    assert len(t.points) == 4
    with pytest.raises(ValueError, match="at least 2"):
        EndOffsetTable(max_points=1)


@settings(max_examples=50, deadline=None)
@given(
    steps=st.lists(st.tuples(st.integers(0, 50), st.floats(0.1, 30.0)), min_size=2, max_size=40),
    offset_share=st.floats(0.0, 1.0),
)
def test_interpolated_time_lag_is_bounded_by_what_was_observed(
    steps: list[tuple[int, float]], offset_share: float
) -> None:
    t = EndOffsetTable(max_points=8)
    end, at = 0, 0.0
    for grow, wait in steps:
        end += grow
        at += wait
        t.add(end, at)
    committed = int(end * offset_share)
    result = t.time_lag(committed, now=at)
    if committed >= end:
        assert result == TimeLag(0.0)
    elif result is not None:
        oldest = t.points[0][1]
        assert 0.0 <= result.seconds <= at - oldest + 1e-9


def test_rates_and_catch_up() -> None:
    assert rate([0.0, 10.0], [100, 300]) == 20.0
    assert rate([0.0, 10.0], [300, 100]) == 0.0  # a rewind is no progress
    assert rate([0.0], [1]) is None
    assert rate([5.0, 5.0], [1, 2]) is None
    assert rate([0.0, 10.0], [None, 2]) is None
    assert catch_up_seconds(0, None, None) == 0.0
    assert catch_up_seconds(1000, 50.0, 150.0) == 10.0
    assert catch_up_seconds(1000, 150.0, 50.0) is None
    assert catch_up_seconds(1000, None, 50.0) is None
