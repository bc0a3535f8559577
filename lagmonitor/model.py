"""Plain data of the lag monitor: statuses, per-partition observations and history windows."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum


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
        return _SEVERITY[self]

    @property
    def group_level(self) -> Status:
        """How this partition status counts at group level (error kinds become ERR)."""
        return Status.ERR if self in _ERRORS else self


_SEVERITY = {
    Status.OK: 0,
    Status.WARN: 1,
    Status.ERR: 2,
    Status.STOP: 3,
    Status.STALL: 4,
    Status.REWIND: 5,
}
_ERRORS = frozenset({Status.STOP, Status.STALL, Status.REWIND})


@dataclass(frozen=True, slots=True)
class OffsetSample:
    """One observation of a partition at `at` (epoch seconds).

    `committed` is the group's committed offset (None when it has never committed on this
    partition); `end` is the log-end offset; `lag` is the lag counted at that moment.
    """

    at: float
    committed: int | None
    end: int
    lag: int


@dataclass(slots=True)
class PartitionHistory:
    """The bounded window of samples of one partition for one group.

    `window` holds the last `size` samples; `committed_since` is when the current committed
    offset was first observed (it outlives the window, so a commit that has not moved for
    longer than the window is recognised).
    """

    size: int
    window: deque[OffsetSample] = field(init=False)
    committed_since: float | None = None

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError(f"history size must be at least 1, got {self.size}")
        self.window = deque(maxlen=self.size)

    def add(self, sample: OffsetSample) -> None:
        """Append a sample; a log end that went backwards (topic recreated) clears history."""
        last = self.window[-1] if self.window else None
        if last is not None and sample.end < last.end:
            self.window.clear()
            self.committed_since = None
            last = None
        if last is None or sample.committed != last.committed:
            self.committed_since = sample.at
        self.window.append(sample)

    @property
    def completeness(self) -> float:
        """Share of the window that is filled (1.0 once `size` samples were taken)."""
        return len(self.window) / self.size
