"""The pure reset rule: every target lands inside the log, as kafka-consumer-groups clamps."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.resets import ResetKind, ResetTarget, new_offset, parse_topic_spec

offsets = st.integers(min_value=0, max_value=10_000)


@st.composite
def targets(draw: st.DrawFn) -> ResetTarget:
    kind = draw(st.sampled_from(list(ResetKind)))
    if kind in {ResetKind.EARLIEST, ResetKind.LATEST}:
        return ResetTarget(kind)
    if kind == ResetKind.OFFSET:
        return ResetTarget.offset(draw(offsets))
    return ResetTarget(kind, draw(st.integers(min_value=-20_000, max_value=20_000)))


@settings(deadline=None, max_examples=200)
@given(targets(), offsets, offsets, st.none() | offsets, st.none() | offsets)
def test_new_offset_is_always_inside_the_log(
    target: ResetTarget, a: int, b: int, current: int | None, at_time: int | None
) -> None:
    earliest, latest = min(a, b), max(a, b)
    result = new_offset(target, current=current, earliest=earliest, latest=latest, at_time=at_time)
    assert earliest <= result <= latest


def test_each_kind() -> None:
    log = {"earliest": 10, "latest": 50}
    assert new_offset(ResetTarget.earliest(), current=30, **log) == 10
    assert new_offset(ResetTarget.latest(), current=30, **log) == 50
    assert new_offset(ResetTarget.offset(20), current=30, **log) == 20
    assert new_offset(ResetTarget.offset(5), current=30, **log) == 10
    assert new_offset(ResetTarget.shift_by(-5), current=30, **log) == 25
    assert new_offset(ResetTarget.shift_by(5), current=None, **log) == 15
    assert new_offset(ResetTarget.datetime_ms(1), current=30, at_time=40, **log) == 40
    assert new_offset(ResetTarget.datetime_ms(1), current=30, at_time=None, **log) == 50


def test_targets_that_need_a_value_refuse_none() -> None:
    with pytest.raises(ValueError, match="needs a value"):
        ResetTarget(ResetKind.SHIFT_BY)
    with pytest.raises(ValueError, match=">= 0"):
        ResetTarget.offset(-1)


def test_topic_specs() -> None:
    assert parse_topic_spec("orders") == ("orders", None)
    assert parse_topic_spec("orders:2,0,2") == ("orders", (0, 2))
    with pytest.raises(ValueError, match="not valid"):
        parse_topic_spec("orders:x")
    with pytest.raises(ValueError, match="no partitions"):
        parse_topic_spec("orders:")
