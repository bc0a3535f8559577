"""The scaling controller: hysteresis properties over arbitrary signals, and its behaviours."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lagmonitor.controller import ControllerConfig, GroupSignal, Recommendation, ScalingController
from lagmonitor.naive import NaiveController


@st.composite
def runs(draw: st.DrawFn) -> tuple[ControllerConfig, list[GroupSignal]]:
    """A controller config and a time-ordered run of signals for one group."""
    partitions = draw(st.integers(1, 24))
    min_replicas = draw(st.integers(0, partitions))
    config = ControllerConfig(
        mode=draw(st.sampled_from(["rate", "lag"])),
        lag_threshold=draw(st.sampled_from([10.0, 100.0, 1000.0])),
        scale_up_samples=draw(st.integers(1, 4)),
        stabilization_seconds=draw(st.sampled_from([0.0, 30.0, 120.0, 300.0])),
        cooldown_seconds=draw(st.sampled_from([0.0, 20.0, 60.0])),
        min_replicas=min_replicas,
        max_replicas=draw(st.none() | st.integers(max(1, min_replicas), 30)),
    )
    at = 0.0
    signals = []
    for _ in range(draw(st.integers(1, 60))):
        at += draw(st.sampled_from([1.0, 5.0, 10.0, 30.0]))
        signals.append(
            GroupSignal(
                at=at,
                total_lag=draw(st.integers(0, 200_000)),
                members=draw(st.integers(0, 30)),
                partitions=partitions,
                production_rate=draw(st.none() | st.floats(0, 5000)),
                consumption_rate=draw(st.none() | st.floats(0, 5000)),
            )
        )
    return config, signals


def replay(
    config: ControllerConfig, signals: list[GroupSignal]
) -> tuple[list[int], list[Recommendation]]:
    controller = ScalingController(config)
    before: list[int] = []
    recommendations = []
    for signal in signals:
        before.append(controller.replicas if controller.replicas is not None else signal.members)
        recommendations.append(controller.observe(signal))
    return before, recommendations


@settings(max_examples=80, deadline=None)
@given(runs())
def test_bounds_hold(run: tuple[ControllerConfig, list[GroupSignal]]) -> None:
    config, signals = run
    _, recommendations = replay(config, signals)
    for signal, rec in zip(signals, recommendations, strict=True):
        assert rec.replicas <= signal.partitions
        assert rec.replicas >= config.min_replicas
        if config.max_replicas is not None:
            assert rec.replicas <= config.max_replicas


@settings(max_examples=80, deadline=None)
@given(runs())
def test_no_change_inside_cooldown(run: tuple[ControllerConfig, list[GroupSignal]]) -> None:
    config, signals = run
    _, recommendations = replay(config, signals)
    changes = [rec.at for rec in recommendations if rec.changed]
    for earlier, later in itertools.pairwise(changes):
        assert later - earlier >= config.cooldown_seconds


@settings(max_examples=80, deadline=None)
@given(runs())
def test_scale_down_only_after_the_window(run: tuple[ControllerConfig, list[GroupSignal]]) -> None:
    config, signals = run
    before, recommendations = replay(config, signals)
    first_at = signals[0].at
    for index, rec in enumerate(recommendations):
        previous = before[index]
        if not rec.changed or rec.replicas >= previous or index == 0:
            continue
        assert rec.at - first_at >= config.stabilization_seconds
        floor = previous * (1 - config.scale_down_tolerance)
        window = [
            r for r in recommendations[: index + 1] if r.at >= rec.at - config.stabilization_seconds
        ]
        assert all(float(r.inputs["desired"]) < floor for r in window)  # type: ignore[arg-type]
        assert rec.replicas >= math.ceil(max(float(r.inputs["desired"]) for r in window) - 1e-6)  # type: ignore[arg-type]


@settings(max_examples=80, deadline=None)
@given(runs())
def test_window_max_is_the_highest_demand_inside_the_window(
    run: tuple[ControllerConfig, list[GroupSignal]],
) -> None:
    config, signals = run
    _, recommendations = replay(config, signals)
    for index, rec in enumerate(recommendations):
        window = [
            float(r.inputs["desired"])  # type: ignore[arg-type]
            for r in recommendations[: index + 1]
            if r.at >= rec.at - config.stabilization_seconds
        ]
        assert rec.inputs["window_max"] == max(window)


@settings(max_examples=80, deadline=None)
@given(runs())
def test_scale_up_needs_consecutive_samples(
    run: tuple[ControllerConfig, list[GroupSignal]],
) -> None:
    config, signals = run
    before, recommendations = replay(config, signals)
    for index, rec in enumerate(recommendations):
        previous = before[index]
        if not rec.changed or rec.replicas <= previous or index == 0:
            continue
        streak = recommendations[index - config.scale_up_samples + 1 : index + 1]
        assert len(streak) == config.scale_up_samples
        ceiling = previous * (1 + config.scale_up_tolerance)
        assert all(float(r.inputs["desired"]) > ceiling for r in streak)  # type: ignore[arg-type]


def feed(controller: ScalingController, signals: list[GroupSignal]) -> list[Recommendation]:
    return [controller.observe(signal) for signal in signals]


def busy(at: float, lag: int, members: int, produced: float, consumed: float) -> GroupSignal:
    return GroupSignal(at, lag, members, 12, produced, consumed)


def test_step_reaction_within_the_configured_samples() -> None:
    config = ControllerConfig(scale_up_samples=3)
    controller = ScalingController(config)
    # saturated consumers teach the per-replica rate: 2 members consume 200/s with lag
    warmup = [busy(10.0 * i, 100, 2, 150.0, 200.0) for i in range(1, 20)]
    assert all(rec.replicas == 2 for rec in feed(controller, warmup))
    assert controller.per_replica_rate == pytest.approx(100.0)
    step = [busy(200.0 + 10 * i, 100 + 3000 * i, 2, 500.0, 200.0) for i in range(1, 6)]
    recommendations = feed(controller, step)
    assert [rec.replicas > 2 for rec in recommendations[:3]] == [False, False, True]
    up = recommendations[2]
    assert up.action == "scale_up"
    assert "scale up" in up.reason
    assert {"total_lag", "production_rate", "per_replica_rate", "desired"} <= set(up.inputs)


def test_stuck_consumer_is_held_not_scaled() -> None:
    controller = ScalingController(ControllerConfig(scale_up_samples=2))
    stuck = [busy(10.0 * i, 1000 * i, 3, 100.0, 0.0) for i in range(1, 10)]
    recommendations = feed(controller, stuck)
    assert all(rec.replicas == 3 for rec in recommendations)
    assert "no progress" in recommendations[-1].reason


def test_scale_down_waits_for_the_stabilization_window() -> None:
    config = ControllerConfig(mode="lag", lag_threshold=100, stabilization_seconds=60)
    controller = ScalingController(config)
    signals = [GroupSignal(10.0 * i, 0, 6, 12, 0.0, 0.0) for i in range(0, 10)]
    recommendations = feed(controller, signals)
    first_down = next(rec for rec in recommendations if rec.replicas < 6)
    assert first_down.at == 60.0
    assert "scale down" in first_down.reason
    assert first_down.replicas == 3  # step limit: 50% of 6


def test_lag_mode_is_keda_like_and_capped_by_partitions() -> None:
    config = ControllerConfig(mode="lag", lag_threshold=10, scale_up_samples=1, max_step_up=100)
    controller = ScalingController(config)
    rec = controller.observe(GroupSignal(0.0, 55, 1, 4, None, None))
    assert rec.replicas == 4  # ceil(55 / 10) = 6, but only 4 partitions
    assert rec.inputs["desired"] == 4.0  # the lag is capped at partitions x threshold


def test_members_beyond_partitions_are_brought_back() -> None:
    controller = ScalingController(ControllerConfig())
    rec = controller.observe(GroupSignal(0.0, 0, 9, 4, None, None))
    assert rec.replicas == 4
    assert "partition" in rec.reason


def test_out_of_order_samples_are_rejected() -> None:
    controller = ScalingController()
    controller.observe(GroupSignal(10.0, 0, 1, 1))
    with pytest.raises(ValueError, match="time order"):
        controller.observe(GroupSignal(5.0, 0, 1, 1))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("mode", "magic"),
        ("lag_threshold", 0),
        ("scale_up_samples", 0),
        ("cooldown_seconds", -1),
        ("min_replicas", -1),
        ("target_utilization", 0),
    ],
)
def test_config_rejects_bad_values(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        ControllerConfig(**{field: value})  # type: ignore[arg-type]


def test_naive_controller_follows_lag_every_sample() -> None:
    naive = NaiveController(lag_threshold=100)
    replicas = [
        naive.observe(GroupSignal(float(i), lag, 1, 8)).replicas
        for i, lag in enumerate([0, 250, 90, 5000])
    ]
    assert replicas == [1, 3, 1, 8]


def test_near_zero_rates_never_give_infinite_demand() -> None:
    controller = ScalingController(ControllerConfig(scale_up_samples=1))
    controller.observe(GroupSignal(0.0, 1, 1, 1, None, 1e-300))
    rec = controller.observe(GroupSignal(1.0, 1, 1, 1, None, 2.2e-313))
    assert rec.replicas == 1
    controller.per_replica_rate = 1e-300
    controller.rate_is_lower_bound = False
    rec = controller.observe(GroupSignal(2.0, 10**6, 1, 3, 1e6, None))
    assert rec.replicas == 3


@settings(max_examples=80, deadline=None)
@given(runs())
def test_reasons_and_inputs_read_late_are_those_of_their_sample(
    run: tuple[ControllerConfig, list[GroupSignal]],
) -> None:
    """A recommendation's words and figures are built when first read: read after many later
    samples they must be what they were when it was made."""
    config, signals = run
    eager, lazy = ScalingController(config), ScalingController(config)
    read_now = []
    for signal in signals:
        recommendation = eager.observe(signal)
        read_now.append((recommendation.reason, dict(recommendation.inputs)))
    read_late = [lazy.observe(signal) for signal in signals]
    assert [(r.reason, r.inputs) for r in read_late] == read_now
