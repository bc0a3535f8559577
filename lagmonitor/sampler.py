"""Taking one sample of every monitored consumer group from a `Cluster` (the I/O edge).

A sample is plain data (`ClusterSample`): per group its state, members and, for every
partition of every topic it consumes, the committed offset, the earliest and log-end offsets
and, where cheap, the timestamp of the oldest unconsumed record, as NumPy columns
(`PartitionColumns`, one row per partition). Log-end offsets are read once
per topic per sample, however many groups read the topic.

Edge cases handled here:

- a partition without a committed offset is reported with `committed=None` (partitions added
  to a topic show up this way until the group commits on them);
- a topic the group has offsets for but that no longer exists goes to `missing_topics`;
- a group that disappears between listing and describing is skipped;
- a gap between the committed offset and the log end that holds no records (transaction
  markers, or compaction) is flagged `no_records_behind`, so the lag counts as 0 instead of
  sitting at 1 forever;
- a committed offset below the earliest offset (retention removed the records) reads the
  oldest record still held.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from engine.cluster import Cluster
from engine.errors import (
    EngineError,
    GroupIdNotFoundError,
    OffsetOutOfRangeError,
    UnknownTopicOrPartitionError,
)
from engine.types import GroupState, OffsetSpec, TopicPartition
from lagmonitor.columns import (
    Assignment,
    Owner,
    PartitionColumns,
    PartitionObservation,
    TopicOffsets,
)
from lagmonitor.window import NO_COMMIT

#: How the timestamp of the oldest unconsumed record is obtained: "fetch" reads one record per
#: lagging partition (cheap on the embedded engine); "interpolate" never reads records and lets
#: the end-offset table estimate time lag; "auto" fetches on the embedded engine only.
TimestampMode = Literal["auto", "fetch", "interpolate"]

#: Groups the monitor itself and the engine's helpers create; never monitored.
INTERNAL_GROUPS = (r"^streamgov-fetch-",)

MAX_PATTERN_LENGTH = 1000


@dataclass(frozen=True, slots=True)
class GroupObservation:
    """One consumer group at sampling time."""

    group: str
    state: str
    members: int
    #: Owner of each assigned partition; the sampler gives an `Assignment` (by column).
    owners: Mapping[TopicPartition, Owner] = field(default_factory=dict)
    #: Its partitions; the sampler gives `PartitionColumns` (which the tracker reads by
    #: column), hand-made samples may give a tuple of observations.
    partitions: Sequence[PartitionObservation] = ()
    missing_topics: tuple[str, ...] = ()
    simple: bool = False


@dataclass(frozen=True, slots=True)
class ClusterSample:
    """Everything one sampling pass saw; `complete` is False when listing the groups failed
    (then groups absent from the sample must not be taken as deleted)."""

    at: float
    groups: tuple[GroupObservation, ...]
    #: (earliest, end) per partition read; the sampler gives `TopicOffsets` (by column).
    topic_offsets: Mapping[TopicPartition, tuple[int, int]]
    poll_ms: float
    complete: bool = True
    errors: tuple[str, ...] = ()


def compile_patterns(patterns: Iterable[str], what: str) -> tuple[re.Pattern[str], ...]:
    """Compile group filter regexes, naming the one that is not valid."""
    compiled = []
    for pattern in patterns:
        if len(pattern) > MAX_PATTERN_LENGTH:
            raise ValueError(f"{what} pattern is longer than {MAX_PATTERN_LENGTH} characters")
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise ValueError(f"{what} pattern {pattern!r} is not a valid regex: {exc}") from exc
    return tuple(compiled)


class GroupFilter:
    """Include/exclude regexes over group ids (searched, so anchor them to match whole ids)."""

    def __init__(self, include: Iterable[str] = (".*",), exclude: Iterable[str] = ()) -> None:
        self.include = compile_patterns(include, "include")
        self.exclude = compile_patterns((*INTERNAL_GROUPS, *exclude), "exclude")

    def __call__(self, group: str) -> bool:
        """Whether the group is monitored."""
        return any(p.search(group) for p in self.include) and not any(
            p.search(group) for p in self.exclude
        )


def fetches_cheaply(cluster: Cluster) -> bool:
    """Whether reading one record is cheap on this backend (the embedded engine)."""
    return type(cluster).__module__.startswith("engine.embedded")


class Sampler:
    """Takes `ClusterSample`s from a cluster."""

    def __init__(
        self,
        cluster: Cluster,
        group_filter: GroupFilter | None = None,
        timestamps: TimestampMode = "auto",
        marker_check_max_lag: int = 2,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if timestamps not in ("auto", "fetch", "interpolate"):
            raise ValueError(f"timestamps must be auto, fetch or interpolate, got {timestamps!r}")
        self.cluster = cluster
        self.group_filter = group_filter or GroupFilter()
        self.fetch_timestamps = timestamps == "fetch" or (
            timestamps == "auto" and fetches_cheaply(cluster)
        )
        self.marker_check_max_lag = marker_check_max_lag
        self._clock = clock
        # (tp, committed, end) -> whether the gap holds no records; a gap is probed once.
        self._gap_cache: dict[tuple[TopicPartition, int, int], bool] = {}
        self._read_errors: list[str] = []

    def sample(self, only_group: str | None = None) -> ClusterSample:
        """Take one sample of every monitored group (or of `only_group`)."""
        at = self._clock()
        started = time.perf_counter()
        errors: list[str] = []
        self._read_errors = []
        complete = True
        if only_group is not None:
            names = [only_group]
        else:
            try:
                names = [g.group_id for g in self.cluster.list_groups()]
            except EngineError as exc:
                names, complete = [], False
                errors.append(f"listing groups failed: {exc}")
        offsets: dict[str, dict[int, tuple[int, int]] | None] = {}
        groups = []
        gap_keys: set[tuple[TopicPartition, int, int]] = set()
        for name in sorted(names):
            if only_group is None and not self.group_filter(name):
                continue
            try:
                observed = self._observe_group(name, offsets, gap_keys)
            except GroupIdNotFoundError:
                continue
            except EngineError as exc:
                errors.append(f"group {name!r}: {exc}")
                continue
            if observed is not None:
                groups.append(observed)
        if self._read_errors:
            errors.append(
                f"{len(self._read_errors)} record reads failed (time lag unknown there), "
                f"first: {self._read_errors[0]}"
            )
        # Forget probes of gaps that no longer exist, so the cache stays bounded.
        self._gap_cache = {key: self._gap_cache[key] for key in gap_keys if key in self._gap_cache}
        topic_offsets = TopicOffsets(
            {
                topic: (
                    np.fromiter(per_partition, np.int64, len(per_partition)),
                    np.fromiter((e for e, _ in per_partition.values()), np.int64),
                    np.fromiter((end for _, end in per_partition.values()), np.int64),
                )
                for topic, per_partition in offsets.items()
                if per_partition is not None
            }
        )
        return ClusterSample(
            at=at,
            groups=tuple(groups),
            topic_offsets=topic_offsets,
            poll_ms=(time.perf_counter() - started) * 1000,
            complete=complete,
            errors=tuple(errors),
        )

    def _topic_offsets(
        self, topic: str, cache: dict[str, dict[int, tuple[int, int]] | None]
    ) -> dict[int, tuple[int, int]] | None:
        """(earliest, end) per partition of a topic, once per sample; None if it is gone."""
        if topic not in cache:
            try:
                earliest = self.cluster.list_offsets(topic, OffsetSpec.EARLIEST)
                latest = self.cluster.list_offsets(topic, OffsetSpec.LATEST)
            except UnknownTopicOrPartitionError:
                cache[topic] = None
            else:
                cache[topic] = {
                    p: (earliest[p], max(latest.get(p, earliest[p]), earliest[p]))
                    for p in sorted(earliest)
                }
        return cache[topic]

    def _observe_group(
        self,
        name: str,
        cache: dict[str, dict[int, tuple[int, int]] | None],
        gap_keys: set[tuple[TopicPartition, int, int]],
    ) -> GroupObservation | None:
        description = self.cluster.describe_group(name)
        committed = self.cluster.committed_offsets(name)
        if description.state is GroupState.DEAD and not committed:
            return None
        owners = Assignment.of_members(
            ((m.member_id, m.client_id, m.host), m.assignment) for m in description.members
        )
        topics = sorted({tp.topic for tp in committed} | set(owners.topics))
        runs: list[tuple[str, int]] = []
        numbers: list[int] = []
        commits: list[int] = []
        earliests: list[int] = []
        ends: list[int] = []
        heads: list[float] = []
        behind: list[bool] = []
        missing: list[str] = []
        for topic in topics:
            bounds = self._topic_offsets(topic, cache)
            if bounds is None:
                missing.append(topic)
                continue
            runs.append((topic, len(bounds)))
            for partition in sorted(bounds):
                earliest, end = bounds[partition]
                tp = TopicPartition(topic, partition)
                commit = committed.get(tp)
                offset = None if commit is None else commit.offset
                head, no_records = self._observe_partition(tp, offset, earliest, end, gap_keys)
                numbers.append(partition)
                commits.append(NO_COMMIT if offset is None else offset)
                earliests.append(earliest)
                ends.append(end)
                heads.append(np.nan if head is None else head)
                behind.append(no_records)
        return GroupObservation(
            group=name,
            state=description.state.value,
            members=len(description.members),
            owners=owners,
            partitions=PartitionColumns(
                tuple(runs),
                np.array(numbers, np.int64),
                np.array(commits, np.int64),
                np.array(earliests, np.int64),
                np.array(ends, np.int64),
                np.array(heads, np.float64),
                np.array(behind, np.bool_),
            ),
            missing_topics=tuple(missing),
            simple=not description.members and not description.protocol,
        )

    def _observe_partition(
        self,
        tp: TopicPartition,
        committed: int | None,
        earliest: int,
        end: int,
        gap_keys: set[tuple[TopicPartition, int, int]],
    ) -> tuple[float | None, bool]:
        """The head record's timestamp where read (None: not read or no record) and whether
        the gap between the commit and the log end holds no records."""
        if committed is None or committed >= end:
            return None, False
        head: float | None = None
        behind = False
        try:
            if self.fetch_timestamps:
                head = self._head(tp, committed, earliest)
                behind = head is None
            elif end - committed <= self.marker_check_max_lag:
                key = (tp, committed, end)
                gap_keys.add(key)
                if key not in self._gap_cache:
                    self._gap_cache[key] = self._head(tp, committed, earliest) is None
                behind = self._gap_cache[key]
        except EngineError as exc:
            # A failed read costs only this partition's exact time lag, not the sample.
            self._read_errors.append(f"reading {tp.topic}[{tp.partition}]: {exc}")
        return head, behind

    def _head(self, tp: TopicPartition, committed: int, earliest: int) -> float | None:
        """Timestamp (epoch seconds) of the first record at or after `committed`; None when
        no record lies between it and the log end."""
        start = max(committed, earliest)
        try:
            records = self.cluster.fetch(tp.topic, tp.partition, start, max_records=1)
        except OffsetOutOfRangeError:
            records = self.cluster.fetch(tp.topic, tp.partition, earliest, max_records=1)
        if not records:
            return None
        return records[0].timestamp_ms / 1000.0
