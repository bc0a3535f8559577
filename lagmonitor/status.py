"""Burrow-style health of partitions and groups: pure rules over sample windows.

Burrow evaluates a ring of commits; the monitor polls, so its window holds one sample per
interval (committed offset, log end, lag). A partition whose current lag is within the allowed
lag is OK; otherwise the rules apply in Burrow's order, the first that holds deciding:

1. STOP: the committed offset did not move across a full window, no live member owns the
   partition, and the lag was never within the allowed lag inside the window (Burrow spares a
   consumer that was caught up recently).
2. REWIND: the committed offset went backwards inside the window and has not recovered since:
   the first decrease counts, and it is recovered once a later commit reaches the offset
   committed just before it (Burrow since 1.4.0), so a rebalance that re-reads a few records
   is not an error.
3. The lag was within the allowed lag somewhere in the window: OK.
4. A window shorter than `min_samples` (the full window by default): PENDING, not judged yet.
5. STALL: the committed offset did not move across the window while a live member owns it.
6. WARN: the offset moves but the lag never decreased across the window.
7. Otherwise OK.

Polling cannot tell "commits stopped" from "commits repeat the same offset", so membership
splits STOP (consumer gone) from STALL (alive, not progressing). A partition without a
committed offset is OK (its lag is counted per the no-commit policy); one never sampled is
PENDING. Completeness says how much of a partition's window is filled.

A cycle records for each partition only its `Verdict` (which rule decided, one byte); the
status with its reason in words is built from the window by `describe` when it is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from lagmonitor.model import Status
from lagmonitor.window import NO_COMMIT, Bools, GroupWindow, Ints, WindowStore


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
    """The status of one partition and why (the reason is formatted only when read)."""

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


NO_SAMPLES = PartitionStatus(Status.PENDING, "no samples yet, not judged yet")
#: The status of a partition with a commit and no lag (shared: it is by far the most common).
CAUGHT_UP = PartitionStatus(Status.OK, "caught up (no lag)")
_DEFAULT_POLICY = StatusPolicy()


class Verdict(IntEnum):
    """Which rule decided a partition's status: one byte per partition in a group's cycle.

    The reason's values (lag, offsets, times) are all in the window, so the status with its
    reason is built from the verdict only when someone reads it (`describe`).
    """

    CAUGHT_UP = 0
    NO_SAMPLES = 1
    NO_COMMIT = 2
    WITHIN_ALLOWED = 3
    WAS_WITHIN = 4
    NOT_JUDGED = 5
    PROGRESS = 6
    WARN = 7
    STOP = 8
    STALL = 9
    REWIND = 10


#: Verdicts that are not OK, worst first (the order of `SEVERITY`).
FAILING = (Verdict.REWIND, Verdict.STALL, Verdict.STOP, Verdict.WARN)
#: Verdicts that say "not judged yet".
PENDING = (Verdict.NOT_JUDGED, Verdict.NO_SAMPLES)


def evaluate_partition(
    window: GroupWindow, index: int, owned: bool, policy: StatusPolicy = _DEFAULT_POLICY
) -> PartitionStatus:
    """Apply the rules to partition `index` of a group's window; `owned` says a live member
    holds it."""
    rows = window.rows[index : index + 1]
    seq = np.full(1, window.seq, np.int64)
    verdict = judge(window.store, rows, seq, lambda asked: np.full(len(asked), owned), policy)
    return describe(window, index, Verdict(int(verdict[0])), policy)


def judge(
    store: WindowStore,
    rows: Ints,
    seq: Ints,
    owned: Callable[[Ints], Bools],
    policy: StatusPolicy = _DEFAULT_POLICY,
) -> npt.NDArray[np.uint8]:
    """The `Verdict` of each row of `store` in `rows`, whose group has taken `seq[i]` samples,
    by the rules above applied to all rows at once.

    `owned(positions)` says, for positions into `rows`, whether a live member holds the
    partition (asked only for partitions whose offset stood still across a window long enough
    to be judged).
    """
    size = store.size
    allowed = policy.allowed_lag
    needed = policy.min_samples or size
    count = np.minimum(seq - store.first[rows], size)
    newest = (seq - 1) % size
    lag = store.lags[rows, newest]
    verdicts = np.full(len(rows), _WITHIN_ALLOWED if allowed else _CAUGHT_UP, np.uint8)
    verdicts[store.committed[rows, newest] == NO_COMMIT] = _NO_COMMIT
    verdicts[count <= 0] = _NO_SAMPLES
    # The rules, for partitions with a commit and lag beyond the allowed lag.
    ruled = np.flatnonzero((lag > allowed) & (verdicts != _NO_COMMIT) & (verdicts != _NO_SAMPLES))
    if not len(ruled):
        return verdicts
    at = rows[ruled]
    count, seq, newest = count[ruled], seq[ruled], newest[ruled]
    start = seq - count
    lags = store.lags[at]
    if (count < size).any():  # only the slots inside the window count
        back = (newest[:, None] - np.arange(size)) % size
        lags = np.where(back < count[:, None], lags, np.iinfo(np.int64).max)
    lowest = lags.min(axis=1)
    still = store.last_move[at] <= start  # the offset stood still across the window
    stop_branch = still & (count >= needed)
    if stop_branch.any():
        asked = np.flatnonzero(stop_branch)
        stop_branch[asked] = ~owned(ruled[asked])
    # Burrow spares a stopped consumer whose lag was zero recently.
    stop = stop_branch & (lowest > allowed)
    rewind = ~stop_branch & (store.last_rewind[at] > start)
    for i in np.flatnonzero(rewind).tolist():
        rewind[i] = not _recovered(store, int(at[i]), int(count[i]), int(seq[i]))
    result = np.select(
        [
            stop,
            rewind,
            lowest <= allowed,
            count < needed,
            still,  # not owned took the STOP branch above
            store.last_decrease[at] <= start,
        ],
        [_STOP, _REWIND, _WAS_WITHIN, _NOT_JUDGED, _STALL, _WARN],
        _PROGRESS,
    )
    verdicts[ruled] = result
    return verdicts


def _recovered(store: WindowStore, row: int, count: int, seq: int) -> bool:
    """Burrow's rewind rule: take the first commit inside the window that is lower than the one
    before it; the partition has recovered when that commit or a later one reaches the earlier
    offset. Called only for partitions with a rewind in the window, so the scan is rare."""
    size = store.size
    ring = store.committed[row].tolist()
    offsets = [ring[(seq - 1 - back) % size] for back in range(count - 1, -1, -1)]
    for position in range(1, count):
        before, after = offsets[position - 1], offsets[position]
        if before != NO_COMMIT and after != NO_COMMIT and after < before:
            return any(offset >= before for offset in offsets[position:])
    return True


# Plain ints for the rules (an enum member costs an attribute lookup each time).
_CAUGHT_UP, _NO_SAMPLES, _NO_COMMIT, _WITHIN_ALLOWED, _WAS_WITHIN, _NOT_JUDGED = range(6)
_PROGRESS, _WARN, _STOP, _STALL, _REWIND = range(6, 11)


def describe(
    window: GroupWindow, index: int, verdict: Verdict, policy: StatusPolicy = _DEFAULT_POLICY
) -> PartitionStatus:
    """The status and reason of partition `index` given its verdict from the current window."""
    if verdict is Verdict.CAUGHT_UP:
        return CAUGHT_UP
    if verdict is Verdict.NO_SAMPLES:
        return NO_SAMPLES
    count = window.count(index)
    committed, _, lag = window.sample(index)
    allowed = policy.allowed_lag
    if verdict is Verdict.NO_COMMIT:
        return PartitionStatus(Status.OK, "no committed offset; lag counted as {} by policy", lag)
    if verdict is Verdict.WITHIN_ALLOWED:
        return PartitionStatus(Status.OK, "caught up (lag {} <= {})", lag, allowed)
    if verdict is Verdict.WAS_WITHIN:
        return PartitionStatus(
            Status.OK, "lag {}, but it was within {} inside the window", lag, allowed
        )
    if verdict is Verdict.NOT_JUDGED:
        needed = policy.min_samples or window.size
        return PartitionStatus(
            Status.PENDING, "lag {}; window {}/{} samples, not judged yet", lag, count, needed
        )
    if verdict is Verdict.REWIND:
        return PartitionStatus(
            Status.REWIND,
            "committed offset went backwards inside the window and has not recovered "
            "(now {}); lag {}",
            committed,
            lag,
        )
    if verdict is Verdict.STALL or verdict is Verdict.STOP:
        since = window.time() - window.moved_at(index)
        if verdict is Verdict.STALL:
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
    if verdict is Verdict.WARN:
        return PartitionStatus(
            Status.WARN,
            "lag grew across the window ({} -> {}); consumer too slow",
            window.sample(index, count - 1)[2],
            lag,
        )
    return PartitionStatus(Status.OK, "consumer is making progress; lag {}", lag)


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
