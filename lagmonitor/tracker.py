"""The monitor's memory: history windows per group and partition, statuses, controllers and
the events their changes produce. Pure: it takes `ClusterSample`s and gives back events.

One cycle is `ingest(sample)` (append the sample to the windows and tables) followed by
`evaluate()` (statuses, group totals, one controller step per group, events for changes).
All groups' windows live in one `WindowStore` and the end-offset tables in one
`EndOffsetTables`, both NumPy columns with a row per partition: a sample is appended, the time
lags found and the rules applied for every partition of every group at once, and the group
totals taken by segment (a group's partitions are consecutive in the sample's columns). The
sampler hands each group's partitions as columns (`PartitionColumns`), so no Python work is
left per partition in a cycle; a group's partition set is only looked at when its layout
differs from the last sample's. Per group remain the summary, the controller step and the
events.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

from engine.types import TopicPartition
from lagmonitor.columns import PartitionColumns
from lagmonitor.controller import ControllerConfig, GroupSignal, Recommendation, ScalingController
from lagmonitor.endtables import Bools, EndOffsetTables, Floats, Ints
from lagmonitor.lag import (
    DEFAULT_TABLE_POINTS,
    ZERO_TIME_LAG,
    NoCommitPolicy,
    TimeLag,
    rate,
)
from lagmonitor.sampler import ClusterSample, GroupObservation
from lagmonitor.status import (
    FAILING,
    PENDING,
    GroupStatus,
    PartitionStatus,
    StatusPolicy,
    Verdict,
    describe,
    judge,
    summarize_group,
)
from lagmonitor.window import (
    NO_COMMIT,
    GroupWindow,
    WindowStore,
    append_samples,
    segment_first,
    segment_sums,
)

MAX_HISTORY_SIZE = 1000

Verdicts = npt.NDArray[np.uint8]

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


class PartitionView(NamedTuple):
    """One partition of a group as last sampled and judged (built when read)."""

    tp: TopicPartition
    committed: int | None
    earliest: int
    end: int
    lag: int
    owner: tuple[str, str, str] | None
    time_lag: TimeLag | None
    status: PartitionStatus
    completeness: float
    production_rate: float | None
    consumption_rate: float | None

    @property
    def topic(self) -> str:
        """The partition's topic."""
        return self.tp.topic

    @property
    def partition(self) -> int:
        """The partition number."""
        return self.tp.partition


class GroupTrack:
    """What the tracker keeps for one consumer group.

    Partitions are columns in the order of the latest sample (`keys`): their windows are the
    group's rows of the tracker's `WindowStore` (`window`), and the other per-partition values
    are in plain lists and arrays.
    """

    def __init__(self, group: str, config: TrackerConfig, store: WindowStore) -> None:
        self.group = group
        self.config = config
        self.state = "Unknown"
        self.members = 0
        self.members_unknown = False
        self.simple = False
        self.keys: list[TopicPartition] = []
        # The layout of the last sample's columns (`PartitionColumns.layout`), and which of
        # its rows are the keys (None: all, in order; else the first of each repeated one).
        self.layout: object = None
        self.take: Ints | None = None
        #: The partitions' earliest offsets as last observed, in `keys` order.
        self.earliest: Ints = np.empty(0, np.int64)
        self.window = GroupWindow(config.history_size, store=store)
        self.owners: Mapping[TopicPartition, tuple[str, str, str]] = {}
        #: The partitions' rows in the tracker's `EndOffsetTables`.
        self.rows: Ints = np.empty(0, np.int64)
        # Time lag in seconds per partition (-1: unknown) and which are lower bounds.
        self.lag_seconds: Floats = np.empty(0, np.float64)
        self.lower_bound: Bools = np.empty(0, np.bool_)
        # How the rules judged each partition (a `Verdict`); the status is built when read.
        self.verdicts: Verdicts = np.empty(0, np.uint8)
        self.missing_topics: tuple[str, ...] = ()
        self.lag_history: deque[tuple[float, int, float | None]] = deque(
            maxlen=config.lag_history_points
        )
        self.controller = ScalingController(config.controller)
        self.recommendations: deque[Recommendation] = deque(maxlen=config.recommendation_history)
        self.recommendation: Recommendation | None = None
        self.status: GroupStatus | None = None
        # (partitions, full windows, total lag) of the last summary when all were OK.
        self.summary_key: tuple[int, int, int] | None = None
        self.sampled_at = 0.0
        self.previous_at: float | None = None
        self.production_rate: float | None = None
        self.consumption_rate: float | None = None
        self.total_lag = 0
        self.max_lag_index: int | None = None
        self.time_lag: TimeLag | None = None

    def topics(self) -> list[str]:
        """Topics the group consumes (that still exist)."""
        return sorted({tp.topic for tp in self.keys})

    def partition(self, index: int) -> PartitionView:
        """Partition `index` (in `keys` order) as last sampled and judged."""
        window = self.window
        committed, end, lag = window.sample(index)
        production = consumption = None
        span = window.span(index)
        if span is not None:
            (first_at, first_end, first_committed), (at, end, last_committed) = span
            times = (first_at, at)
            production = rate(times, (first_end, end))
            consumption = rate(times, (first_committed, last_committed))
        return PartitionView(
            tp=self.keys[index],
            committed=None if committed == NO_COMMIT else committed,
            earliest=int(self.earliest[index]),
            end=end,
            lag=lag,
            owner=self.owners.get(self.keys[index]),
            time_lag=self._time_lag(index),
            status=describe(window, index, Verdict(int(self.verdicts[index])), self.config.status),
            completeness=window.completeness(index),
            production_rate=production,
            consumption_rate=consumption,
        )

    def _time_lag(self, index: int) -> TimeLag | None:
        seconds = float(self.lag_seconds[index])
        if seconds < 0:
            return None
        if self.lower_bound[index]:
            return TimeLag(seconds, lower_bound=True)
        return TimeLag(seconds) if seconds else ZERO_TIME_LAG

    def partitions(self) -> list[PartitionView]:
        """Every partition, sorted by topic and partition."""
        order = sorted(range(len(self.keys)), key=self.keys.__getitem__)
        return [self.partition(index) for index in order]

    @property
    def max_lag_track(self) -> PartitionView | None:
        """The partition with the largest lag (the first of equals; None without partitions)."""
        return None if self.max_lag_index is None else self.partition(self.max_lag_index)


class _Batch:
    """The columns of one sample's groups, gathered for the work done on all at once."""

    __slots__ = ("behind", "committed", "earliest", "ends", "heads", "rows", "tracks", "windows")

    def __init__(self) -> None:
        self.tracks: list[GroupTrack] = []
        self.windows: list[GroupWindow] = []
        self.rows: list[Ints] = []
        self.committed: list[Ints] = []  # NO_COMMIT for none
        self.earliest: list[Ints] = []
        self.ends: list[Ints] = []
        self.heads: list[Floats] = []  # NaN: unknown
        self.behind: list[Bools] = []

    def add(self, track: GroupTrack, columns: PartitionColumns) -> None:
        """Add a group's columns (in the order of its keys)."""
        take = track.take
        self.tracks.append(track)
        self.windows.append(track.window)
        self.rows.append(track.rows)
        self.committed.append(_taken(columns.committed, take))
        self.earliest.append(_taken(columns.earliest, take))
        self.ends.append(_taken(columns.ends, take))
        self.heads.append(_taken(columns.heads, take))
        self.behind.append(_taken(columns.no_records_behind, take))
        track.earliest = self.earliest[-1]


_G = TypeVar("_G", bound=np.generic)


def _taken(column: npt.NDArray[_G], take: Ints | None) -> npt.NDArray[_G]:
    return column if take is None else column[take]


def _joined(parts: list[npt.NDArray[_G]], empty: npt.NDArray[_G]) -> npt.NDArray[_G]:
    return np.concatenate(parts) if parts else empty


class _Columns(NamedTuple):
    """A whole sample's columns (every group's partitions, consecutive)."""

    committed: Ints
    earliest: Ints
    ends: Ints
    heads: Floats
    behind: Bools

    @classmethod
    def of(cls, batch: _Batch) -> _Columns:
        """Join the batch's per-group columns."""
        no_ints = np.empty(0, np.int64)
        return cls(
            _joined(batch.committed, no_ints),
            _joined(batch.earliest, no_ints),
            _joined(batch.ends, no_ints),
            _joined(batch.heads, np.empty(0, np.float64)),
            _joined(batch.behind, np.empty(0, np.bool_)),
        )

    def lags(self, policy: NoCommitPolicy) -> Ints:
        """Every partition's lag: the records between the commit and the log end (never
        negative), 0 when none of them is a record, per `policy` without a commit (as
        `lagmonitor.lag.offset_lag`)."""
        committed, ends = self.committed, self.ends
        no_commit = committed == NO_COMMIT
        if policy == "earliest":
            behind_from = np.where(no_commit, self.earliest, committed)
        else:
            behind_from = np.where(no_commit, ends, committed)
        lags = np.maximum(ends - behind_from, 0)
        lags[self.behind] = 0
        return lags


class LagTracker:
    """Histories, statuses and controllers of every monitored group."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self.groups: dict[str, GroupTrack] = {}
        self.tables = EndOffsetTables(self.config.table_points)
        self.windows = WindowStore(self.config.history_size)
        self.topic_offsets: Mapping[TopicPartition, tuple[int, int]] = {}
        self.sampled_at: float | None = None
        self.poll_ms = 0.0
        #: Samples ingested so far (tags the end-offset tables each sample reads).
        self.samples_taken = 0
        self._dirty: dict[str, GroupTrack] = {}
        self._pending: list[LagEvent] = []

    # -- ingest ----------------------------------------------------------------------------
    def ingest(self, sample: ClusterSample, only_group: str | None = None) -> None:
        """Append one sample to the windows; groups gone from a complete sample are dropped
        (a deleted group stops being reported and alerting at once)."""
        now = sample.at
        self.samples_taken += 1
        if sample.complete and only_group is None:
            # Never changed in place (below, a partial sample makes a new dict), so shared.
            self.topic_offsets = sample.topic_offsets
        else:
            self.topic_offsets = {**self.topic_offsets, **sample.topic_offsets}
        seen = set()
        batch = _Batch()
        groups = self.groups
        # New groups' rows are made in one step (the first sample would grow them many times).
        self.windows.reserve(sum(len(o.partitions) for o in sample.groups if o.group not in groups))

        for observation in sample.groups:
            seen.add(observation.group)
            track = groups.get(observation.group)
            if track is None:
                track = groups[observation.group] = GroupTrack(
                    observation.group, self.config, self.windows
                )
            self._ingest_group(track, observation, batch)
            self._dirty[observation.group] = track
        columns = _Columns.of(batch)
        self._time_lags(batch, columns, self._append(batch, columns, now), now)
        if sample.complete and only_group is None:
            self._drop_tables(sample)
            for name in [name for name in self.groups if name not in seen]:
                self.groups.pop(name).window.close()
                self._dirty.pop(name, None)
                self._pending.append(LagEvent("group_removed", name, now))
        self.sampled_at = now
        self.poll_ms = sample.poll_ms

    def _ingest_group(self, track: GroupTrack, observed: GroupObservation, batch: _Batch) -> None:
        track.state = observed.state
        track.members = observed.members
        # Some brokers report a live group's state but not its members: the group then has
        # live consumers, we just cannot count them.
        track.members_unknown = observed.members == 0 and observed.state in LIVE_STATES
        track.simple = observed.simple
        track.missing_topics = observed.missing_topics
        columns = PartitionColumns.of(observed.partitions)
        layout = columns.layout
        if layout != track.layout:
            self._relayout(track, columns)
            track.layout = layout
        # Kept as sampled (looking every partition up here would cost more than the rest of
        # the append): only partitions that stand still and the views read it.
        track.owners = observed.owners
        # Windows, end-offset tables and time lags: for the whole sample at once.
        batch.add(track, columns)

    def _append(self, batch: _Batch, columns: _Columns, now: float) -> Ints:
        """Append the sample to every group's window at once; set the groups' rates. Returns
        the lags."""
        lags = columns.lags(self.config.no_commit)
        if not batch.tracks:
            return lags
        produced, consumed = append_samples(
            self.windows, batch.windows, now, columns.committed, columns.ends, lags
        )
        rates = zip(batch.tracks, produced.tolist(), consumed.tolist(), strict=True)
        for track, made, used in rates:
            elapsed = None if track.previous_at is None else now - track.previous_at
            if elapsed is not None and elapsed > 0:
                track.production_rate = made / elapsed
                track.consumption_rate = used / elapsed
            else:
                track.production_rate = track.consumption_rate = None
            track.previous_at = now
            track.sampled_at = now
        return lags

    def _time_lags(self, batch: _Batch, columns: _Columns, lags: Ints, now: float) -> None:
        """Update the end-offset tables of every partition of the sample (once per partition,
        however many groups read it), then set each group's time lag per partition: 0 without
        lag, exact from the head record's timestamp where known, else interpolated from the
        table; -1 when unknown (lag but no commit, or a table that cannot tell)."""
        if not batch.tracks:
            return
        rows = np.concatenate(batch.rows)
        self.tables.record(rows, columns.ends, now, self.samples_taken)
        seconds = np.zeros(len(lags))
        lower = np.zeros(len(lags), np.bool_)
        lagging = np.flatnonzero(lags)
        if len(lagging):
            committed = columns.committed[lagging]
            found = np.full(len(lagging), np.nan)
            known = columns.heads[lagging]
            # Exact where the head record's timestamp is known.
            exact = ~np.isnan(known) & (committed != NO_COMMIT)
            found[exact] = np.maximum(0.0, now - known[exact])
            table = ~exact & (committed != NO_COMMIT)
            if table.any():
                found[table], lower[lagging[table]] = self.tables.seconds_behind(
                    rows[lagging[table]], committed[table], now
                )
            found[np.isnan(found)] = -1.0
            seconds[lagging] = found
        offset = 0
        for track in batch.tracks:
            width = len(track.rows)
            track.lag_seconds = seconds[offset : offset + width]
            track.lower_bound = lower[offset : offset + width]
            offset += width

    def _relayout(self, track: GroupTrack, columns: PartitionColumns) -> None:
        """Follow a change in the group's partitions: kept ones keep their window and table,
        new ones start empty. A repeated partition counts once (its first row)."""
        unique: dict[TopicPartition, int] = {}
        for position, tp in enumerate(
            map(TopicPartition, columns.topics(), columns.numbers.tolist())
        ):
            unique.setdefault(tp, position)
        keys = list(unique)
        track.take = (
            None if len(keys) == len(columns) else np.fromiter(unique.values(), np.int64, len(keys))
        )
        old = {tp: index for index, tp in enumerate(track.keys)}
        sources = [old.get(tp) for tp in keys]
        track.window.relayout(sources)
        track.rows = np.array([self.tables.row(tp) for tp in keys], np.int64)
        before = track.verdicts
        track.verdicts = np.array(
            [Verdict.NO_SAMPLES if source is None else before[source] for source in sources],
            np.uint8,
        )
        track.keys = keys

    def _drop_tables(self, sample: ClusterSample) -> None:
        """Forget the tables of partitions that no longer exist. A table some group read in
        this sample is current (the sampler reads a group's partitions from the same offsets),
        so only the others are looked up."""
        offsets = sample.topic_offsets
        unread = self.tables.unread(self.samples_taken)
        self.tables.drop([tp for tp in unread if tp not in offsets])

    # -- evaluate --------------------------------------------------------------------------
    def evaluate(self) -> list[LagEvent]:
        """Statuses and recommendations of the groups ingested since the last call; returns
        the events of this cycle (status changes, recommendation changes, removals)."""
        events, self._pending = self._pending, []
        tracks, self._dirty = list(self._dirty.values()), {}
        if tracks:
            judged = _Judged(tracks, self.windows, self.config.status)
            for index, track in enumerate(tracks):
                events.extend(self._evaluate_group(track, judged, index))
        return events

    def _evaluate_group(self, track: GroupTrack, judged: _Judged, index: int) -> list[LagEvent]:
        policy = self.config.status
        window = track.window
        count = window.width
        track.verdicts = verdicts = judged.verdicts[judged.bounds[index] : judged.bounds[index + 1]]
        total = judged.totals[index]
        worst = judged.worst[index]
        max_time = judged.time_lag(index)
        track.max_lag_index = judged.max_lag[index] if count else None
        track.total_lag = total
        track.time_lag = max_time
        track.lag_history.append(
            (track.sampled_at, total, None if max_time is None else max_time.seconds)
        )
        complete = judged.complete[index]
        if worst < 0:
            # All partitions OK: the summary depends on these three figures only, so a group
            # whose figures did not change keeps its summary.
            key = (count, complete, total)
            if key == track.summary_key and track.status is not None:
                status = track.status
            else:
                status = summarize_group(count, complete, 0, None, total)
            track.summary_key = key
        else:
            track.summary_key = None
            worst_status = describe(window, worst, Verdict(int(verdicts[worst])), policy)
            label = _label(track.keys[worst])
            status = summarize_group(
                count, complete, judged.not_ok[index], (label, worst_status), total
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


#: Rank of each verdict when picking a group's worst partition (FAILING then PENDING, worst
#: first; the rest rank last and are never picked).
_RANK = np.full(len(Verdict), len(FAILING + PENDING), np.int64)
_RANK[list(FAILING + PENDING)] = np.arange(len(FAILING + PENDING))
_UNRANKED = len(FAILING + PENDING)


class _Judged:
    """The verdicts and per-group totals of one evaluation, for all its groups at once: the
    groups' partitions are consecutive (group `i` holds positions `offsets[i]` to
    `offsets[i + 1]`), and each total is a reduction over a group's segment."""

    def __init__(self, tracks: list[GroupTrack], store: WindowStore, policy: StatusPolicy) -> None:
        size = store.size
        widths = np.fromiter((len(t.keys) for t in tracks), np.int64, len(tracks))
        self.offsets = offsets = np.concatenate(([0], np.cumsum(widths)))
        rows = np.concatenate([t.window.rows for t in tracks])
        seq = np.repeat(np.fromiter((t.window.seq for t in tracks), np.int64, len(tracks)), widths)
        newest = (seq - 1) % size
        lags = store.lags[rows, newest]
        no_commit = store.committed[rows, newest] == NO_COMMIT

        def owned(positions: Ints) -> Bools:
            groups = np.searchsorted(offsets, positions, "right") - 1
            answers = []
            for position, group in zip(positions.tolist(), groups.tolist(), strict=True):
                track = tracks[group]
                # Without assignment information, any member may own any partition.
                everyone = (track.members > 0 or track.members_unknown) and not track.owners
                answers.append(everyone or track.keys[position - offsets[group]] in track.owners)
            return np.array(answers, np.bool_)

        self.verdicts = verdicts = judge(store, rows, seq, owned, policy)
        rank = _RANK[verdicts]
        self.totals: list[int] = segment_sums(lags, offsets).tolist()
        self.not_ok: list[int] = segment_sums(rank < _UNRANKED, offsets).tolist()
        self.complete: list[int] = segment_sums(store.first[rows] <= seq - size, offsets).tolist()
        # The worst partition: the first of the worst rank (-1: all OK).
        worst, worst_rank = segment_first(rank, offsets, np.minimum, _UNRANKED)
        self.worst: list[int] = np.where(worst_rank < _UNRANKED, worst, -1).tolist()
        # The partition with the largest lag (the first of equals); without lag, the first
        # partition the rules looked at (with no allowed lag: the first without a commit).
        max_lag, largest = segment_first(lags, offsets, np.maximum, 0)
        if policy.allowed_lag == 0:
            first_none, none = segment_first(no_commit, offsets, np.maximum, False)
            max_lag = np.where((largest == 0) & none, first_none, max_lag)
        self.max_lag: list[int] = max_lag.tolist()
        # Time lags: the first of the largest; among zeros, the first partition the rules
        # looked at (all of them, or with no allowed lag those with lag or without a commit).
        seconds = np.concatenate([t.lag_seconds for t in tracks])
        lower = np.concatenate([t.lower_bound for t in tracks])
        slowest, largest = segment_first(seconds, offsets, np.maximum, -1.0)
        looked = (lags > 0) | no_commit if policy.allowed_lag == 0 else np.ones(len(rows), bool)
        first_zero, zero = segment_first(looked & (seconds == 0), offsets, np.maximum, False)
        self.largest: list[float] = largest.tolist()
        self.zero: list[bool] = zero.tolist()
        if len(rows):  # (an empty group's -1 reads some row: its time lag is None anyway)
            last = len(rows) - 1
            starts = offsets[:-1]
            self.slowest_lower: list[bool] = lower[np.minimum(starts + slowest, last)].tolist()
            self.zero_lower: list[bool] = lower[np.minimum(starts + first_zero, last)].tolist()
        self.bounds: list[int] = offsets.tolist()

    def time_lag(self, index: int) -> TimeLag | None:
        """Group `index`'s time lag (None: unknown, or no partitions)."""
        largest = self.largest[index]
        if largest > 0:
            return TimeLag(largest, self.slowest_lower[index])
        if largest < 0:  # all unknown, or no partitions
            return None
        if self.zero[index]:
            return TimeLag(0.0, self.zero_lower[index])
        return ZERO_TIME_LAG


def _label(tp: TopicPartition) -> str:
    return f"{tp.topic}[{tp.partition}]"


def _members_for_controller(track: GroupTrack) -> int:
    """The member count the controller sees; when the broker does not report members of a
    live group, the controller's own recommendation stands in (at least 1)."""
    if track.members_unknown:
        return max(1, track.controller.replicas or 0)
    return track.members
