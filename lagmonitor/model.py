"""Plain data of the lag monitor: the statuses (the sample windows live in `window`)."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Consumer health in Burrow's vocabulary.

    Partitions get OK, PENDING, WARN, STOP, STALL or REWIND; a group gets the worst of its
    partitions, with STOP, STALL and REWIND counting as ERR at group level. PENDING means "not
    judged yet": the partition has lag and its window is too short to apply the rules.
    """

    OK = "OK"
    PENDING = "PENDING"
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
    Status.PENDING: 1,
    Status.WARN: 2,
    Status.ERR: 3,
    Status.STOP: 4,
    Status.STALL: 5,
    Status.REWIND: 6,
}
_ERRORS = frozenset({Status.STOP, Status.STALL, Status.REWIND})
