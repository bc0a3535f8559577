"""Consumer-group lag arithmetic: pure functions over plain offsets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.types import TopicPartition
from lagmonitor.lag import offset_lag


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
                lag=offset_lag(current, end),
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
