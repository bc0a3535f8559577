"""The sample windows of one group's partitions, stored by column.

A group's partitions are sampled together, so their windows share one ring position and one
ring of sample times. Each partition owns `size` consecutive slots of three int64 arrays
(committed offset, log-end offset, lag), and appending a sample writes one strided slice per
array: no Python object per sample or per partition. Besides the rings, per partition and
updated in bulk as samples arrive: the index of the last sample where the committed offset
moved, went backwards, and where the lag shrank, and when the current committed offset was
first seen (which outlives the window). The status rules read these in O(1).

Indices: the group's samples are numbered 0, 1, 2, ... (`seq` is the number taken so far); a
partition's history starts at `first[i]` (when it appeared, or when its window was cleared
because the log end went backwards), so it holds `min(size, seq - first[i])` samples.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from itertools import compress, repeat
from operator import eq, lt, ne

#: (time, log-end offset, committed offset) of one sample of one partition.
Point = tuple[float, int, int | None]

#: How "no committed offset" is stored in the committed-offset array (below any real offset).
NO_COMMIT = -(2**63)


class GroupWindow:
    """The last `size` samples of every partition of one group, by column."""

    __slots__ = (
        "committed",
        "ends",
        "first",
        "lags",
        "last_decrease",
        "last_move",
        "last_rewind",
        "moved_at",
        "seq",
        "size",
        "times",
        "width",
    )

    def __init__(self, size: int, width: int = 0) -> None:
        if size < 1:
            raise ValueError(f"history size must be at least 1, got {size}")
        self.size = size
        self.seq = 0
        self.times = array("d", bytes(8 * size))
        self.width = 0
        self.committed = array("q")
        self.ends = array("q")
        self.lags = array("q")
        self.first = array("q")
        self.last_move = array("q")
        self.last_rewind = array("q")
        self.last_decrease = array("q")
        self.moved_at = array("d")
        self.relayout([None] * width)

    # -- layout ----------------------------------------------------------------------------
    def relayout(self, sources: Sequence[int | None]) -> None:
        """Change the set of partitions: new partition `j` keeps the history of old partition
        `sources[j]`, or starts empty when that is None."""
        size, seq = self.size, self.seq
        width = len(sources)
        rings = [array("q", bytes(8 * size * width)) for _ in range(3)]
        first = array("q", [seq]) * width
        last_move, last_rewind, last_decrease = (array("q", [-1]) * width for _ in range(3))
        moved_at = array("d", [0.0]) * width
        old_rings = (self.committed, self.ends, self.lags)
        for new, old in enumerate(sources):
            if old is None:
                continue
            for ring, old_ring in zip(rings, old_rings, strict=True):
                ring[new * size : (new + 1) * size] = old_ring[old * size : (old + 1) * size]
            first[new] = self.first[old]
            last_move[new] = self.last_move[old]
            last_rewind[new] = self.last_rewind[old]
            last_decrease[new] = self.last_decrease[old]
            moved_at[new] = self.moved_at[old]
        self.committed, self.ends, self.lags = rings
        self.first, self.last_move, self.last_rewind = first, last_move, last_rewind
        self.last_decrease, self.moved_at = last_decrease, moved_at
        self.width = width

    # -- appending -------------------------------------------------------------------------
    def append(
        self, at: float, committed: Sequence[int], ends: Sequence[int], lags: Sequence[int]
    ) -> tuple[int, int]:
        """Append one sample of every partition (columns in partition order; committed uses
        `NO_COMMIT` for none). Returns the records produced and consumed since the previous
        sample, summed over partitions that had one (a rewind counts as no progress).

        A partition whose log end went backwards (the topic was recreated) starts over.
        """
        width, size, seq = self.width, self.size, self.seq
        if len(committed) != width or len(ends) != width or len(lags) != width:
            raise ValueError(f"expected {width} values per column")
        pos, prev = seq % size, (seq - 1) % size
        prev_committed = self.committed[prev::size]
        prev_ends = self.ends[prev::size]
        prev_lags = self.lags[prev::size]
        # Partitions without a previous sample: new ones, and those whose log end went back.
        fresh: set[int] = set()
        if width and max(self.first) >= seq:
            fresh.update(compress(range(width), map(lt, repeat(seq - 1), self.first)))
        if any(map(lt, ends, prev_ends)):
            fresh.update(compress(range(width), map(lt, ends, prev_ends)))

        self.committed[pos::size] = array("q", committed)
        self.ends[pos::size] = array("q", ends)
        self.lags[pos::size] = array("q", lags)
        self.times[pos] = at

        moved = list(compress(range(width), map(ne, committed, prev_committed)))
        if 2 * len(moved) > width:
            # Most offsets moved (the usual case): start from "all moved" and put back the
            # others, so the Python loop runs over the fewer.
            old_move, old_at = self.last_move, self.moved_at
            last_move = self.last_move = array("q", [seq]) * width
            moved_at = self.moved_at = array("d", [at]) * width
            for i in compress(range(width), map(eq, committed, prev_committed)):
                last_move[i] = old_move[i]
                moved_at[i] = old_at[i]
        else:
            last_move, moved_at = self.last_move, self.moved_at
            for i in moved:
                last_move[i] = seq
                moved_at[i] = at
        # Excluded from the consumption sum: rewinds, and any pair with no commit on a side.
        excluded = set(fresh)
        last_rewind = self.last_rewind
        for i in compress(range(width), map(lt, committed, prev_committed)):
            excluded.add(i)
            if committed[i] != NO_COMMIT:
                last_rewind[i] = seq
        if NO_COMMIT in prev_committed:
            excluded.update(compress(range(width), map(eq, prev_committed, repeat(NO_COMMIT))))
        last_decrease = self.last_decrease
        for i in compress(range(width), map(lt, lags, prev_lags)):
            last_decrease[i] = seq
        first = self.first
        for i in fresh:
            first[i] = last_move[i] = seq
            moved_at[i] = at
            last_rewind[i] = last_decrease[i] = -1
        self.seq = seq + 1

        produced = sum(ends) - sum(prev_ends)
        produced -= sum(ends[i] - prev_ends[i] for i in fresh)
        consumed = sum(committed) - sum(prev_committed)
        consumed -= sum(committed[i] - prev_committed[i] for i in excluded)
        return produced, consumed

    # -- reading ---------------------------------------------------------------------------
    def count(self, index: int) -> int:
        """Samples in the window of partition `index`."""
        return min(self.size, self.seq - self.first[index])

    def completeness(self, index: int) -> float:
        """Share of the window of partition `index` that is filled."""
        return self.count(index) / self.size

    def complete(self) -> int:
        """How many partitions have a full window."""
        limit = self.seq - self.size
        first = self.first
        if not first or max(first) <= limit:
            return len(first)
        return sum(map(lt, first, repeat(limit + 1)))

    def slot(self, index: int, back: int = 0) -> int:
        """Array position of partition `index`'s sample `back` samples before the newest."""
        size = self.size
        return index * size + (self.seq - 1 - back) % size

    def time(self, back: int = 0) -> float:
        """Time of the group's sample `back` samples before the newest."""
        return self.times[(self.seq - 1 - back) % self.size]

    def current(self, column: array[int]) -> array[int]:
        """The newest value of every partition from one of the three rings."""
        return column[(self.seq - 1) % self.size :: self.size]

    def min_lag(self, index: int) -> int:
        """The smallest lag in the window of partition `index` (which holds a sample)."""
        size, lags = self.size, self.lags
        count = self.count(index)
        base = index * size
        if count == size:
            return min(lags[base : base + size])
        newest = (self.seq - 1) % size
        oldest = newest - count + 1
        if oldest >= 0:
            return min(lags[base + oldest : base + newest + 1])
        wrapped = lags[base + size + oldest : base + size]
        return min(min(lags[base : base + newest + 1]), min(wrapped))

    def span(self, index: int) -> tuple[Point, Point] | None:
        """(time, end, committed) of the oldest and newest sample of partition `index`, or
        None with fewer than two samples."""
        count = self.count(index)
        if count < 2:
            return None
        points: list[Point] = []
        for back in (count - 1, 0):
            slot = self.slot(index, back)
            committed = self.committed[slot]
            points.append(
                (self.time(back), self.ends[slot], None if committed == NO_COMMIT else committed)
            )
        return points[0], points[1]
