"""The simulation goals: calm on noise, quick on real load, nothing pointless when stuck."""

from __future__ import annotations

import pytest

from lagmonitor.controller import ControllerConfig, ScalingController
from lagmonitor.naive import NaiveController
from lagmonitor.simulation import (
    TraceResult,
    burst,
    compare,
    format_table,
    simulate,
    slow_ramp,
    standard_traces,
    steady_noisy,
    step_increase,
    stuck_consumer,
)


@pytest.mark.parametrize("seed", [1, 7, 42])
def test_noisy_steady_load_at_most_one_change_where_naive_thrashes(seed: int) -> None:
    trace = steady_noisy(seed=seed)
    ours = simulate(trace, ScalingController())
    naive = simulate(trace, NaiveController())
    assert ours.changes <= 1
    assert naive.changes >= 20


@pytest.mark.parametrize("samples", [1, 3, 5])
def test_step_reaction_within_the_configured_samples(samples: int) -> None:
    result = simulate(
        step_increase(), ScalingController(ControllerConfig(scale_up_samples=samples))
    )
    assert result.samples_to_react is not None
    assert result.samples_to_react <= samples
    assert result.time_to_react_seconds == result.samples_to_react * 10.0


def test_step_settles_with_enough_capacity() -> None:
    result = simulate(step_increase(), ScalingController())
    assert result.replicas[-1] * 100.0 >= 600.0  # capacity for the new load
    assert result.lags[-1] == 0


def test_ramp_is_followed_without_thrashing() -> None:
    trace = slow_ramp()
    ours = simulate(trace, ScalingController())
    naive = simulate(trace, NaiveController())
    assert ours.samples_to_react is not None
    assert ours.replicas[-1] * 100.0 >= trace.production[-1]
    assert ours.changes < naive.changes / 10
    # it only ever scales up on a rising ramp
    assert list(ours.replicas) == sorted(ours.replicas)


def test_stuck_consumer_is_not_scaled_while_stuck() -> None:
    trace = stuck_consumer()
    assert trace.stuck_steps is not None
    start, end = trace.stuck_steps
    ours = simulate(trace, ScalingController())
    assert set(ours.replicas[start:end]) == {ours.replicas[start - 1]}
    # after recovery it scales out to drain the backlog, then back
    assert max(ours.replicas[end:]) > ours.replicas[start]
    assert ours.lags[-1] == 0


def test_burst_is_absorbed_and_scaled_back() -> None:
    ours = simulate(burst(), ScalingController())
    assert ours.lags[-1] == 0
    assert ours.replicas[-1] == ours.replicas[0]


def test_compare_and_table() -> None:
    results = compare()
    assert len(results) == 2 * len(standard_traces())
    assert {r.controller for r in results} == {"hysteresis", "naive"}
    table = format_table(results)
    assert table.splitlines()[0].split()[:3] == ["trace", "controller", "changes"]
    assert "steady+noise" in table
    assert all(isinstance(r, TraceResult) for r in results)
