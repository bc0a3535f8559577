"""Burrow-style rule tables: each status with the windows that produce it."""

from __future__ import annotations

import pytest

from lagmonitor.lag import offset_lag
from lagmonitor.model import Status
from lagmonitor.status import (
    PartitionStatus,
    StatusPolicy,
    evaluate_group,
    evaluate_partition,
)
from lagmonitor.window import NO_COMMIT, GroupWindow

Row = tuple[int | None, int]  # (committed, end) per sample


def history(rows: list[Row], size: int | None = None, interval: float = 10.0) -> GroupWindow:
    """The window of a one-partition group with one sample per row, `interval` seconds apart."""
    built = GroupWindow(size or len(rows), width=1)
    for index, (committed, end) in enumerate(rows):
        stored = NO_COMMIT if committed is None else committed
        built.append(index * interval, [stored], [end], [offset_lag(committed, end)])
    return built


def steady(committed_step: int, end_step: int, lag0: int = 100, n: int = 10) -> list[Row]:
    return [(1000 + i * committed_step, 1000 + lag0 + i * end_step) for i in range(n)]


# (name, rows, owned, expected status, words the reason must contain)
TABLE = [
    ("caught up", [(i * 10, i * 10) for i in range(10)], True, Status.OK, "caught up"),
    ("quiet topic, no consumer", [(50, 50)] * 10, False, Status.OK, "caught up"),
    ("zero lag once in window", [(0, 10), (10, 10)] + [(10, 20)] * 8, False, Status.OK, "within"),
    ("progressing, lag shrinking", steady(20, 10), True, Status.OK, "progress"),
    ("lag growing", steady(5, 10), True, Status.WARN, "grew"),
    ("lag flat but moving", steady(10, 10), True, Status.WARN, "grew"),
    ("stuck while owned", [(500, 600 + i) for i in range(10)], True, Status.STALL, "holds"),
    (
        "stuck without members",
        [(500, 600 + i) for i in range(10)],
        False,
        Status.STOP,
        "no commits",
    ),
    ("stuck on quiet topic", [(500, 600)] * 10, False, Status.STOP, "no commits"),
    (
        "rewind",
        [(900, 1000), (950, 1000), (400, 1000)] + [(400 + i, 1000) for i in range(1, 8)],
        True,
        Status.REWIND,
        "backwards",
    ),
    ("rewind beats stall", [(600, 1000), (500, 1000)] + [(500, 1000)] * 8, True, Status.REWIND, ""),
    ("never committed", [(None, 100)] * 10, True, Status.OK, "no committed offset"),
    ("not enough samples", [(500, 600 + i) for i in range(3)], True, Status.PENDING, "not judged"),
]


@pytest.mark.parametrize(
    ("rows", "owned", "expected", "words"),
    [row[1:] for row in TABLE],
    ids=[row[0] for row in TABLE],
)
def test_partition_rules(rows: list[Row], owned: bool, expected: Status, words: str) -> None:
    size = 10
    result = evaluate_partition(history(rows, size), 0, owned)
    assert result.status is expected, result.reason
    assert words in result.reason


def test_a_rewind_that_recovers_is_not_an_error() -> None:
    # Commits 1000, 2000, 3000, a rebalance re-reads from 2000, then 4000 (issue 12).
    rows: list[Row] = [(1000, 1500), (2000, 2500), (3000, 3500), (2000, 4500)]
    during = evaluate_partition(history(rows, size=5), 0, owned=True)
    assert during.status is Status.REWIND
    assert "not recovered" in during.reason
    after = evaluate_partition(history([*rows, (4000, 5000)], size=5), 0, owned=True)
    assert after.status is Status.OK, after.reason
    assert "progress" in after.reason


def test_a_rewind_recovers_when_a_commit_reaches_the_earlier_offset_exactly() -> None:
    rows: list[Row] = [(1000, 1500), (3000, 3500), (2000, 3600), (3000, 3700), (3100, 3750)]
    assert evaluate_partition(history(rows, size=5), 0, owned=True).status is Status.OK


def test_only_the_first_decrease_in_the_window_counts_as_in_burrow() -> None:
    # 100 -> 50 recovers at 100; the later 100 -> 60 is not looked at (Burrow's rule).
    rows: list[Row] = [(100, 200), (50, 210), (100, 220), (60, 230), (70, 240)]
    assert evaluate_partition(history(rows, size=5), 0, owned=True).status is Status.OK


def test_a_reset_to_zero_after_being_caught_up_is_a_rewind_at_once() -> None:
    # Burrow checks REWIND before the "lag was zero in the window" exemption.
    rows: list[Row] = [(100, 100), (100, 100), (100, 100), (0, 100)]
    result = evaluate_partition(history(rows, size=10), 0, owned=True)
    assert result.status is Status.REWIND, result.reason


def test_stop_is_spared_while_the_lag_was_zero_inside_the_window() -> None:
    rows: list[Row] = [(100, 100)] + [(100, 110)] * 9
    spared = evaluate_partition(history(rows, size=10), 0, owned=False)
    assert spared.status is Status.OK
    assert "within 0" in spared.reason
    stopped = evaluate_partition(history([*rows, (100, 110)], size=10), 0, owned=False)
    assert stopped.status is Status.STOP


def test_a_short_window_with_lag_is_pending_never_ok() -> None:
    # No members, lag that has not moved: two samples are not enough to call it anything.
    result = evaluate_partition(history([(100, 900), (100, 900)], size=10), 0, owned=False)
    assert result.status is Status.PENDING
    assert "2/10 samples, not judged yet" in result.reason


def test_rewind_reported_before_the_window_is_full() -> None:
    result = evaluate_partition(history([(600, 1000), (500, 1000)], size=10), 0, owned=True)
    assert result.status is Status.REWIND


def test_rewind_that_left_the_window_is_forgotten() -> None:
    rows: list[Row] = [(600, 1000), (500, 1000)] + [(500 + 10 * i, 1000 + 5 * i) for i in range(12)]
    result = evaluate_partition(history(rows, size=5), 0, owned=True)
    assert result.status is Status.OK


def test_allowed_lag_treats_small_lag_as_caught_up() -> None:
    rows: list[Row] = [(99, 100)] * 10  # a transaction marker the backend cannot see past
    assert evaluate_partition(history(rows), 0, owned=True).status is Status.STALL
    relaxed = evaluate_partition(history(rows), 0, owned=True, policy=StatusPolicy(allowed_lag=1))
    assert relaxed.status is Status.OK
    assert "<= 1" in relaxed.reason


def test_min_samples_judges_earlier() -> None:
    rows: list[Row] = [(500, 600 + i) for i in range(3)]
    policy = StatusPolicy(min_samples=3)
    assert evaluate_partition(history(rows, size=10), 0, True, policy).status is Status.STALL


def test_recreated_topic_clears_the_window() -> None:
    built = history([(500, 600 + i) for i in range(10)])
    built.append(100.0, [0], [5], [5])  # the log end went backwards: a new log
    assert built.count(0) == 1
    assert evaluate_partition(built, 0, owned=True).status is Status.PENDING


def test_stop_reason_counts_time_since_the_offset_last_moved() -> None:
    rows: list[Row] = [(100, 200)] * 15
    result = evaluate_partition(history(rows, size=10), 0, owned=False)
    assert result.status is Status.STOP
    assert "140.0s" in result.reason


@pytest.mark.parametrize(
    "bad", [{"allowed_lag": -1}, {"min_samples": 1}], ids=["negative lag", "one sample"]
)
def test_policy_rejects_bad_values(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        StatusPolicy(**bad)


def test_history_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        GroupWindow(0)


def test_group_status_is_worst_partition_with_errors_as_err() -> None:
    ok = PartitionStatus(Status.OK, "fine")
    warn = PartitionStatus(Status.WARN, "slow")
    stall = PartitionStatus(Status.STALL, "stuck")
    result = evaluate_group([("t[0]", ok, 1.0), ("t[1]", warn, 1.0), ("t[2]", stall, 0.5)], 7)
    assert result.status is Status.ERR
    assert result.reason.startswith("t[2] STALL: stuck")
    assert "2 of 3" in result.reason
    assert result.completeness == pytest.approx(2 / 3)


def test_group_status_warn_and_ok() -> None:
    ok = PartitionStatus(Status.OK, "fine")
    warn = PartitionStatus(Status.WARN, "slow")
    assert evaluate_group([("a", ok, 1.0), ("b", warn, 1.0)], 3).status is Status.WARN
    all_ok = evaluate_group([("a", ok, 1.0), ("b", ok, 0.0)], 0)
    assert all_ok.status is Status.OK
    assert all_ok.completeness == 0.5
    assert evaluate_group([], 0).status is Status.OK


def test_group_is_pending_when_a_partition_is_and_none_is_worse() -> None:
    ok = PartitionStatus(Status.OK, "fine")
    pending = PartitionStatus(Status.PENDING, "lag 5; window 2/10 samples, not judged yet")
    warn = PartitionStatus(Status.WARN, "slow")
    result = evaluate_group([("a", ok, 0.2), ("b", pending, 0.2)], 5)
    assert result.status is Status.PENDING
    assert result.reason.startswith("b PENDING: lag 5")
    assert result.completeness == 0.0
    assert evaluate_group([("a", warn, 1.0), ("b", pending, 0.2)], 5).status is Status.WARN
