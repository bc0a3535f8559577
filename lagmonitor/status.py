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

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lagmonitor.model import Status
from lagmonitor.window import NO_COMMIT, GroupWindow


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


class PartitionStatus:
    """The status of one partition and why.

    The reason is kept as a template and its values and formatted only when read, so a cycle
    over many partitions does not pay for text nobody looks at.
    """

    __slots__ = ("_args", "_template", "status")

    def __init__(self, status: Status, template: str, *args: object) -> None:
        self.status = status
        self._template = template
        self._args = args

    @property
    def reason(self) -> str:
        """The reason in words."""
        return self._template.format(*self._args) if self._args else self._template

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PartitionStatus):
            return NotImplemented
        return self.status is other.status and self.reason == other.reason

    def __hash__(self) -> int:
        return hash((self.status, self.reason))

    def __repr__(self) -> str:
        return f"PartitionStatus({self.status.value}, {self.reason!r})"


NO_SAMPLES = PartitionStatus(Status.OK, "no samples yet")
#: The status of a partition with a commit and no lag (shared: it is by far the most common).
CAUGHT_UP = PartitionStatus(Status.OK, "caught up (no lag)")
_DEFAULT_POLICY = StatusPolicy()


def evaluate_partition(
    window: GroupWindow, index: int, owned: bool, policy: StatusPolicy = _DEFAULT_POLICY
) -> PartitionStatus:
    """Apply the rules to partition `index` of a group's window; `owned` says a live member
    holds it."""
    return evaluate_partitions(window, (index,), lambda _: owned, policy)[0]


def evaluate_partitions(
    window: GroupWindow,
    indices: Iterable[int],
    owned: Callable[[int], bool],
    policy: StatusPolicy = _DEFAULT_POLICY,
) -> list[PartitionStatus]:
    """Apply the rules to the given partitions of a group's window, in one loop.

    `owned(index)` says whether a live member holds a partition (asked only for partitions
    whose offset stands still).
    """
    size, seq = window.size, window.seq
    newest = (seq - 1) % size
    now = window.times[newest]
    lags, committed_ring, first = window.lags, window.committed, window.first
    last_rewind, last_move = window.last_rewind, window.last_move
    allowed = policy.allowed_lag
    needed = policy.min_samples or size
    statuses: list[PartitionStatus] = []
    append = statuses.append
    for index in indices:
        count = seq - first[index]
        if count <= 0:
            append(NO_SAMPLES)
            continue
        if count > size:
            count = size
        base = index * size
        lag = lags[base + newest]
        committed = committed_ring[base + newest]
        if committed == NO_COMMIT:
            append(
                PartitionStatus(Status.OK, "no committed offset; lag counted as {} by policy", lag)
            )
        elif lag <= allowed:
            if allowed:
                append(PartitionStatus(Status.OK, "caught up (lag {} <= {})", lag, allowed))
            else:
                append(CAUGHT_UP)
        elif (min(lags[base : base + size]) if count == size else window.min_lag(index)) <= allowed:
            append(
                PartitionStatus(
                    Status.OK, "lag {}, but it was within {} inside the window", lag, allowed
                )
            )
        elif last_rewind[index] > seq - count:
            append(
                PartitionStatus(
                    Status.REWIND,
                    "committed offset went backwards inside the window (now {}); lag {}",
                    committed,
                    lag,
                )
            )
        elif count < needed:
            append(
                PartitionStatus(
                    Status.OK, "lag {}; window {}/{} samples, not judged yet", lag, count, needed
                )
            )
        elif last_move[index] <= seq - count:
            append(_stuck(committed, lag, now - window.moved_at[index], owned(index)))
        elif window.last_decrease[index] <= seq - count:
            oldest = base + (seq - count) % size
            append(
                PartitionStatus(
                    Status.WARN,
                    "lag grew across the window ({} -> {}); consumer too slow",
                    lags[oldest],
                    lag,
                )
            )
        else:
            append(PartitionStatus(Status.OK, "consumer is making progress; lag {}", lag))
    return statuses


def _stuck(committed: int, lag: int, since: float, owned: bool) -> PartitionStatus:
    """STALL when a live member owns the partition, else STOP."""
    if owned:
        return PartitionStatus(
            Status.STALL,
            "consumer holds offset {} for {:.1f}s while lag is {}",
            committed,
            since,
            lag,
        )
    return PartitionStatus(
        Status.STOP,
        "no commits for {:.1f}s (offset {}), no live consumer, lag {}",
        since,
        committed,
        lag,
    )


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
