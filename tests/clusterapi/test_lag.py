"""Lag arithmetic of the cluster API: rules that hold for every input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from clusterapi import lag as lagmath
from engine.types import TopicPartition

offsets = st.integers(min_value=0, max_value=10**12)


@settings(deadline=None, max_examples=60)
@given(st.dictionaries(st.integers(0, 20), st.tuples(offsets, offsets), max_size=10))
def test_lag_is_never_negative_and_the_summary_picks_the_maximum(
    parts: dict[int, tuple[int, int]],
) -> None:
    committed = {TopicPartition("t", p): c for p, (c, _) in parts.items()}
    ends = {TopicPartition("t", p): e for p, (_, e) in parts.items()}
    lags = lagmath.partition_lags(committed, ends, {})
    assert [lag.partition for lag in lags] == sorted(parts)
    for lag in lags:
        assert lag.lag == max(0, lag.log_end_offset - lag.current_offset) >= 0
    worst = lagmath.max_lag(lags)
    if lags:
        assert worst is not None and worst.lag == max(lag.lag for lag in lags)
    else:
        assert worst is None


def test_partitions_of_deleted_topics_are_left_out() -> None:
    committed = {TopicPartition("gone", 0): 3, TopicPartition("t", 0): 1}
    lags = lagmath.partition_lags(committed, {TopicPartition("t", 0): 4}, {})
    assert [(lag.topic, lag.lag) for lag in lags] == [("t", 3)]


@settings(deadline=None, max_examples=60)
@given(st.integers(-(10**6), 10**6), st.integers(0, 1000), st.integers(0, 1000))
def test_clamp_keeps_offsets_inside_the_partition(offset: int, earliest: int, extra: int) -> None:
    clamped = lagmath.clamp(offset, earliest, earliest + extra)
    assert earliest <= clamped <= earliest + extra
    if earliest <= offset <= earliest + extra:
        assert clamped == offset
