"""A simulation harness for autoscaling controllers: synthetic load traces, a simple consumer
model, and a side-by-side report (scale changes and time to react per trace).

The model, one step per sampling interval: producers append `production[i] x interval`
records; each replica consumes up to `capacity_per_replica` records/s (replicas beyond the
partition count idle); an interval in which the replica count changed loses
`rebalance_seconds` of consumption (every member stops during a rebalance); a stuck consumer
consumes nothing. At the end of each interval the controller sees the lag, the member count
and the interval's rates, and its recommendation is applied for the next interval.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from lagmonitor.controller import ControllerConfig, GroupSignal, Recommendation, ScalingController
from lagmonitor.naive import NaiveController


class Scaler(Protocol):
    """Anything that turns a stream of group signals into recommendations."""

    def observe(self, signal: GroupSignal) -> Recommendation:
        """Recommend for one sample."""
        ...


@dataclass(frozen=True, slots=True)
class Trace:
    """A load scenario: production rate per interval and the consumer model's parameters.

    `load_change_step` is the first interval of a real load change (time to react is
    measured from there); `stuck_steps` is a [start, end) range of intervals in which the
    consumers make no progress at all.
    """

    name: str
    description: str
    production: tuple[float, ...]
    capacity_per_replica: float = 100.0
    partitions: int = 12
    initial_replicas: int = 3
    interval_seconds: float = 10.0
    rebalance_seconds: float = 3.0
    load_change_step: int | None = None
    stuck_steps: tuple[int, int] | None = None


def steady_noisy(steps: int = 360, base: float = 200.0, noise: float = 0.6, seed: int = 7) -> Trace:
    """Steady load with heavy noise: each interval's rate is base x (1 +- noise), uniform."""
    rng = random.Random(seed)
    production = tuple(base * (1 + rng.uniform(-noise, noise)) for _ in range(steps))
    return Trace("steady+noise", f"{base:g}/s +-{noise:.0%} uniform noise", production)


def step_increase(steps: int = 360, before: float = 200.0, after: float = 600.0) -> Trace:
    """A step: the production rate triples at a third of the trace and stays there."""
    change = steps // 3
    production = tuple(before if i < change else after for i in range(steps))
    return Trace("step", f"{before:g}/s -> {after:g}/s", production, load_change_step=change)


def slow_ramp(steps: int = 360, start: float = 150.0, end: float = 800.0) -> Trace:
    """A slow ramp from `start` to `end` records/s over the middle two thirds of the trace."""
    begin, finish = steps // 6, steps * 5 // 6
    production = tuple(
        start + (end - start) * min(1.0, max(0.0, (i - begin) / (finish - begin)))
        for i in range(steps)
    )
    trace = Trace(
        "slow ramp", f"{start:g}/s -> {end:g}/s over {finish - begin} samples", production
    )
    # Reaction is timed from when the load first exceeds what the initial replicas consume.
    capacity = trace.initial_replicas * trace.capacity_per_replica
    exceeded = next((i for i, rate in enumerate(production) if rate > capacity), None)
    return dataclasses.replace(trace, load_change_step=exceeded)


def burst(steps: int = 360, base: float = 200.0, peak: float = 1200.0, length: int = 3) -> Trace:
    """A short burst: `length` intervals at `peak` in the middle of a steady trace."""
    at = steps // 2
    production = tuple(peak if at <= i < at + length else base for i in range(steps))
    return Trace(
        "burst", f"{base:g}/s with {length} samples at {peak:g}/s", production, load_change_step=at
    )


def stuck_consumer(steps: int = 360, base: float = 200.0, length: int = 60) -> Trace:
    """Steady load while the consumers stop making progress for `length` intervals."""
    at = steps // 3
    return Trace(
        "stuck consumer",
        f"{base:g}/s, consumers stuck for {length} samples",
        tuple(base for _ in range(steps)),
        stuck_steps=(at, at + length),
    )


def standard_traces() -> list[Trace]:
    """The five traces the controller is judged on."""
    return [steady_noisy(), step_increase(), slow_ramp(), burst(), stuck_consumer()]


@dataclass(frozen=True, slots=True)
class TraceResult:
    """How one controller did on one trace."""

    trace: str
    controller: str
    changes: int
    time_to_react_seconds: float | None
    samples_to_react: int | None
    max_replicas: int
    max_lag: int
    replicas: tuple[int, ...]
    lags: tuple[int, ...]


def simulate(trace: Trace, scaler: Scaler, name: str = "controller") -> TraceResult:
    """Run one controller through one trace."""
    dt = trace.interval_seconds
    replicas = trace.initial_replicas
    lag = 0.0
    changes = 0
    changed_last = False
    react_step: int | None = None
    baseline = replicas
    replica_series: list[int] = []
    lag_series: list[int] = []
    for step, rate in enumerate(trace.production):
        if step == trace.load_change_step:
            baseline = replicas
        produced = rate * dt
        busy_seconds = dt - trace.rebalance_seconds if changed_last else dt
        capacity = min(replicas, trace.partitions) * trace.capacity_per_replica * busy_seconds
        if trace.stuck_steps is not None and trace.stuck_steps[0] <= step < trace.stuck_steps[1]:
            capacity = 0.0
        consumed = min(lag + produced, capacity)
        lag = lag + produced - consumed
        signal = GroupSignal(
            at=(step + 1) * dt,
            total_lag=round(lag),
            members=replicas,
            partitions=trace.partitions,
            production_rate=produced / dt,
            consumption_rate=consumed / dt,
        )
        recommended = scaler.observe(signal).replicas
        changed_last = recommended != replicas
        if changed_last:
            changes += 1
        if (
            react_step is None
            and trace.load_change_step is not None
            and step >= trace.load_change_step
            and recommended > baseline
        ):
            react_step = step
        replicas = recommended
        replica_series.append(replicas)
        lag_series.append(round(lag))
    samples = None
    if react_step is not None and trace.load_change_step is not None:
        samples = react_step - trace.load_change_step + 1
    return TraceResult(
        trace=trace.name,
        controller=name,
        changes=changes,
        time_to_react_seconds=None if samples is None else samples * dt,
        samples_to_react=samples,
        max_replicas=max(replica_series, default=replicas),
        max_lag=max(lag_series, default=0),
        replicas=tuple(replica_series),
        lags=tuple(lag_series),
    )


ScalerFactory = Callable[[], Scaler]


def default_scalers(
    config: ControllerConfig | None = None, naive_threshold: float = 1000.0
) -> dict[str, ScalerFactory]:
    """The controllers compared by default: this controller and the naive one."""
    return {
        "hysteresis": lambda: ScalingController(config),
        "naive": lambda: NaiveController(naive_threshold),
    }


def compare(
    traces: Iterable[Trace] | None = None, scalers: dict[str, ScalerFactory] | None = None
) -> list[TraceResult]:
    """Run every scaler (fresh for each trace) on every trace."""
    chosen = default_scalers() if scalers is None else scalers
    return [
        simulate(trace, factory(), name)
        for trace in (standard_traces() if traces is None else traces)
        for name, factory in chosen.items()
    ]


def format_table(results: Sequence[TraceResult]) -> str:
    """A plain-text table of the results, one row per trace and controller."""
    header = ("trace", "controller", "changes", "react", "max replicas", "max lag")
    rows = [header]
    for result in results:
        react = (
            "-"
            if result.time_to_react_seconds is None
            else f"{result.time_to_react_seconds:.0f}s ({result.samples_to_react} samples)"
        )
        rows.append(
            (
                result.trace,
                result.controller,
                str(result.changes),
                react,
                str(result.max_replicas),
                str(result.max_lag),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)
