"""Burrow-style health of partitions and groups: pure rules over sample windows.

Burrow evaluates a ring of commits; the monitor polls, so its window holds one sample per
interval (committed offset, log end, lag). The rules, in Burrow's order, apply only while the
current lag exceeds the allowed lag and the lag stayed above it for the whole window:

1. REWIND: the committed offset went backwards somewhere in the window.
2. STOP / STALL: the committed offset did not move across a full window. Polling cannot tell
   "commits stopped" from "commits repeat the same offset", so membership decides: with no
   live member owning the partition it is STOP (the consumer is gone), with one it is STALL
   (the consumer is alive but not progressing).
3. WARN: the offset moves but the lag never decreased across a full window.
4. Otherwise OK.

A partition whose lag is within the allowed lag, or was at some point of the window, is OK: a
quiet topic with zero lag is never STOP. A partition without a committed offset is OK (its lag
is counted per the no-commit policy). Rules 2 and 3 wait for a full window (`min_samples`);
until then the partition is OK and its completeness says how much of the window is filled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lagmonitor.model import PartitionHistory, Status


@dataclass(frozen=True, slots=True)
class StatusPolicy:
    """Knobs of the status rules.

    `allowed_lag`: a lag up to this many records counts as caught up (Burrow's allowed-lag;
    set it to 1 or 2 where transaction markers leave a lag that never reaches 0 and the
    backend cannot see past them). `min_samples`: samples needed before STOP, STALL and WARN
    are judged (None: the full window).
    """

    allowed_lag: int = 0
    min_samples: int | None = None

    def __post_init__(self) -> None:
        if self.allowed_lag < 0:
            raise ValueError(f"allowed_lag must be 0 or more, got {self.allowed_lag}")
        if self.min_samples is not None and self.min_samples < 2:
            raise ValueError(f"min_samples must be at least 2, got {self.min_samples}")


@dataclass(frozen=True, slots=True)
class PartitionStatus:
    """The status of one partition and why."""

    status: Status
    reason: str


def evaluate_partition(
    history: PartitionHistory, owned: bool, policy: StatusPolicy = StatusPolicy()
) -> PartitionStatus:
    """Apply the rules to one partition's window; `owned` says a live member holds it."""
    window = history.window
    if not window:
        return PartitionStatus(Status.OK, "no samples yet")
    current = window[-1]
    if current.committed is None:
        return PartitionStatus(
            Status.OK, f"no committed offset; lag counted as {current.lag} by policy"
        )
    allowed = policy.allowed_lag
    if current.lag <= allowed:
        if allowed:
            return PartitionStatus(Status.OK, f"caught up (lag {current.lag} <= {allowed})")
        return PartitionStatus(Status.OK, "caught up (no lag)")
    if min(history.lags) <= allowed:
        return PartitionStatus(
            Status.OK, f"lag {current.lag}, but it was within {allowed} inside the window"
        )
    start = history.start
    if history.last_rewind > start:
        return PartitionStatus(
            Status.REWIND,
            f"committed offset went backwards inside the window (now {current.committed}); "
            f"lag {current.lag}",
        )
    needed = policy.min_samples or history.size
    if len(window) < needed:
        return PartitionStatus(
            Status.OK, f"lag {current.lag}; window {len(window)}/{needed} samples, not judged yet"
        )
    if history.last_move <= start:
        moved_at = history.committed_since
        since = current.at - (window[0].at if moved_at is None else moved_at)
        if owned:
            return PartitionStatus(
                Status.STALL,
                f"consumer holds offset {current.committed} for {since:.1f}s while lag is "
                f"{current.lag}",
            )
        return PartitionStatus(
            Status.STOP,
            f"no commits for {since:.1f}s (offset {current.committed}), no live consumer, "
            f"lag {current.lag}",
        )
    if history.last_decrease <= start:
        return PartitionStatus(
            Status.WARN,
            f"lag grew across the window ({window[0].lag} -> {current.lag}); consumer too slow",
        )
    return PartitionStatus(Status.OK, f"consumer is making progress; lag {current.lag}")


@dataclass(frozen=True, slots=True)
class GroupStatus:
    """The status of a group: the worst partition's (errors as ERR), with completeness."""

    status: Status
    reason: str
    completeness: float


def evaluate_group(
    partitions: Iterable[tuple[str, PartitionStatus, float]], total_lag: int
) -> GroupStatus:
    """Combine partition statuses given as (label, status, completeness) triples."""
    worst: tuple[str, PartitionStatus] | None = None
    count = complete = not_ok = 0
    for label, partition_status, partition_completeness in partitions:
        count += 1
        if partition_completeness >= 1.0:
            complete += 1
        if partition_status.status is not Status.OK:
            not_ok += 1
            if worst is None or partition_status.status.severity > worst[1].status.severity:
                worst = (label, partition_status)
    return summarize_group(count, complete, not_ok, worst, total_lag)


def summarize_group(
    count: int,
    complete: int,
    not_ok: int,
    worst: tuple[str, PartitionStatus] | None,
    total_lag: int,
) -> GroupStatus:
    """A group's status from the tally of its partitions.

    The group's status is the worst partition status (STOP, STALL and REWIND count as ERR);
    completeness is the share of partitions with a full window, as in Burrow.
    """
    if count == 0:
        return GroupStatus(Status.OK, "no partitions with offsets yet", 0.0)
    completeness = complete / count
    if worst is None:
        return GroupStatus(
            Status.OK, f"all {count} partitions OK; total lag {total_lag}", completeness
        )
    label, partition_status = worst
    others = f" ({not_ok} of {count} partitions not OK)" if not_ok > 1 else ""
    return GroupStatus(
        partition_status.status.group_level,
        f"{label} {partition_status.status}: {partition_status.reason}{others}",
        completeness,
    )
