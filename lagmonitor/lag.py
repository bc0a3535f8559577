"""Offset lag, time lag, rates and time to catch up: pure arithmetic over samples.

Time lag has two sources. Where reading one record is cheap (the embedded engine) it is exact:
now minus the timestamp of the record at the committed offset, i.e. the age of the oldest
record the group has not consumed. Elsewhere it is interpolated from a per-partition table of
(log-end offset, time) points, as kafka-lag-exporter does, with two differences:

- a caught-up group has a time lag of 0, however long the producer has been idle;
- a group behind everything in the table gets a lower bound (now minus the oldest point),
  flagged as such, never a value extrapolated from a slope.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

#: What a partition without a committed offset counts as (KEDA's `offsetResetPolicy`):
#: "latest" counts 0 (the group will start at the end), "earliest" counts every record held.
NoCommitPolicy = Literal["latest", "earliest"]

DEFAULT_TABLE_POINTS = 60


def offset_lag(
    committed: int | None, end: int, earliest: int = 0, no_commit: NoCommitPolicy = "latest"
) -> int:
    """Records between the committed offset and the log end, never negative.

    A partition the group never committed on counts per `no_commit`. A committed offset past
    the end (the topic was recreated smaller) counts 0.
    """
    if committed is None:
        return max(0, end - earliest) if no_commit == "earliest" else 0
    return max(0, end - committed)


@dataclass(frozen=True, slots=True)
class TimeLag:
    """A time lag in seconds; `lower_bound` means "at least this much" (not extrapolated)."""

    seconds: float
    lower_bound: bool = False


ZERO_TIME_LAG = TimeLag(0.0)


def time_lag_from_timestamp(lag: int, head_timestamp: float | None, now: float) -> TimeLag | None:
    """Exact time lag from the timestamp (epoch seconds) of the oldest unconsumed record.

    0 when there is no lag; unknown (None) when there is lag but no timestamp. Clock skew
    between producer and monitor never makes it negative.
    """
    if lag <= 0:
        return ZERO_TIME_LAG
    if head_timestamp is None:
        return None
    return TimeLag(max(0.0, now - head_timestamp))


class EndOffsetTable:
    """A bounded table of (log-end offset, time) points of one partition, oldest first (the
    rules; the tracker keeps every partition's table by column in `lagmonitor.endtables`).

    Only changes are kept: while the end stays put, only its "last seen" time moves, and when
    it finally moves a point is written for the last time the old end was seen. So a flat
    stretch costs two points, and an idle producer does not push history out. Points live in
    two compact arrays (16 bytes a point) searched by bisection.
    """

    __slots__ = ("_ends", "_last_seen", "_max_points", "_times", "samples", "updated_at")

    def __init__(self, max_points: int = DEFAULT_TABLE_POINTS) -> None:
        if max_points < 2:
            raise ValueError(f"an end-offset table needs at least 2 points, got {max_points}")
        self._max_points = max_points
        self._ends = array("q")
        self._times = array("d")
        self._last_seen = 0.0
        self.samples = 0
        #: When `add` was last called (None: never).
        self.updated_at: float | None = None

    def add(self, end: int, at: float) -> None:
        """Record that the log end was `end` at time `at`; an end that shrank resets the table
        (the topic was deleted and recreated, so older points describe another log)."""
        self.updated_at = at
        self.samples += 1
        points, times = self._ends, self._times
        if points:
            newest = points[-1]
            if end == newest:
                self._last_seen = at
                return
            if end < newest:
                del points[:], times[:]
                self.samples = 1
            elif self._last_seen > times[-1]:
                points.append(newest)
                times.append(self._last_seen)
        points.append(end)
        times.append(at)
        self._last_seen = at
        excess = len(points) - self._max_points
        if excess > 0:
            del points[:excess], times[:excess]

    @property
    def points(self) -> list[tuple[int, float]]:
        """The stored points plus the newest observation, oldest first."""
        points = list(zip(self._ends, self._times, strict=True))
        if points and self._last_seen > points[-1][1]:
            points.append((points[-1][0], self._last_seen))
        return points

    def time_lag(self, committed: int | None, now: float) -> TimeLag | None:
        """Interpolated time lag of a group committed at `committed` (None: unknown)."""
        if committed is None:
            return None
        found = self.seconds_behind(committed, now)
        return None if found is None else TimeLag(*found)

    def seconds_behind(self, committed: int, now: float) -> tuple[float, bool] | None:
        """`time_lag` as a plain (seconds, lower_bound) pair (it runs for every lagging
        partition on every sample)."""
        ends = self._ends
        if not ends:
            return None
        if committed >= ends[-1]:
            return 0.0, False
        if self.samples < 2:
            return None
        # The record at `committed` exists once the end passed it: the first point with
        # end > committed; the point before it (if any) still had end <= committed. A record
        # older than the table is at least as old as the oldest point (a lower bound).
        index = bisect_right(ends, committed)
        times = self._times
        if index == 0:
            return max(0.0, now - times[0]), True
        prev_end = ends[index - 1]
        prev_at = times[index - 1]
        share = (committed + 1 - prev_end) / (ends[index] - prev_end)
        return max(0.0, now - (prev_at + share * (times[index] - prev_at))), False


def rate(times: Sequence[float], values: Sequence[int | None]) -> float | None:
    """Average change per second from the first to the last point (None when unknown).

    A decrease (a rewind) counts as no progress, never as a negative rate.
    """
    if len(times) < 2 or values[0] is None or values[-1] is None:
        return None
    elapsed = times[-1] - times[0]
    if elapsed <= 0:
        return None
    return max(0.0, (values[-1] - values[0]) / elapsed)


def catch_up_seconds(
    lag: int, production_rate: float | None, consumption_rate: float | None
) -> float | None:
    """Seconds until the lag is drained at current rates: 0 without lag, None when the lag is
    not shrinking or a rate is unknown."""
    if lag <= 0:
        return 0.0
    if production_rate is None or consumption_rate is None:
        return None
    drain = consumption_rate - production_rate
    if drain <= 0:
        return None
    return lag / drain
