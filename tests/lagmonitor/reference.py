"""A straightforward model of the tracker's lag and status rules, for differential tests.

Every partition keeps its whole list of samples; the rules are read off the last `size` of
them by scanning, exactly as the docs state them. Slow and obviously right.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

from engine.types import TopicPartition
from lagmonitor.lag import EndOffsetTable, NoCommitPolicy, TimeLag, offset_lag
from lagmonitor.model import Status
from lagmonitor.sampler import ClusterSample, GroupObservation, PartitionObservation
from lagmonitor.status import StatusPolicy
from lagmonitor.tracker import LIVE_STATES

Sample = tuple[float, int | None, int, int]  # (at, committed, end, lag)


@dataclass
class RefPartition:
    """All samples of one partition since it appeared (or its log was replaced)."""

    samples: list[Sample] = field(default_factory=list)
    committed_since: float = 0.0
    time_lag: TimeLag | None = None

    def add(self, sample: Sample) -> Sample | None:
        """Append; returns the previous sample (None when there is none or the log end went
        backwards, which starts the history over)."""
        previous = self.samples[-1] if self.samples else None
        if previous is not None and sample[2] < previous[2]:
            self.samples = []
            previous = None
        if previous is None or sample[1] != previous[1]:
            self.committed_since = sample[0]
        self.samples.append(sample)
        return previous


def first_rewind(offsets: list[int | None]) -> int | None:
    """Position of the first commit lower than the one before it (None: no rewind)."""
    for position in range(1, len(offsets)):
        before, after = offsets[position - 1], offsets[position]
        if before is not None and after is not None and after < before:
            return position
    return None


def ref_status(
    part: RefPartition, size: int, owned: bool, policy: StatusPolicy
) -> tuple[Status, str]:
    """The partition's status and reason, by scanning its window in Burrow's rule order."""
    window = part.samples[-size:]
    at, committed, _, lag = window[-1]
    allowed = policy.allowed_lag
    needed = policy.min_samples or size
    offsets = [sample[1] for sample in window]
    lags = [sample[3] for sample in window]
    if committed is None:
        return Status.OK, f"no committed offset; lag counted as {lag} by policy"
    if lag <= allowed:
        return Status.OK, f"caught up (lag {lag} <= {allowed})" if allowed else "caught up (no lag)"
    stood_still = all(offset == committed for offset in offsets)
    since = at - part.committed_since
    # 1. STOP, unless the lag was within the allowed lag recently.
    if stood_still and len(window) >= needed and not owned and min(lags) > allowed:
        return (
            Status.STOP,
            f"no commits for {since:.1f}s (offset {committed}), no live consumer, lag {lag}",
        )
    # 2. REWIND, unless a later commit reached the offset before the first decrease.
    rewind = first_rewind(offsets)
    if rewind is not None:
        before = offsets[rewind - 1]
        assert before is not None
        later = [offset for offset in offsets[rewind:] if offset is not None]
        if not any(offset >= before for offset in later):
            return (
                Status.REWIND,
                "committed offset went backwards inside the window and has not recovered "
                f"(now {committed}); lag {lag}",
            )
    # 3. The lag was within the allowed lag somewhere in the window.
    if min(lags) <= allowed:
        return Status.OK, f"lag {lag}, but it was within {allowed} inside the window"
    # 4. Too few samples to judge.
    if len(window) < needed:
        return Status.PENDING, f"lag {lag}; window {len(window)}/{needed} samples, not judged yet"
    # 5. STALL (the not-owned case was STOP above).
    if stood_still:
        assert owned
        return (
            Status.STALL,
            f"consumer holds offset {committed} for {since:.1f}s while lag is {lag}",
        )
    # 6. WARN: the lag never decreased.
    if all(b >= a for a, b in pairwise(lags)):
        return (
            Status.WARN,
            f"lag grew across the window ({lags[0]} -> {lag}); consumer too slow",
        )
    return Status.OK, f"consumer is making progress; lag {lag}"


@dataclass
class RefGroup:
    """One group in the model: its partitions in the order of the latest sample."""

    partitions: dict[TopicPartition, RefPartition] = field(default_factory=dict)
    order: list[TopicPartition] = field(default_factory=list)
    observed: GroupObservation | None = None
    produced: int = 0
    consumed: int = 0


def lag_of(partition: PartitionObservation, no_commit: NoCommitPolicy) -> int:
    """A partition's lag: 0 when no records are behind the commit, else the offset lag."""
    if partition.no_records_behind:
        return 0
    return offset_lag(partition.committed, partition.end, partition.earliest, no_commit)


class RefTracker:
    """The model of `LagTracker` for the values the differential tests compare."""

    def __init__(self, size: int, policy: StatusPolicy, no_commit: NoCommitPolicy) -> None:
        self.size = size
        self.policy = policy
        self.no_commit = no_commit
        self.groups: dict[str, RefGroup] = {}
        self.tables: dict[TopicPartition, EndOffsetTable] = {}

    def record(self, sample: ClusterSample) -> None:
        """Take one complete sample."""
        self.tables = {tp: t for tp, t in self.tables.items() if tp in sample.topic_offsets}
        groups: dict[str, RefGroup] = {}
        for observed in sample.groups:
            group = self.groups.get(observed.group, RefGroup())
            kept: dict[TopicPartition, RefPartition] = {}
            group.produced = group.consumed = 0
            for partition in observed.partitions:
                tp = TopicPartition(partition.topic, partition.partition)
                if tp in kept:
                    continue  # a repeated partition counts once
                part = kept[tp] = group.partitions.get(tp, RefPartition())
                lag = lag_of(partition, self.no_commit)
                table = self.tables.setdefault(tp, EndOffsetTable())
                if table.updated_at != sample.at:  # one update per partition and sample
                    table.add(partition.end, sample.at)
                if lag <= 0:
                    part.time_lag = TimeLag(0.0)
                elif partition.committed is None:
                    part.time_lag = None
                elif partition.head_timestamp is not None:
                    part.time_lag = TimeLag(max(0.0, sample.at - partition.head_timestamp))
                else:
                    part.time_lag = table.time_lag(partition.committed, sample.at)
                previous = part.add((sample.at, partition.committed, partition.end, lag))
                if previous is None:
                    continue
                group.produced += max(0, partition.end - previous[2])
                before = previous[1]
                if partition.committed is not None and before is not None:
                    group.consumed += max(0, partition.committed - before)
            group.partitions, group.order, group.observed = kept, list(kept), observed
            groups[observed.group] = group
        self.groups = groups

    def time_lag(self, name: str) -> TimeLag | None:
        """The group's time lag: the first of its partitions' largest known time lags."""
        known = [p.time_lag for p in self.groups[name].partitions.values() if p.time_lag]
        return max(known, key=lambda time_lag: time_lag.seconds, default=None)

    def statuses(self, name: str) -> list[tuple[TopicPartition, int, Status, str, float]]:
        """(partition, lag, status, reason, completeness) of every partition of a group."""
        group = self.groups[name]
        observed = group.observed
        assert observed is not None
        live = observed.members > 0 or observed.state in LIVE_STATES
        everyone = live and not observed.owners
        rows = []
        for tp in group.order:
            part = group.partitions[tp]
            owned = everyone or tp in observed.owners
            status, reason = ref_status(part, self.size, owned, self.policy)
            completeness = min(len(part.samples), self.size) / self.size
            rows.append((tp, part.samples[-1][3], status, reason, completeness))
        return rows
