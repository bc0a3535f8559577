"""The end-offset tables of every partition the tracker follows, stored by column.

Each topic partition owns a row of two NumPy matrices (log-end offsets and times): a ring of
up to `max_points` points, oldest first from `start[row]`, `count[row]` of them. The rules are
those of `lagmonitor.lag.EndOffsetTable` (the one-partition table the tests compare this
store with): only changes are kept, a flat stretch costs two points (the "last seen" time of
an end is written when the end finally moves), an end that shrank starts the row over, and the
oldest point goes when the row is full. A sample updates all its partitions in one pass over
arrays, and the time lag of all lagging partitions is found by one vectorised bisection.

The rings start narrow and widen (every row at once, up to `max_points`) when a row fills,
so the store takes the memory the points need rather than `max_points` per partition from
the start.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

import numpy as np
import numpy.typing as npt

from lagmonitor.lag import DEFAULT_TABLE_POINTS

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

_INITIAL_WIDTH = 4
_INITIAL_ROWS = 64


class EndOffsetTables:
    """(log-end offset, time) points per topic partition, one row each, by column."""

    __slots__ = (
        "_free",
        "count",
        "ends",
        "keys",
        "last_seen",
        "max_points",
        "read_in",
        "rows",
        "samples",
        "start",
        "times",
        "updated_at",
    )

    def __init__(self, max_points: int = DEFAULT_TABLE_POINTS) -> None:
        if max_points < 2:
            raise ValueError(f"an end-offset table needs at least 2 points, got {max_points}")
        self.max_points = max_points
        #: Row of each topic partition, and the partition of each row (None: free).
        self.rows: dict[Hashable, int] = {}
        self.keys: list[Hashable | None] = []
        self._free: list[int] = []
        width = min(_INITIAL_WIDTH, max_points)
        self.ends: Ints = np.zeros((_INITIAL_ROWS, width), np.int64)
        self.times: Floats = np.zeros((_INITIAL_ROWS, width), np.float64)
        self.start: Ints = np.zeros(_INITIAL_ROWS, np.int64)
        self.count: Ints = np.zeros(_INITIAL_ROWS, np.int64)
        self.samples: Ints = np.zeros(_INITIAL_ROWS, np.int64)
        self.last_seen: Floats = np.zeros(_INITIAL_ROWS, np.float64)
        #: When each row was last updated (NaN: never), and the tag of the last sample read.
        self.updated_at: Floats = np.full(_INITIAL_ROWS, np.nan)
        self.read_in: Ints = np.full(_INITIAL_ROWS, -1, np.int64)

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, key: object) -> bool:
        return key in self.rows

    # -- rows ------------------------------------------------------------------------------
    def row(self, key: Hashable) -> int:
        """The row of a topic partition, created empty on first use."""
        found = self.rows.get(key)
        if found is not None:
            return found
        if self._free:
            row = self._free.pop()
            self.keys[row] = key
        else:
            row = len(self.keys)
            self.keys.append(key)
            if row == len(self.start):
                self._grow_rows(2 * row)
        self.rows[key] = row
        self.start[row] = self.count[row] = self.samples[row] = 0
        self.last_seen[row] = 0.0
        self.updated_at[row] = np.nan
        self.read_in[row] = -1
        return row

    def drop(self, keys: Iterable[Hashable]) -> None:
        """Forget the rows of these topic partitions (their rows are reused)."""
        for key in keys:
            row = self.rows.pop(key, None)
            if row is not None:
                self.keys[row] = None
                self._free.append(row)

    def unread(self, read_in: int) -> list[Hashable]:
        """The topic partitions whose rows were not read by the sample tagged `read_in`."""
        used = len(self.keys)
        keys = self.keys
        return [
            key
            for row in np.flatnonzero(self.read_in[:used] != read_in).tolist()
            if (key := keys[row]) is not None
        ]

    def _grow_rows(self, rows: int) -> None:
        def grown(array: npt.NDArray[np.generic], fill: object) -> npt.NDArray[np.generic]:
            bigger = np.full((rows, *array.shape[1:]), fill, array.dtype)
            bigger[: len(array)] = array
            return bigger

        self.ends, self.times = grown(self.ends, 0), grown(self.times, 0.0)  # type: ignore[assignment]
        self.start, self.count = grown(self.start, 0), grown(self.count, 0)  # type: ignore[assignment]
        self.samples, self.last_seen = grown(self.samples, 0), grown(self.last_seen, 0.0)  # type: ignore[assignment]
        self.updated_at, self.read_in = grown(self.updated_at, np.nan), grown(self.read_in, -1)  # type: ignore[assignment]

    def _widen(self) -> None:
        """Double the ring width (up to `max_points`), unrolling every ring to start at 0."""
        width = self.ends.shape[1]
        wider = min(self.max_points, 2 * width)
        order = (self.start[:, None] + np.arange(width)) % width
        ends = np.zeros((len(self.start), wider), np.int64)
        times = np.zeros((len(self.start), wider), np.float64)
        ends[:, :width] = np.take_along_axis(self.ends, order, axis=1)
        times[:, :width] = np.take_along_axis(self.times, order, axis=1)
        self.ends, self.times = ends, times
        self.start[:] = 0

    # -- recording -------------------------------------------------------------------------
    def record(self, rows: Ints, ends: Ints, at: float, read_in: int) -> None:
        """Record that the log end of row `rows[i]` was `ends[i]` at time `at`, tagging the
        rows with `read_in`. A row already updated at `at` is left alone (several groups read
        the same partition), and a row listed twice takes its first end."""
        self.read_in[rows] = read_in
        fresh = self.updated_at[rows] != at
        if not fresh.all():
            rows, ends = rows[fresh], ends[fresh]
        if len(rows) > 1 and np.bincount(rows).max() > 1:
            rows, first = np.unique(rows, return_index=True)
            ends = ends[first]
        self.updated_at[rows] = at
        self.samples[rows] += 1
        count = self.count[rows]
        width = self.ends.shape[1]
        newest_slot = (self.start[rows] + count - 1) % width
        newest = self.ends[rows, newest_slot]
        held = count > 0
        same = held & (ends == newest)
        if same.any():
            self.last_seen[rows[same]] = at
            moved = ~same
            rows, ends, newest, newest_slot, held = (
                rows[moved],
                ends[moved],
                newest[moved],
                newest_slot[moved],
                held[moved],
            )
        shrunk = held & (ends < newest)
        if shrunk.any():
            reset = rows[shrunk]
            self.count[reset] = self.start[reset] = 0
            self.samples[reset] = 1
        # The end moved on after standing still: close the flat stretch at its last sighting.
        last_seen = self.last_seen[rows]
        closing = held & ~shrunk & (last_seen > self.times[rows, newest_slot])
        if closing.any():
            self._push(rows[closing], newest[closing], last_seen[closing])
        self._push(rows, ends, np.full(len(rows), at))
        self.last_seen[rows] = at

    def _push(self, rows: Ints, ends: Ints, times: Floats) -> None:
        """Append one point to each of the (distinct) rows, dropping the oldest when full."""
        count = self.count[rows]
        width = self.ends.shape[1]
        if width < self.max_points and (count >= width).any():
            self._widen()
            width = self.ends.shape[1]
        start = self.start[rows]
        slot = (start + count) % width
        self.ends[rows, slot] = ends
        self.times[rows, slot] = times
        full = count >= width
        self.count[rows] = np.minimum(count + 1, width)
        if full.any():
            self.start[rows[full]] = (start[full] + 1) % width

    # -- reading ---------------------------------------------------------------------------
    def points(self, row: int) -> list[tuple[int, float]]:
        """The stored points of a row plus its newest observation, oldest first (as
        `EndOffsetTable.points`)."""
        width = self.ends.shape[1]
        slots = [(int(self.start[row]) + i) % width for i in range(int(self.count[row]))]
        points = [(int(self.ends[row, s]), float(self.times[row, s])) for s in slots]
        last_seen = float(self.last_seen[row])
        if points and last_seen > points[-1][1]:
            points.append((points[-1][0], last_seen))
        return points

    def seconds_behind(self, rows: Ints, committed: Ints, now: float) -> tuple[Floats, Bools]:
        """Interpolated time lag of a group committed at `committed[i]` on row `rows[i]`, for
        every i: (seconds, NaN when unknown; whether each is a lower bound). The rules of
        `EndOffsetTable.seconds_behind`, bisecting all rows at once."""
        seconds = np.full(len(rows), np.nan)
        lower = np.zeros(len(rows), np.bool_)
        count = self.count[rows]
        start = self.start[rows]
        width = self.ends.shape[1]
        held = count > 0
        newest = self.ends[rows, (start + count - 1) % width]
        caught_up = held & (committed >= newest)
        seconds[caught_up] = 0.0
        # Behind the newest point, with at least two samples: bisect.
        todo = np.flatnonzero(held & ~caught_up & (self.samples[rows] >= 2))
        if not len(todo):
            return seconds, lower
        rows, committed, count, start = rows[todo], committed[todo], count[todo], start[todo]
        # The first point with end > committed (bisect_right over the ring, oldest first).
        low = np.zeros(len(rows), np.int64)
        high = count.copy()
        while True:
            open_ = low < high
            if not open_.any():
                break
            middle = (low + high) // 2
            beyond = self.ends[rows, (start + middle) % width] > committed
            high = np.where(open_ & beyond, middle, high)
            low = np.where(open_ & ~beyond, middle + 1, low)
        times = self.times
        oldest = low == 0
        result = np.empty(len(rows))
        result[oldest] = np.maximum(0.0, now - times[rows[oldest], start[oldest]])
        inside = ~oldest
        rows, committed, start, index = rows[inside], committed[inside], start[inside], low[inside]
        before = (start + index - 1) % width
        after = (start + index) % width
        prev_end = self.ends[rows, before]
        prev_at = times[rows, before]
        share = (committed + 1 - prev_end) / (self.ends[rows, after] - prev_end)
        result[inside] = np.maximum(0.0, now - (prev_at + share * (times[rows, after] - prev_at)))
        seconds[todo] = result
        lower[todo[oldest]] = True
        return seconds, lower
