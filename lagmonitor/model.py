"""Plain data of the lag monitor: statuses, per-partition observations and history windows."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class Status(StrEnum):
    """Consumer health in Burrow's vocabulary.

    Partitions get OK, WARN, STOP, STALL or REWIND; a group gets the worst of its partitions,
    with STOP, STALL and REWIND counting as ERR at group level.
    """

    OK = "OK"
    WARN = "WARN"
    ERR = "ERR"
    STOP = "STOP"
    STALL = "STALL"
    REWIND = "REWIND"

    @property
    def severity(self) -> int:
        """Ordering used to pick the worst status (OK lowest)."""
        return SEVERITY[self]

    @property
    def group_level(self) -> Status:
        """How this partition status counts at group level (error kinds become ERR)."""
        return Status.ERR if self in _ERRORS else self


#: Ordering of statuses, OK lowest (used to pick the worst).
SEVERITY = {
    Status.OK: 0,
    Status.WARN: 1,
    Status.ERR: 2,
    Status.STOP: 3,
    Status.STALL: 4,
    Status.REWIND: 5,
}
_ERRORS = frozenset({Status.STOP, Status.STALL, Status.REWIND})


class OffsetSample(NamedTuple):
    """One observation of a partition at `at` (epoch seconds).

    `committed` is the group's committed offset (None when it has never committed on this
    partition); `end` is the log-end offset; `lag` is the lag counted at that moment.
    """

    at: float
    committed: int | None
    end: int
    lag: int


class PartitionHistory:
    """The bounded window of samples of one partition for one group.

    Besides the window itself it keeps, updated in O(1) per sample, the index of the last
    sample where the committed offset moved, went backwards, and where the lag shrank, so the
    status rules are evaluated without scanning the window. `committed_since` is when the
    current committed offset was first observed (it outlives the window).
    """

    __slots__ = (
        "committed_since",
        "lags",
        "last_decrease",
        "last_move",
        "last_rewind",
        "seq",
        "size",
        "window",
    )

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"history size must be at least 1, got {size}")
        self.size = size
        # Plain lists trimmed from the front: a fraction of a deque's memory at this size.
        self.window: list[OffsetSample] = []
        self.lags: list[int] = []
        self.committed_since: float | None = None
        self.seq = 0
        self.last_move = -1
        self.last_rewind = -1
        self.last_decrease = -1

    def add(self, sample: OffsetSample) -> OffsetSample | None:
        """Append a sample and return the one before it (None: first, or history cleared
        because the log end went backwards, i.e. the topic was recreated)."""
        window = self.window
        last = window[-1] if window else None
        if last is not None and sample.end < last.end:
            self.clear()
            last = None
        index = self.seq
        if last is None or sample.committed != last.committed:
            self.last_move = index
            self.committed_since = sample.at
            if (
                last is not None
                and sample.committed is not None
                and last.committed is not None
                and sample.committed < last.committed
            ):
                self.last_rewind = index
        if last is not None and sample.lag < last.lag:
            self.last_decrease = index
        window.append(sample)
        lags = self.lags
        lags.append(sample.lag)
        if len(window) > self.size:
            del window[0], lags[0]
        self.seq = index + 1
        return last

    def clear(self) -> None:
        """Forget every sample (the partition's log was replaced)."""
        self.window.clear()
        self.lags.clear()
        self.committed_since = None
        self.seq = 0
        self.last_move = self.last_rewind = self.last_decrease = -1

    @property
    def start(self) -> int:
        """Index of the oldest sample still in the window."""
        return self.seq - len(self.window)

    @property
    def completeness(self) -> float:
        """Share of the window that is filled (1.0 once `size` samples were taken)."""
        return len(self.window) / self.size
