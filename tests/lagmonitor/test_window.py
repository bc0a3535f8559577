"""The columnar windows against a straightforward model, and their own small contract."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.types import TopicPartition
from lagmonitor.columns import Assignment, PartitionColumns, TopicOffsets
from lagmonitor.lag import NoCommitPolicy, offset_lag
from lagmonitor.sampler import ClusterSample, GroupObservation, PartitionObservation
from lagmonitor.status import StatusPolicy, evaluate_partition
from lagmonitor.tracker import LagTracker, TrackerConfig
from lagmonitor.window import NO_COMMIT, GroupWindow
from tests.lagmonitor.reference import RefPartition, RefTracker, ref_status

POOL = [TopicPartition(t, p) for t, p in (("a", 0), ("a", 1), ("b", 0), ("b", 3))]
OWNER = ("m", "c", "h")


@st.composite
def samples(draw: st.DrawFn) -> list[ClusterSample]:
    """A run of complete samples of up to three groups over a few partitions: groups join,
    leave and come back (their rows in the shared window store are freed and reused by
    others); partitions come and go, reorder and repeat; offsets mostly move forward but also
    stand still, rewind, disappear (no commit) and the log end sometimes goes back (a
    recreated topic)."""
    steps = draw(st.integers(1, 14))
    state: dict[tuple[str, TopicPartition], tuple[int | None, int]] = {}
    at = 0.0
    runs = []
    for _ in range(steps):
        at += draw(st.sampled_from([0.0, 5.0, 10.0, 10.0, 10.0]))
        groups = []
        for name in ("g", "h", "k"):
            if name != "g" and draw(st.integers(0, 3)) == 0:
                continue  # absent from this sample: the group left (or has not joined)
            chosen = draw(st.lists(st.sampled_from(POOL), max_size=5))
            parts = []
            for tp in chosen:
                committed, end = state.get((name, tp), (0, 0))
                end = max(0, end + draw(st.sampled_from([0, 0, 1, 5, 20, -3])))
                move = draw(st.sampled_from([0, 0, 1, 4, 30, -2, None]))
                committed = None if move is None else max(0, (committed or 0) + move)
                state[(name, tp)] = (committed, end)
                parts.append(
                    PartitionObservation(
                        tp.topic,
                        tp.partition,
                        committed,
                        draw(st.sampled_from([0, 0, 2])),
                        end,
                        head_timestamp=draw(st.sampled_from([None, None, None, at - 4.0])),
                        no_records_behind=draw(st.sampled_from([False] * 9 + [True])),
                    )
                )
            members = draw(st.integers(0, 2))
            owned = draw(st.lists(st.sampled_from(POOL), max_size=2)) if members else []
            groups.append(
                GroupObservation(
                    name,
                    draw(st.sampled_from(["Stable", "Empty"])),
                    members,
                    # As the sampler gives them (columns) or as a plain mapping.
                    Assignment.of({tp: OWNER for tp in owned})
                    if draw(st.booleans())
                    else {tp: OWNER for tp in owned},
                    # As the sampler gives them (columns) or as hand-made samples do.
                    PartitionColumns.of(parts) if draw(st.booleans()) else tuple(parts),
                )
            )
        offsets = {
            TopicPartition(p.topic, p.partition): (p.earliest, p.end)
            for g in groups
            for p in g.partitions
        }
        topic_offsets = TopicOffsets.of(offsets) if draw(st.booleans()) else offsets
        runs.append(ClusterSample(at, tuple(groups), topic_offsets, poll_ms=0.0))
    return runs


@settings(max_examples=150, deadline=None)
@given(
    run=samples(),
    size=st.integers(1, 4),
    allowed=st.sampled_from([0, 0, 2]),
    min_samples=st.sampled_from([None, 2, 3]),
    no_commit=st.sampled_from(["latest", "earliest"]),
)
def test_tracker_matches_the_reference_model(
    run: list[ClusterSample],
    size: int,
    allowed: int,
    min_samples: int | None,
    no_commit: NoCommitPolicy,
) -> None:
    policy = StatusPolicy(allowed_lag=allowed, min_samples=min_samples)
    tracker = LagTracker(TrackerConfig(history_size=size, status=policy, no_commit=no_commit))
    model = RefTracker(size, policy, no_commit)
    previous_at: dict[str, float] = {}
    for sample in run:
        tracker.record(sample)
        model.record(sample)
        for name, group in model.groups.items():
            track = tracker.groups[name]
            got = [track.partition(index) for index in range(len(track.keys))]
            expected = model.statuses(name)
            assert [
                (p.tp, p.lag, p.status.status, p.status.reason, p.completeness) for p in got
            ] == expected
            assert track.total_lag == sum(row[1] for row in expected)
            assert [p.time_lag for p in got] == [
                group.partitions[tp].time_lag for tp in group.order
            ]
            expected_time = model.time_lag(name)
            if expected_time is None or track.time_lag is None:
                assert track.time_lag == expected_time
            else:  # among several zeros, which one is named does not matter
                assert track.time_lag.seconds == expected_time.seconds
                assert track.time_lag.lower_bound == expected_time.lower_bound or not (
                    expected_time.seconds
                )
            if got:
                assert track.max_lag_track is not None
                assert track.max_lag_track.lag == max(p.lag for p in got)
            if track.production_rate is not None:
                elapsed = sample.at - previous_at[name]
                assert track.production_rate == group.produced / elapsed
                assert track.consumption_rate == group.consumed / elapsed
        previous_at = {name: sample.at for name in model.groups}


@settings(max_examples=300, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from([0, 0, 0, 1, 3, 25, -2, None]),  # committed offset moves by
            st.sampled_from([0, 1, 1, 6, 30, -40]),  # log end moves by
            st.sampled_from([0.0, 10.0, 10.0, 7.5]),  # time passes
        ),
        min_size=1,
        max_size=30,
    ),
    size=st.integers(1, 5),
    allowed=st.sampled_from([0, 0, 3]),
    min_samples=st.sampled_from([None, None, 2, 4]),
    no_commit=st.sampled_from(["latest", "earliest"]),
    owned=st.booleans(),
)
def test_one_partition_matches_the_reference_rules(
    steps: list[tuple[int | None, int, float]],
    size: int,
    allowed: int,
    min_samples: int | None,
    no_commit: NoCommitPolicy,
    owned: bool,
) -> None:
    policy = StatusPolicy(allowed_lag=allowed, min_samples=min_samples)
    window = GroupWindow(size, width=1)
    model = RefPartition()
    committed: int | None = 100
    end, at = 150, 0.0
    for move, grow, elapsed in steps:
        committed = None if move is None else max(0, (committed or 100) + move)
        end, at = max(0, end + grow), at + elapsed
        lag = offset_lag(committed, end, 0, no_commit)
        stored = NO_COMMIT if committed is None else committed
        window.append(at, [stored], [end], [lag])
        model.add((at, committed, end, lag))
        result = evaluate_partition(window, 0, owned, policy)
        assert (result.status, result.reason) == ref_status(model, size, owned, policy)


def test_relayout_keeps_the_history_of_kept_partitions() -> None:
    window = GroupWindow(3, width=2)
    for i in range(3):
        window.append(float(i), [10, 20 + i], [30, 40 + i], [20, 20])
    window.relayout([1, None])  # partition 1 first, a new one second
    assert (window.count(0), window.count(1)) == (3, 0)
    window.append(3.0, [23, 5], [43, 9], [20, 4])
    assert window.span(0) == ((1.0, 41, 21), (3.0, 43, 23))
    assert window.span(1) is None
    assert window.complete() == 1


def test_a_missing_commit_is_kept_as_none() -> None:
    window = GroupWindow(2, width=1)
    window.append(0.0, [NO_COMMIT], [5], [0])
    window.append(1.0, [3], [6], [3])
    assert window.span(0) == ((0.0, 5, None), (1.0, 6, 3))


def test_columns_must_match_the_partitions() -> None:
    window = GroupWindow(2, width=2)
    with pytest.raises(ValueError, match="2 values"):
        window.append(0.0, [1], [1, 2], [0, 0])
