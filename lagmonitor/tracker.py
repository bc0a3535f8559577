"""The monitor's memory: history windows per group and partition, statuses, controllers and
the events their changes produce. Pure: it takes `ClusterSample`s and gives back events.

One cycle is `ingest(sample)` (append the sample to the windows and tables) followed by
`evaluate()` (statuses, group totals, one controller step per group, events for changes).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from engine.types import TopicPartition
from lagmonitor.controller import ControllerConfig, GroupSignal, Recommendation, ScalingController
from lagmonitor.lag import (
    DEFAULT_TABLE_POINTS,
    ZERO_TIME_LAG,
    EndOffsetTable,
    NoCommitPolicy,
    TimeLag,
    offset_lag,
    time_lag_from_timestamp,
)
from lagmonitor.model import SEVERITY, OffsetSample, PartitionHistory, Status
from lagmonitor.sampler import ClusterSample, GroupObservation
from lagmonitor.status import (
    CAUGHT_UP,
    GroupStatus,
    PartitionStatus,
    StatusPolicy,
    evaluate_partition,
    summarize_group,
)

MAX_HISTORY_SIZE = 1000

#: Group states that imply live members, even when the broker does not list them.
LIVE_STATES = frozenset({"Stable", "PreparingRebalance", "CompletingRebalance"})


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    """How much the tracker remembers and the policies it applies."""

    history_size: int = 10
    lag_history_points: int = 60
    recommendation_history: int = 30
    table_points: int = DEFAULT_TABLE_POINTS
    no_commit: NoCommitPolicy = "latest"
    status: StatusPolicy = field(default_factory=StatusPolicy)
    controller: ControllerConfig = field(default_factory=ControllerConfig)

    def __post_init__(self) -> None:
        for name in ("history_size", "lag_history_points", "recommendation_history"):
            value = getattr(self, name)
            if not 1 <= value <= MAX_HISTORY_SIZE:
                raise ValueError(f"{name} must be between 1 and {MAX_HISTORY_SIZE}, got {value}")
        if self.no_commit not in ("latest", "earliest"):
            raise ValueError(f"no_commit must be 'latest' or 'earliest', got {self.no_commit!r}")


@dataclass(frozen=True, slots=True)
class LagEvent:
    """A change worth telling other services about (appended to `_lag_signals`)."""

    kind: str
    group: str
    at: float
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The event as a JSON-ready dict."""
        return {"type": self.kind, "group": self.group, "at": self.at, **self.data}


class PartitionTrack:
    """What the tracker keeps for one partition of one group."""

    __slots__ = (
        "committed",
        "earliest",
        "end",
        "history",
        "label",
        "lag",
        "owner",
        "partition",
        "status",
        "table",
        "time_lag",
        "topic",
        "tp",
    )

    def __init__(self, tp: TopicPartition, size: int) -> None:
        self.tp = tp
        self.topic = tp.topic
        self.partition = tp.partition
        self.label = f"{tp.topic}[{tp.partition}]"
        self.history = PartitionHistory(size)
        self.owner: tuple[str, str, str] | None = None
        self.committed: int | None = None
        self.earliest = 0
        self.end = 0
        self.lag = 0
        self.time_lag: TimeLag | None = None
        self.table: EndOffsetTable | None = None
        self.status = PartitionStatus(Status.OK, "no samples yet")


class GroupTrack:
    """What the tracker keeps for one consumer group."""

    def __init__(self, group: str, config: TrackerConfig) -> None:
        self.group = group
        self.config = config
        self.state = "Unknown"
        self.members = 0
        self.members_unknown = False
        self.owners_known = False
        self.simple = False
        self.partitions: dict[TopicPartition, PartitionTrack] = {}
        self.missing_topics: tuple[str, ...] = ()
        self.lag_history: deque[tuple[float, int, float | None]] = deque(
            maxlen=config.lag_history_points
        )
        self.controller = ScalingController(config.controller)
        self.recommendations: deque[Recommendation] = deque(maxlen=config.recommendation_history)
        self.recommendation: Recommendation | None = None
        self.status: GroupStatus | None = None
        self.sampled_at = 0.0
        self.previous_at: float | None = None
        self.production_rate: float | None = None
        self.consumption_rate: float | None = None
        self.total_lag = 0
        self.max_lag_track: PartitionTrack | None = None
        self.time_lag: TimeLag | None = None

    def topics(self) -> list[str]:
        """Topics the group consumes (that still exist)."""
        return sorted({track.topic for track in self.partitions.values()})


class LagTracker:
    """Histories, statuses and controllers of every monitored group."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self.groups: dict[str, GroupTrack] = {}
        self.tables: dict[TopicPartition, EndOffsetTable] = {}
        self.topic_offsets: dict[TopicPartition, tuple[int, int]] = {}
        self.sampled_at: float | None = None
        self.poll_ms = 0.0
        self._dirty: dict[str, GroupTrack] = {}
        self._pending: list[LagEvent] = []

    # -- ingest ----------------------------------------------------------------------------
    def ingest(self, sample: ClusterSample, only_group: str | None = None) -> None:
        """Append one sample to the windows; groups gone from a complete sample are dropped
        (a deleted group stops being reported and alerting at once)."""
        now = sample.at
        if sample.complete and only_group is None:
            self.topic_offsets = dict(sample.topic_offsets)
            for tp in [tp for tp in self.tables if tp not in sample.topic_offsets]:
                del self.tables[tp]
        else:
            self.topic_offsets.update(sample.topic_offsets)
        seen = set()
        for observation in sample.groups:
            seen.add(observation.group)
            track = self.groups.get(observation.group)
            if track is None:
                track = self.groups[observation.group] = GroupTrack(observation.group, self.config)
            self._ingest_group(track, observation, now)
            self._dirty[observation.group] = track
        if sample.complete and only_group is None:
            for name in [name for name in self.groups if name not in seen]:
                del self.groups[name]
                self._dirty.pop(name, None)
                self._pending.append(LagEvent("group_removed", name, now))
        self.sampled_at = now
        self.poll_ms = sample.poll_ms

    def _ingest_group(self, track: GroupTrack, observed: GroupObservation, now: float) -> None:
        track.state = observed.state
        track.members = observed.members
        # Some brokers report a live group's state but not its members: the group then has
        # live consumers, we just cannot count them.
        track.members_unknown = observed.members == 0 and observed.state in LIVE_STATES
        track.simple = observed.simple
        track.missing_topics = observed.missing_topics
        produced = consumed = 0
        known_owners = track.owners_known = bool(observed.owners)
        kept: dict[TopicPartition, PartitionTrack] = {}
        size = self.config.history_size
        no_commit = self.config.no_commit
        existing = track.partitions
        owners = observed.owners
        for partition in observed.partitions:
            committed, end = partition.committed, partition.end
            # TopicPartition is a named tuple: a plain tuple finds the same dict entry.
            part = existing.get((partition.topic, partition.partition))  # type: ignore[call-overload]
            if part is None:
                part = PartitionTrack(TopicPartition(partition.topic, partition.partition), size)
            kept[part.tp] = part
            table = part.table
            if table is None:  # new partition (a table is dropped only with its partitions)
                table = part.table = self._table(part.tp)
            if table.updated_at != now:  # once per sample, however many groups read it
                table.add(end, now)
            if partition.no_records_behind:
                lag = 0
            elif committed is not None:
                lag = end - committed if end > committed else 0
            else:
                lag = offset_lag(committed, end, partition.earliest, no_commit)
            previous = part.history.add(OffsetSample(now, committed, end, lag))
            if previous is not None:
                if end > previous.end:
                    produced += end - previous.end
                before = previous.committed
                if committed is not None and before is not None and committed > before:
                    consumed += committed - before
            part.committed = committed
            part.earliest = partition.earliest
            part.end = end
            part.lag = lag
            part.owner = owners.get(part.tp) if known_owners else None
            if lag <= 0:
                part.time_lag = ZERO_TIME_LAG
            elif committed is None:
                part.time_lag = None
            elif partition.head_timestamp is not None:
                part.time_lag = time_lag_from_timestamp(lag, partition.head_timestamp, now)
            else:
                part.time_lag = table.time_lag(committed, now)
        track.partitions = kept
        elapsed = None if track.previous_at is None else now - track.previous_at
        if elapsed is not None and elapsed > 0:
            track.production_rate = produced / elapsed
            track.consumption_rate = consumed / elapsed
        else:
            track.production_rate = track.consumption_rate = None
        track.previous_at = now
        track.sampled_at = now

    def _table(self, tp: TopicPartition) -> EndOffsetTable:
        """The end-offset table of a topic partition, created on first use."""
        table = self.tables.get(tp)
        if table is None:
            table = self.tables[tp] = EndOffsetTable(self.config.table_points)
        return table

    # -- evaluate --------------------------------------------------------------------------
    def evaluate(self) -> list[LagEvent]:
        """Statuses and recommendations of the groups ingested since the last call; returns
        the events of this cycle (status changes, recommendation changes, removals)."""
        events, self._pending = self._pending, []
        policy = self.config.status
        for track in self._dirty.values():
            events.extend(self._evaluate_group(track, policy))
        self._dirty = {}
        return events

    def _evaluate_group(self, track: GroupTrack, policy: StatusPolicy) -> list[LagEvent]:
        total = complete = not_ok = 0
        worst: PartitionTrack | None = None
        worst_severity = 0
        max_track: PartitionTrack | None = None
        max_lag = -1
        max_time: TimeLag | None = None
        # Without assignment information, any member may own any partition.
        unassigned_members = (track.members > 0 or track.members_unknown) and not track.owners_known
        fast = policy.allowed_lag == 0
        size = self.config.history_size
        caught_up = 0
        for part in track.partitions.values():
            history = part.history
            if len(history.window) == size:
                complete += 1
            lag = part.lag
            if fast and lag == 0 and part.committed is not None:
                # The common case, without a call: OK, no lag, a time lag of 0.
                part.status = CAUGHT_UP
                caught_up += 1
                continue
            part_status = part.status = evaluate_partition(
                history, unassigned_members or part.owner is not None, policy
            )
            total += lag
            if lag > max_lag:
                max_lag, max_track = lag, part
            if part_status.status is not Status.OK:
                not_ok += 1
                severity = SEVERITY[part_status.status]
                if severity > worst_severity:
                    worst, worst_severity = part, severity
            time_lag = part.time_lag
            if time_lag is not None and (max_time is None or time_lag.seconds > max_time.seconds):
                max_time = time_lag
        if caught_up:
            if max_track is None:
                max_track = next(iter(track.partitions.values()))
            if max_time is None:
                max_time = ZERO_TIME_LAG
        count = len(track.partitions)
        track.total_lag = total
        track.max_lag_track = max_track
        track.time_lag = max_time
        track.lag_history.append(
            (track.sampled_at, total, None if max_time is None else max_time.seconds)
        )
        status = summarize_group(
            count, complete, not_ok, None if worst is None else (worst.label, worst.status), total
        )
        recommendation = track.controller.observe(
            GroupSignal(
                at=track.sampled_at,
                total_lag=total,
                members=_members_for_controller(track),
                partitions=count,
                production_rate=track.production_rate,
                consumption_rate=track.consumption_rate,
            )
        )
        events = []
        previous_status = track.status
        if previous_status is None or previous_status.status is not status.status:
            events.append(
                LagEvent(
                    "status",
                    track.group,
                    track.sampled_at,
                    {
                        "status": status.status.value,
                        "previous": None if previous_status is None else previous_status.status,
                        "reason": status.reason,
                        "total_lag": total,
                    },
                )
            )
        previous_rec = track.recommendation
        if previous_rec is None or previous_rec.replicas != recommendation.replicas:
            events.append(
                LagEvent(
                    "recommendation",
                    track.group,
                    track.sampled_at,
                    {
                        "replicas": recommendation.replicas,
                        "previous": None if previous_rec is None else previous_rec.replicas,
                        "members": track.members,
                        "reason": recommendation.reason,
                        "inputs": recommendation.inputs,
                    },
                )
            )
        track.status = status
        track.recommendation = recommendation
        track.recommendations.append(recommendation)
        return events

    def record(self, sample: ClusterSample, only_group: str | None = None) -> list[LagEvent]:
        """One full cycle: ingest then evaluate."""
        self.ingest(sample, only_group)
        return self.evaluate()


def _members_for_controller(track: GroupTrack) -> int:
    """The member count the controller sees; when the broker does not report members of a
    live group, the controller's own recommendation stands in (at least 1)."""
    if track.members_unknown:
        return max(1, track.controller.replicas or 0)
    return track.members
