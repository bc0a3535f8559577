"""Plain data of the lag monitor: the statuses (the sample windows live in `window`)."""

from __future__ import annotations

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
