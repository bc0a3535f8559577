"""The naive autoscaler the controller is compared with: `ceil(lag / threshold)` every sample,
clamped to [min_replicas, partitions], with no memory at all."""

from __future__ import annotations

import math

from lagmonitor.controller import GroupSignal, Recommendation


class NaiveController:
    """Recommends `ceil(total_lag / lag_threshold)` on every sample (what a bare lag threshold
    without hysteresis does)."""

    def __init__(self, lag_threshold: float = 1000.0, min_replicas: int = 1) -> None:
        if lag_threshold <= 0:
            raise ValueError("lag_threshold must be positive")
        self.lag_threshold = lag_threshold
        self.min_replicas = min_replicas
        self.replicas: int | None = None

    def observe(self, signal: GroupSignal) -> Recommendation:
        """Recommend for one sample."""
        wanted = math.ceil(signal.total_lag / self.lag_threshold)
        upper = max(signal.partitions, 1)
        target = min(max(wanted, self.min_replicas), upper)
        changed = self.replicas is not None and target != self.replicas
        self.replicas = target
        return Recommendation(
            at=signal.at,
            replicas=target,
            current=signal.members,
            changed=changed,
            reason=f"ceil(lag {signal.total_lag} / {self.lag_threshold:g})",
            mode="lag",
            inputs={"total_lag": signal.total_lag, "partitions": signal.partitions},
        )
