"""The autoscaling controller: a replica recommendation per sample, with hysteresis. Pure.

Demand (a float number of replicas) comes from one of two modes:

- ``rate``: enough replicas to keep up with the production rate and drain the backlog within
  `target_catchup_seconds`, using the measured per-replica consumption rate at
  `target_utilization` (headroom, as an HPA utilization target leaves);
- ``lag``: lag per replica, as KEDA's Kafka scaler does (`total_lag / lag_threshold`, the
  lag capped at partitions x threshold).

The recommendation then follows the demand with hysteresis, as the Kubernetes HPA does:

- a dead band: scale up only when demand exceeds the current recommendation by more than
  `scale_up_tolerance`, scale down only when it is below by more than `scale_down_tolerance`;
- scale up after `scale_up_samples` consecutive samples above the band, to the lowest demand
  among them (the demand that persisted);
- scale down only once demand stayed below the band for `stabilization_seconds`, to the
  highest demand seen in that window;
- no change within `cooldown_seconds` of the previous change; at most `max_step_up` /
  `max_step_down` replicas (or the percentages, whichever is larger) per change;
- always within [`min_replicas`, `max_replicas`] and never more than the partition count;
- hold while consumers own lag but make no progress (a stuck consumer is not helped by more
  replicas, and scaling it only adds rebalances).

Every recommendation carries its inputs and a reason in words.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from lagmonitor.schemas import ScaleAction

ScalingMode = Literal["rate", "lag"]

#: Demand is capped here (it only matters up to the partition count anyway), so a
#: near-zero measured rate never produces an infinite replica count.
MAX_DEMAND = 1_000_000.0
#: Consumption below this many records/s is treated as no measurement at all.
MIN_MEASURABLE_RATE = 1e-6


@dataclass(frozen=True, slots=True)
class ControllerConfig:
    """Knobs of the controller (defaults follow the HPA and KEDA where they have one)."""

    mode: ScalingMode = "rate"
    lag_threshold: float = 1000.0
    target_catchup_seconds: float = 60.0
    target_utilization: float = 0.8
    scale_up_tolerance: float = 0.1
    scale_down_tolerance: float = 0.2
    scale_up_samples: int = 3
    stabilization_seconds: float = 300.0
    cooldown_seconds: float = 60.0
    max_step_up: int = 4
    max_step_up_percent: float = 100.0
    max_step_down: int = 1
    max_step_down_percent: float = 50.0
    min_replicas: int = 1
    max_replicas: int | None = None
    rate_smoothing: float = 0.3

    def __post_init__(self) -> None:
        problems = []
        if self.mode not in ("rate", "lag"):
            problems.append(f"mode must be 'rate' or 'lag', got {self.mode!r}")
        if self.lag_threshold <= 0:
            problems.append("lag_threshold must be positive")
        if self.target_catchup_seconds <= 0:
            problems.append("target_catchup_seconds must be positive")
        if not 0 <= self.scale_up_tolerance < 10 or not 0 <= self.scale_down_tolerance < 1:
            problems.append("tolerances must be in [0, 1)")
        if not 0 < self.target_utilization <= 1:
            problems.append("target_utilization must be in (0, 1]")
        if self.scale_up_samples < 1:
            problems.append("scale_up_samples must be at least 1")
        if self.stabilization_seconds < 0 or self.cooldown_seconds < 0:
            problems.append("stabilization_seconds and cooldown_seconds must be 0 or more")
        if self.max_step_up < 1 or self.max_step_down < 1:
            problems.append("max_step_up and max_step_down must be at least 1")
        if self.max_step_up_percent < 0 or self.max_step_down_percent < 0:
            problems.append("step percentages must be 0 or more")
        if self.min_replicas < 0:
            problems.append("min_replicas must be 0 or more")
        if self.max_replicas is not None and self.max_replicas < max(1, self.min_replicas):
            problems.append("max_replicas must be at least 1 and at least min_replicas")
        if not 0 < self.rate_smoothing <= 1:
            problems.append("rate_smoothing must be in (0, 1]")
        if problems:
            raise ValueError("invalid controller config: " + "; ".join(problems))


@dataclass(frozen=True, slots=True)
class GroupSignal:
    """What the controller sees of a group at one sample.

    Rates are over the last sampling interval (records per second; None when unknown).
    """

    at: float
    total_lag: int
    members: int
    partitions: int
    production_rate: float | None = None
    consumption_rate: float | None = None


Inputs = dict[str, float | int | str | None]
_T = TypeVar("_T")
#: A value built when first needed: a function and the arguments to call it with.
Deferred = tuple[Callable[..., _T], tuple[Any, ...]]


class Recommendation:
    """A replica recommendation with the reason and the inputs it was computed from.

    The reason and the inputs may be given `Deferred` (a function and its arguments): they are
    then built the first time they are read (most recommendations of a cycle are never read),
    from values fixed when the recommendation was made. (A function and a tuple rather than a
    closure: closures allocate cells the cyclic garbage collector has to walk.)
    """

    __slots__ = ("_inputs", "_reason", "at", "changed", "current", "mode", "replicas")

    def __init__(
        self,
        at: float,
        replicas: int,
        current: int,
        changed: bool,
        reason: str | Deferred[str],
        mode: ScalingMode,
        inputs: Inputs | Deferred[Inputs] | None = None,
    ) -> None:
        self.at = at
        self.replicas = replicas
        self.current = current
        self.changed = changed
        self.mode = mode
        self._reason = reason
        self._inputs = {} if inputs is None else inputs

    @property
    def reason(self) -> str:
        """Why this replica count, in words."""
        if not isinstance(self._reason, str):
            build, args = self._reason
            self._reason = build(*args)
        return self._reason

    @property
    def inputs(self) -> Inputs:
        """The figures the recommendation was computed from."""
        if not isinstance(self._inputs, dict):
            build, args = self._inputs
            self._inputs = build(*args)
        return self._inputs

    def _fields(self) -> tuple[object, ...]:
        return (
            self.at,
            self.replicas,
            self.current,
            self.changed,
            self.reason,
            self.mode,
            self.inputs,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Recommendation):
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Recommendation(at={self.at!r}, replicas={self.replicas!r}, "
            f"current={self.current!r}, changed={self.changed!r}, reason={self.reason!r}, "
            f"mode={self.mode!r}, inputs={self.inputs!r})"
        )

    @property
    def action(self) -> ScaleAction:
        """What the recommendation asks of the group compared with its member count."""
        if self.replicas > self.current:
            return "scale_up"
        if self.replicas < self.current:
            return "scale_down"
        return "hold"


class ScalingController:
    """The stateful, pure controller of one consumer group: `observe` each sample in time
    order and get a `Recommendation` back."""

    def __init__(self, config: ControllerConfig | None = None) -> None:
        self.config = config or ControllerConfig()
        self.replicas: int | None = None
        self.per_replica_rate: float | None = None
        self.rate_is_lower_bound = True
        self.last_change_at: float | None = None
        self._first_at: float | None = None
        self._previous: GroupSignal | None = None
        self._up_streak: deque[float] = deque(maxlen=self.config.scale_up_samples)
        #: (time, demand) of the stabilization window, demands decreasing (see `observe`).
        self._window: deque[tuple[float, float]] = deque()
        self._stuck_samples = 0

    # -- demand ----------------------------------------------------------------------------
    def _learn_rate(self, signal: GroupSignal) -> None:
        """Update the per-replica consumption rate from a sample where consumers were busy.

        Only intervals with lag at both ends measure capacity (otherwise consumers idled part
        of the time, which gives only a lower bound), and an interval in which the member
        count changed is skipped (the rebalance pause would understate capacity).
        """
        previous = self._previous
        consumed = signal.consumption_rate
        if (
            previous is None
            or consumed is None
            or consumed < MIN_MEASURABLE_RATE
            or signal.members <= 0
        ):
            return
        if previous.members != signal.members:
            return
        active = min(signal.members, signal.partitions) if signal.partitions > 0 else 0
        if active <= 0:
            return
        observed = consumed / active
        if previous.total_lag > 0 and signal.total_lag > 0:
            alpha = self.config.rate_smoothing
            estimate = None if self.rate_is_lower_bound else self.per_replica_rate
            self.per_replica_rate = (
                observed if estimate is None else estimate + alpha * (observed - estimate)
            )
            self.rate_is_lower_bound = False
        elif self.per_replica_rate is None or observed > self.per_replica_rate:
            self.per_replica_rate = observed

    def _demand(self, signal: GroupSignal, current: int) -> tuple[float, Deferred[str]]:
        """Raw demand in replicas (a float) and how it was computed (in words, deferred)."""
        config = self.config
        if config.mode == "lag" or self.per_replica_rate is None:
            capped = min(signal.total_lag, max(signal.partitions, 1) * config.lag_threshold)
            demand = capped / config.lag_threshold
            return demand, (_how_lag, (signal.total_lag, config.lag_threshold, config.mode))
        production = signal.production_rate or 0.0
        needed = production + signal.total_lag / config.target_catchup_seconds
        # A rate only seen while consumers idled part of the time is a lower bound of their
        # capacity, so no headroom is added on top of it (that would ratchet upwards).
        utilization = 1.0 if self.rate_is_lower_bound else config.target_utilization
        demand = min(MAX_DEMAND, needed / (self.per_replica_rate * utilization))
        how = (
            production,
            signal.total_lag,
            config.target_catchup_seconds,
            self.per_replica_rate,
            utilization,
        )
        return demand, (_how_rate, how)

    # -- bounds ----------------------------------------------------------------------------
    def _bounds(self, partitions: int) -> tuple[int, int]:
        config = self.config
        upper = partitions if partitions > 0 else (config.max_replicas or 1)
        if config.max_replicas is not None:
            upper = min(upper, config.max_replicas)
        lower = min(config.min_replicas, upper)
        return lower, upper

    def _step_up_limit(self, current: int) -> int:
        config = self.config
        return max(config.max_step_up, math.ceil(current * config.max_step_up_percent / 100))

    def _step_down_limit(self, current: int) -> int:
        config = self.config
        return max(config.max_step_down, math.floor(current * config.max_step_down_percent / 100))

    # -- the decision ----------------------------------------------------------------------
    def observe(self, signal: GroupSignal) -> Recommendation:
        """Take one sample (in time order) and recommend a replica count."""
        config = self.config
        if self._previous is not None and signal.at < self._previous.at:
            raise ValueError(
                f"samples must arrive in time order ({signal.at} < {self._previous.at})"
            )
        lower, upper = self._bounds(signal.partitions)
        if self.replicas is None:
            self.replicas = signal.members
            self._first_at = signal.at
        current = self.replicas
        self._learn_rate(signal)
        demand, how = self._demand(signal, current)
        self._previous = signal

        # The highest demand inside the stabilization window: the window keeps only demands
        # no later one reaches (a newer, higher demand outlives every lower older one), so
        # the highest is the oldest kept.
        window = self._window
        while window and window[-1][1] <= demand:
            window.pop()
        window.append((signal.at, demand))
        while window[0][0] < signal.at - config.stabilization_seconds:
            window.popleft()
        window_max = window[0][1]

        stuck = (
            signal.members > 0
            and signal.total_lag > 0
            and signal.consumption_rate is not None
            and signal.consumption_rate <= 0
        )
        self._stuck_samples = self._stuck_samples + 1 if stuck else 0
        above = demand > current * (1 + config.scale_up_tolerance) or (current == 0 < demand)
        if above and not stuck:
            self._up_streak.append(demand)
        else:
            self._up_streak.clear()

        target, reason = self._decide(signal, current, demand, how, window_max, lower, upper)
        changed = target != current
        if changed:
            self.replicas = target
            self.last_change_at = signal.at
            self._up_streak.clear()
        figures = (signal, self.per_replica_rate, current, demand, window_max, len(self._up_streak))
        return Recommendation(
            at=signal.at,
            replicas=target,
            current=signal.members,
            changed=changed,
            reason=reason,
            mode=config.mode,
            inputs=(_inputs, figures),
        )

    def _decide(
        self,
        signal: GroupSignal,
        current: int,
        demand: float,
        how: Deferred[str],
        window_max: float,
        lower: int,
        upper: int,
    ) -> tuple[int, Deferred[str]]:
        """The target replica count and the reason (in words, deferred), given the updated
        state. The reasons take only values fixed here, never the controller's later state."""
        config = self.config
        in_cooldown = (
            self.last_change_at is not None
            and signal.at - self.last_change_at < config.cooldown_seconds
        )
        if current > upper or current < lower:
            bounded = min(max(current, lower), upper)
            if in_cooldown:
                return current, (_sentence, (_OUTSIDE_COOLING, lower, upper, how))
            limit = "partition count / max_replicas" if current > upper else "min_replicas"
            return bounded, (_sentence, (_KEPT_WITHIN, limit, lower, upper))
        if self._stuck_samples >= config.scale_up_samples:
            return current, (_sentence, (_STUCK, signal.total_lag, self._stuck_samples))
        if in_cooldown:
            assert self.last_change_at is not None
            waited = signal.at - self.last_change_at
            return current, (_sentence, (_COOLDOWN, waited, demand, how))
        if len(self._up_streak) >= config.scale_up_samples:
            wanted = math.ceil(min(self._up_streak) - 1e-9)
            target = min(wanted, current + self._step_up_limit(current), upper)
            if target > current:
                up = (_SCALE_UP, demand, how, current, 1 + config.scale_up_tolerance)
                return target, (_sentence, (*up, config.scale_up_samples))
        below = window_max < current * (1 - config.scale_down_tolerance)
        covered = self._first_at is not None and (
            signal.at - self._first_at >= config.stabilization_seconds
        )
        if below and covered:
            wanted = math.ceil(window_max - 1e-9)
            target = max(wanted, current - self._step_down_limit(current), lower)
            if target < current:
                tolerance = 1 - config.scale_down_tolerance
                down = (_SCALE_DOWN, current, tolerance, config.stabilization_seconds)
                return target, (_sentence, (*down, window_max, demand, how))
        if demand > current * (1 + config.scale_up_tolerance):
            streak = (len(self._up_streak), config.scale_up_samples)
            return current, (_sentence, (_HOLD_HIGH, demand, *streak, how))
        if demand < current * (1 - config.scale_down_tolerance):
            low = (_HOLD_LOW, demand, config.stabilization_seconds, window_max, how)
            return current, (_sentence, low)
        return current, (_sentence, (_DEAD_BAND, demand, how))


# The reasons, in words. Each takes its figures in order; a `Deferred` among them (how the
# demand was computed) is built first.
_OUTSIDE_COOLING = "outside [{}, {}] but in cooldown; demand {}"
_KEPT_WITHIN = "kept within {}: [{}, {}]"
_STUCK = (
    "holding: consumers make no progress with lag {} for {} samples; more replicas would not help"
)
_COOLDOWN = "cooldown: last change {:.0f}s ago; demand {:.2f} = {}"
_SCALE_UP = "scale up: demand {:.2f} = {}; above {} x {:g} for {} consecutive samples"
_SCALE_DOWN = (
    "scale down: demand stayed below {} x {:g} for {:g}s (highest {:.2f}); now {:.2f} = {}"
)
_HOLD_HIGH = "holding: demand {:.2f} above the band for {} of {} samples needed; {}"
_HOLD_LOW = "holding: demand {:.2f} low but not for the whole {:g}s window (highest {:.2f}); {}"
_DEAD_BAND = "within the dead band: demand {:.2f} = {}"


def _sentence(template: str, *figures: Any) -> str:
    built = [f[0](*f[1]) if isinstance(f, tuple) else f for f in figures]
    return template.format(*built)


def _how_lag(total_lag: int, threshold: float, mode: ScalingMode) -> str:
    words = f"lag {total_lag} / {threshold:g} per replica"
    if mode == "rate":
        words += " (per-replica rate not measured yet)"
    return words


def _how_rate(
    production: float, total_lag: int, catchup: float, per_replica: float, utilization: float
) -> str:
    return (
        f"(production {production:.1f}/s + lag {total_lag} over {catchup:g}s) / "
        f"({per_replica:.1f}/s per replica x {utilization:g})"
    )


def _inputs(
    signal: GroupSignal,
    per_replica: float | None,
    current: int,
    demand: float,
    window_max: float,
    up_streak: int,
) -> Inputs:
    return {
        "total_lag": signal.total_lag,
        "production_rate": _round(signal.production_rate),
        "consumption_rate": _round(signal.consumption_rate),
        "per_replica_rate": _round(per_replica),
        "members": signal.members,
        "partitions": signal.partitions,
        "previous_recommendation": current,
        "desired": round(demand, 3),
        "window_max": round(window_max, 3),
        "up_streak": up_streak,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
