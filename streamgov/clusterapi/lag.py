"""Consumer-group lag and offset-reset arithmetic: pure functions over plain offsets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.types import TopicPartition


@dataclass(frozen=True, slots=True)
class Owner:
    """The group member a partition is assigned to."""

    consumer_id: str
    client_id: str


NO_OWNER = Owner("", "")


@dataclass(frozen=True, slots=True)
class PartitionLag:
    """A group's position on one partition and how far it is behind the log end."""

    topic: str
    partition: int
    current_offset: int
    log_end_offset: int
    lag: int
    owner: Owner


def partition_lags(
    committed: Mapping[TopicPartition, int],
    log_end: Mapping[TopicPartition, int],
    owners: Mapping[TopicPartition, Owner],
) -> list[PartitionLag]:
    """Lag per committed partition (log end minus commit, never negative), sorted.

    Partitions missing from `log_end` (their topic was deleted) are left out.
    """
    lags = []
    for tp in sorted(committed):
        if tp not in log_end:
            continue
        end = log_end[tp]
        current = committed[tp]
        lags.append(
            PartitionLag(
                topic=tp.topic,
                partition=tp.partition,
                current_offset=current,
                log_end_offset=end,
                lag=max(0, end - current),
                owner=owners.get(tp, NO_OWNER),
            )
        )
    return lags


def max_lag(lags: list[PartitionLag]) -> PartitionLag | None:
    """The partition lagging most (the first in sort order on ties), or None without lags."""
    best: PartitionLag | None = None
    for lag in lags:
        if best is None or lag.lag > best.lag:
            best = lag
    return best


def clamp(offset: int, earliest: int, latest: int) -> int:
    """Bring an offset into a partition's valid range [earliest, latest]."""
    return max(earliest, min(latest, offset))


def reset_target(
    position: str,
    value: int | None,
    *,
    current: int | None,
    earliest: int,
    latest: int,
    at_timestamp: int | None = None,
) -> int:
    """The offset a reset moves a partition to, clamped into [earliest, latest].

    `at_timestamp` is the first offset at or after the requested timestamp (TIMESTAMP only).
    SHIFT_BY from a partition with no commit shifts from the earliest offset.
    """
    if position == "EARLIEST":
        target = earliest
    elif position == "LATEST":
        target = latest
    elif position == "OFFSET":
        target = _required(value, position)
    elif position == "TIMESTAMP":
        _required(value, position)
        target = latest if at_timestamp is None else at_timestamp
    elif position == "SHIFT_BY":
        target = (earliest if current is None else current) + _required(value, position)
    else:
        raise ValueError(f"unknown reset position {position!r}")
    return clamp(target, earliest, latest)


def _required(value: int | None, position: str) -> int:
    if value is None:
        raise ValueError(f"position {position} needs a 'value'")
    return value
