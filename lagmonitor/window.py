"""The sample windows of every group's partitions, in one set of columns.

Every (group, topic, partition) the tracker follows owns one row of a `WindowStore`: three
rings of `size` slots (committed offset, log-end offset, lag; NumPy matrices with one row per
partition) and, updated in bulk as samples arrive, the index of the last sample where the
committed offset moved, went backwards, and where the lag shrank, and when the current
committed offset was first seen (which outlives the window). The status rules read these in
O(1) per row, and a whole sample of all groups is appended by `append_samples` in a few dozen
vectorised operations: no Python work per partition.

A group's partitions are sampled together, so they share one ring position and one ring of
sample times, kept by the group's `GroupWindow` (the group's rows, its sample count `seq`, its
sample times). Indices: a group's samples are numbered 0, 1, 2, ...; a row's history starts at
`first[row]` (when the partition appeared, or when its window was cleared because the log end
went backwards), so it holds `min(size, seq - first[row])` samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

#: (time, log-end offset, committed offset) of one sample of one partition.
Point = tuple[float, int, int | None]

#: How "no committed offset" is stored in the committed-offset column (below any real offset).
NO_COMMIT = -(2**63)

_NO_ROWS: Ints = np.empty(0, np.int64)


class WindowStore:
    """The windows of many partitions, one row each, by column (rows are reused when freed)."""

    __slots__ = (
        "_free",
        "_used",
        "committed",
        "ends",
        "first",
        "lags",
        "last_decrease",
        "last_move",
        "last_rewind",
        "moved_at",
        "size",
    )

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"history size must be at least 1, got {size}")
        self.size = size
        self._used = 0
        self._free: list[int] = []
        self.committed: Ints = np.zeros((0, size), np.int64)
        self.ends: Ints = np.zeros((0, size), np.int64)
        self.lags: Ints = np.zeros((0, size), np.int64)
        self.first: Ints = np.zeros(0, np.int64)
        self.last_move: Ints = np.zeros(0, np.int64)
        self.last_rewind: Ints = np.zeros(0, np.int64)
        self.last_decrease: Ints = np.zeros(0, np.int64)
        self.moved_at: Floats = np.zeros(0, np.float64)

    @property
    def nbytes(self) -> int:
        """Bytes the columns take (capacity included)."""
        return sum(getattr(self, name).nbytes for name in _COLUMNS)

    @property
    def rows_in_use(self) -> int:
        """How many rows hold a partition's window."""
        return self._used - len(self._free)

    def reserve(self, rows: int) -> None:
        """Make room for `rows` more rows at once (so a first sample grows the columns once)."""
        needed = self._used + max(0, rows - len(self._free))
        if needed > len(self.first):
            self._grow(needed)

    def allocate(self, count: int, seq: int) -> Ints:
        """`count` empty rows for partitions that join a group whose next sample is `seq`."""
        reused = [self._free.pop() for _ in range(min(count, len(self._free)))]
        extra = count - len(reused)
        if self._used + extra > len(self.first):
            self._grow(max(self._used + extra, len(self.first) + len(self.first) // 4))
        rows = np.array(reused + list(range(self._used, self._used + extra)), np.int64)
        self._used += extra
        self.first[rows] = seq
        self.last_move[rows] = self.last_rewind[rows] = self.last_decrease[rows] = -1
        self.moved_at[rows] = 0.0
        return rows

    def free(self, rows: Ints) -> None:
        """Give rows back for reuse."""
        self._free.extend(rows.tolist())

    def _grow(self, rows: int) -> None:
        for name in _COLUMNS:
            old = getattr(self, name)
            bigger = np.zeros((rows, *old.shape[1:]), old.dtype)
            bigger[: len(old)] = old
            setattr(self, name, bigger)


_COLUMNS = (
    "committed",
    "ends",
    "lags",
    "first",
    "last_move",
    "last_rewind",
    "last_decrease",
    "moved_at",
)


class GroupWindow:
    """The last `size` samples of every partition of one group: its rows of a `WindowStore`
    (in partition order), its sample count and its sample times."""

    __slots__ = ("rows", "seq", "size", "store", "times")

    def __init__(self, size: int, width: int = 0, store: WindowStore | None = None) -> None:
        self.store = store if store is not None else WindowStore(size)
        if self.store.size != size:
            raise ValueError(f"the store holds windows of {self.store.size}, not {size}")
        self.size = size
        self.seq = 0
        self.times = [0.0] * size
        self.rows: Ints = _NO_ROWS
        self.relayout([None] * width)

    @property
    def width(self) -> int:
        """How many partitions the group has."""
        return len(self.rows)

    # -- layout ----------------------------------------------------------------------------
    def relayout(self, sources: Sequence[int | None]) -> None:
        """Change the set of partitions: new partition `j` keeps the history of old partition
        `sources[j]`, or starts empty when that is None. Rows of partitions not kept are
        freed."""
        old = self.rows
        new = np.empty(len(sources), np.int64)
        kept = [(j, source) for j, source in enumerate(sources) if source is not None]
        fresh = [j for j, source in enumerate(sources) if source is None]
        if kept:
            into, source_index = zip(*kept, strict=True)
            new[list(into)] = old[list(source_index)]
        if fresh:
            new[fresh] = self.store.allocate(len(fresh), self.seq)
        dropped = np.setdiff1d(old, new[[j for j, _ in kept]], assume_unique=True)
        if len(dropped):
            self.store.free(dropped)
        self.rows = new

    def close(self) -> None:
        """Give the group's rows back to the store (the group is gone)."""
        self.store.free(self.rows)
        self.rows = _NO_ROWS

    # -- appending -------------------------------------------------------------------------
    def append(
        self, at: float, committed: Sequence[int], ends: Sequence[int], lags: Sequence[int]
    ) -> tuple[int, int]:
        """Append one sample of every partition (columns in partition order; committed uses
        `NO_COMMIT` for none). Returns the records produced and consumed since the previous
        sample (see `append_samples`)."""
        width = self.width
        if len(committed) != width or len(ends) != width or len(lags) != width:
            raise ValueError(f"expected {width} values per column")
        produced, consumed = append_samples(
            self.store,
            [self],
            at,
            np.array(committed, np.int64),
            np.array(ends, np.int64),
            np.array(lags, np.int64),
        )
        return int(produced[0]), int(consumed[0])

    # -- reading ---------------------------------------------------------------------------
    def count(self, index: int) -> int:
        """Samples in the window of partition `index`."""
        return min(self.size, self.seq - int(self.store.first[self.rows[index]]))

    def completeness(self, index: int) -> float:
        """Share of the window of partition `index` that is filled."""
        return self.count(index) / self.size

    def complete(self) -> int:
        """How many partitions have a full window."""
        return int(np.count_nonzero(self.store.first[self.rows] <= self.seq - self.size))

    def time(self, back: int = 0) -> float:
        """Time of the group's sample `back` samples before the newest."""
        return self.times[(self.seq - 1 - back) % self.size]

    def sample(self, index: int, back: int = 0) -> tuple[int, int, int]:
        """(committed, log end, lag) of partition `index`, `back` samples before the newest
        (committed is `NO_COMMIT` for none)."""
        row, slot = int(self.rows[index]), (self.seq - 1 - back) % self.size
        store = self.store
        return (
            int(store.committed[row, slot]),
            int(store.ends[row, slot]),
            int(store.lags[row, slot]),
        )

    def moved_at(self, index: int) -> float:
        """When partition `index`'s current committed offset was first seen."""
        return float(self.store.moved_at[self.rows[index]])

    def span(self, index: int) -> tuple[Point, Point] | None:
        """(time, end, committed) of the oldest and newest sample of partition `index`, or
        None with fewer than two samples."""
        count = self.count(index)
        if count < 2:
            return None
        points: list[Point] = []
        for back in (count - 1, 0):
            committed, end, _ = self.sample(index, back)
            points.append((self.time(back), end, None if committed == NO_COMMIT else committed))
        return points[0], points[1]


def append_samples(
    store: WindowStore,
    windows: Sequence[GroupWindow],
    at: float,
    committed: Ints,
    ends: Ints,
    lags: Ints,
) -> tuple[Ints, Ints]:
    """Append one sample of each group in `windows` (all in `store`), taken at `at`. The
    columns hold every group's partitions one group after the other, in partition order;
    committed uses `NO_COMMIT` for none.

    Returns, per group, the records produced and consumed since its previous sample, summed
    over partitions that had one (a rewind, or a missing commit on either side, counts as no
    progress). A partition whose log end went backwards (the topic was recreated) starts over.
    """
    size = store.size
    widths = np.fromiter((len(w.rows) for w in windows), np.int64, len(windows))
    seqs = np.fromiter((w.seq for w in windows), np.int64, len(windows))
    rows = np.concatenate([w.rows for w in windows]) if windows else _NO_ROWS
    seq = np.repeat(seqs, widths)
    pos, prev = seq % size, (seq - 1) % size
    prev_committed = store.committed[rows, prev]
    prev_ends = store.ends[rows, prev]
    prev_lags = store.lags[rows, prev]
    # Rows without a previous sample: new ones, and those whose log end went back.
    fresh = (store.first[rows] >= seq) | (ends < prev_ends)

    store.committed[rows, pos] = committed
    store.ends[rows, pos] = ends
    store.lags[rows, pos] = lags
    for window in windows:
        window.times[window.seq % size] = at
        window.seq += 1

    moved = rows[committed != prev_committed]
    store.last_move[moved] = seq[committed != prev_committed]
    store.moved_at[moved] = at
    went_back = committed < prev_committed
    rewound = went_back & (committed != NO_COMMIT)
    store.last_rewind[rows[rewound]] = seq[rewound]
    decreased = lags < prev_lags
    store.last_decrease[rows[decreased]] = seq[decreased]
    restart = rows[fresh]
    store.first[restart] = store.last_move[restart] = seq[fresh]
    store.moved_at[restart] = at
    store.last_rewind[restart] = store.last_decrease[restart] = -1

    offsets = np.concatenate(([0], np.cumsum(widths)))
    produced = segment_sums(np.where(fresh, 0, ends - prev_ends), offsets)
    # Excluded from the consumption sum: rewinds, and any pair with no commit on a side.
    excluded = fresh | went_back | (prev_committed == NO_COMMIT)
    consumed = segment_sums(np.where(excluded, 0, committed - prev_committed), offsets)
    return produced, consumed


def segment_sums(values: npt.NDArray[np.int64 | np.bool_], offsets: Ints) -> Ints:
    """Sum of `values[offsets[i]:offsets[i + 1]]` for each i."""
    totals = np.concatenate(([0], np.cumsum(values, dtype=np.int64)))
    return totals[offsets[1:]] - totals[offsets[:-1]]


def segment_first(
    values: npt.NDArray[Any], offsets: Ints, best: np.ufunc, empty: object
) -> tuple[Ints, npt.NDArray[Any]]:
    """Per segment `values[offsets[i]:offsets[i + 1]]`: the position (from the segment's start)
    of the first best value, and that value; `best` is `np.maximum` or `np.minimum`. An empty
    segment gives -1 and `empty`."""
    groups = len(offsets) - 1
    first = np.full(groups, -1, np.int64)
    found = np.full(groups, empty, values.dtype)
    widths = offsets[1:] - offsets[:-1]
    filled = widths > 0
    if not filled.any():
        return first, found
    starts = offsets[:-1][filled]
    top = best.reduceat(values, starts)
    at = np.where(values == np.repeat(top, widths[filled]), np.arange(len(values)), len(values))
    first[filled] = np.minimum.reduceat(at, starts) - starts
    found[filled] = top
    return first, found
