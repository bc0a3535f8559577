"""Response models of the lag monitor's REST API (`/lag/...`).

These shapes are a contract for API clients (the terminal UI among them): fields are only ever
added, never renamed or removed. Times are epoch seconds (floats); rates are records per second.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from lagmonitor.model import Status

#: What a recommendation asks for compared with the current member count.
ScaleAction = Literal["scale_up", "scale_down", "hold"]


class LagPoint(BaseModel):
    """One point of a group's lag history (for sparklines).

    Example: `{"at": 1764139200.0, "lag": 1250, "time_lag_seconds": 4.2}`
    """

    at: float = Field(description="When the sample was taken (epoch seconds).")
    lag: int = Field(description="Total offset lag of the group at that time.")
    time_lag_seconds: float | None = Field(
        default=None, description="Largest partition time lag at that time, if known."
    )


class RecommendationModel(BaseModel):
    """A scaling recommendation: the replica count, why, and the inputs it was computed from.

    Example:
    ```json
    {"at": 1764139200.0, "replicas": 4, "current": 2, "action": "scale_up",
     "reason": "demand 3.6 replicas above 2 x 1.1 for 3 consecutive samples",
     "mode": "rate",
     "inputs": {"total_lag": 1250, "production_rate": 180.0, "consumption_rate": 95.5,
                "per_replica_rate": 50.0, "partitions": 12, "desired": 3.6}}
    ```
    """

    at: float = Field(description="When the recommendation was computed (epoch seconds).")
    replicas: int = Field(description="Recommended number of consumer instances.")
    current: int = Field(description="Members of the group when it was computed.")
    action: ScaleAction = Field(description="scale_up, scale_down or hold.")
    reason: str = Field(description="Why, in words.")
    mode: Literal["rate", "lag"] = Field(
        description="'rate': rates and backlog; 'lag': lag per replica (KEDA style)."
    )
    inputs: dict[str, float | int | str | None] = Field(
        default_factory=dict, description="The measured inputs the recommendation used."
    )


class GroupSummary(BaseModel):
    """One consumer group with its status, totals and scaling recommendation.

    Example (one element of `GET /lag/groups`):
    ```json
    {"group": "billing", "state": "Stable", "members": 2, "topics": ["orders"],
     "partition_count": 12, "total_lag": 1250, "max_lag": 400, "max_lag_topic": "orders",
     "max_lag_partition": 3, "time_lag_seconds": 4.2, "time_lag_is_lower_bound": false,
     "status": "WARN", "status_reason": "orders[3]: lag grew across the window (120 -> 400)",
     "completeness": 1.0, "production_rate": 180.0, "consumption_rate": 95.5,
     "catch_up_seconds": null, "sampled_at": 1764139200.0,
     "lag_history": [{"at": 1764139190.0, "lag": 900, "time_lag_seconds": 3.1}],
     "recommended_replicas": 4, "recommendation_reason": "demand 3.6 replicas ...",
     "recommendation": {"at": 1764139200.0, "replicas": 4, "current": 2, ...}}
    ```
    """

    group: str
    state: str = Field(description="Kafka group state: Stable, Empty, PreparingRebalance, ...")
    members: int
    topics: list[str] = Field(default_factory=list, description="Topics the group consumes.")
    partition_count: int = Field(description="Partitions of those topics.")
    total_lag: int = Field(description="Sum of offset lag over all partitions.")
    max_lag: int = Field(description="Largest partition offset lag.")
    max_lag_topic: str | None = None
    max_lag_partition: int | None = None
    time_lag_seconds: float | None = Field(
        default=None, description="Largest partition time lag; null when unknown."
    )
    time_lag_is_lower_bound: bool = Field(
        default=False,
        description="True when the group is behind everything the monitor has seen, so the "
        "time lag is at least this value (never extrapolated).",
    )
    status: Status = Field(
        description="OK, PENDING (not judged yet: the window is too short), WARN or ERR "
        "(the worst partition)."
    )
    status_reason: str = Field(description="Why, in words.")
    completeness: float = Field(description="Share of partitions with a full sample window.")
    production_rate: float | None = Field(default=None, description="Records/s appended.")
    consumption_rate: float | None = Field(default=None, description="Records/s committed.")
    catch_up_seconds: float | None = Field(
        default=None,
        description="Time to drain the lag at current rates; null when it is not shrinking "
        "(or there is no lag: then 0).",
    )
    sampled_at: float = Field(description="When the newest sample was taken (epoch seconds).")
    lag_history: list[LagPoint] = Field(
        default_factory=list, description="Recent total lag, oldest first."
    )
    recommended_replicas: int = Field(description="Replica count the controller recommends.")
    recommendation_reason: str = Field(description="Why that replica count.")
    recommendation: RecommendationModel


class PartitionLagModel(BaseModel):
    """One partition of a group: offsets, lag, time lag, rates and status.

    Example:
    ```json
    {"topic": "orders", "partition": 3, "committed": 1200, "end_offset": 1600,
     "earliest_offset": 0, "lag": 400, "time_lag_seconds": 4.2,
     "time_lag_is_lower_bound": false, "status": "WARN",
     "reason": "lag grew across the window (120 -> 400)", "owner": "billing-1",
     "completeness": 1.0, "production_rate": 15.0, "consumption_rate": 8.0}
    ```
    """

    topic: str
    partition: int
    committed: int | None = Field(description="Committed offset; null when never committed.")
    end_offset: int = Field(description="Log-end offset (offset of the next record).")
    earliest_offset: int
    lag: int = Field(description="max(0, end_offset - committed), or the no-commit policy.")
    time_lag_seconds: float | None = None
    time_lag_is_lower_bound: bool = False
    status: Status = Field(description="OK, WARN, STOP, STALL or REWIND.")
    reason: str
    owner: str | None = Field(default=None, description="Client id of the assigned member.")
    completeness: float = Field(description="Share of the sample window that is filled.")
    production_rate: float | None = None
    consumption_rate: float | None = None


class GroupDetail(GroupSummary):
    """A group with its partitions and its recommendation history (`GET /lag/groups/{group}`).

    Example: every `GroupSummary` field, plus
    ```json
    {"partitions": [{"topic": "orders", "partition": 3, ...}],
     "recommendation_history": [{"at": 1764139190.0, "replicas": 2, ...}],
     "missing_topics": []}
    ```
    """

    partitions: list[PartitionLagModel] = Field(default_factory=list)
    recommendation_history: list[RecommendationModel] = Field(
        default_factory=list, description="Recent recommendations, oldest first."
    )
    missing_topics: list[str] = Field(
        default_factory=list,
        description="Topics the group has offsets for that no longer exist (ignored).",
    )


class GroupList(BaseModel):
    """Every monitored group (`GET /lag/groups`).

    Example:
    ```json
    {"interval_seconds": 10.0, "sampled_at": 1764139200.0, "groups": [{...GroupSummary...}]}
    ```
    """

    interval_seconds: float = Field(description="Sampling interval of the monitor.")
    sampled_at: float | None = Field(
        default=None, description="When the last cycle finished; null before the first."
    )
    groups: list[GroupSummary] = Field(default_factory=list)


class KedaMetric(BaseModel):
    """The value KEDA's `metrics-api` scaler reads (`GET /lag/keda/{group}`).

    Point the scaler's `valueLocation` at `recommendedReplicas` with `targetValue: "1"` to
    follow this controller, or at `totalLag` (with a lag threshold as target) to let the HPA
    do its own arithmetic.

    Example:
    ```json
    {"group": "billing", "recommendedReplicas": 4, "totalLag": 1250, "maxLag": 400,
     "timeLagSeconds": 4.2, "status": "WARN"}
    ```
    """

    group: str
    recommendedReplicas: int  # noqa: N815 - KEDA reads camelCase JSON paths
    totalLag: int  # noqa: N815
    maxLag: int  # noqa: N815
    timeLagSeconds: float | None  # noqa: N815
    status: Status
