"""Plain data types shared by every engine backend.

These are the values that cross the `Cluster` protocol: what a producer hands in, what a
fetch hands back, and how topics and consumer groups are described. They carry no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import NamedTuple

Headers = tuple[tuple[str, bytes], ...]


class TopicPartition(NamedTuple):
    """A partition of a topic, the unit of ordering and of assignment."""

    topic: str
    partition: int


@dataclass(frozen=True, slots=True)
class Record:
    """A record to produce. `partition=None` lets the partitioner choose."""

    value: bytes | None
    key: bytes | None = None
    headers: Headers = ()
    timestamp_ms: int | None = None
    partition: int | None = None


@dataclass(frozen=True, slots=True)
class RecordMetadata:
    """Where a produced record landed."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int


@dataclass(frozen=True, slots=True)
class ConsumedRecord:
    """A record read back from the log, with its coordinates."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: Headers = ()

    @property
    def topic_partition(self) -> TopicPartition:
        """The partition this record was read from."""
        return TopicPartition(self.topic, self.partition)


@dataclass(frozen=True, slots=True)
class PartitionInfo:
    """One partition of a described topic: its earliest and latest (log-end) offsets, and
    the bytes it currently holds (`size_bytes`, None where the backend cannot tell)."""

    partition: int
    earliest_offset: int
    latest_offset: int
    size_bytes: int | None = None

    @property
    def record_count(self) -> int:
        """Offsets currently held (compaction can make the real count smaller)."""
        return self.latest_offset - self.earliest_offset


@dataclass(frozen=True, slots=True)
class TopicSettings:
    """A topic's partition count and effective config, without its offsets."""

    partitions: int
    config: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TopicDescription:
    """A topic with its partitions and its effective configuration."""

    name: str
    partitions: tuple[PartitionInfo, ...]
    config: dict[str, str] = field(default_factory=dict)
    internal: bool = False


class OffsetSpec(Enum):
    """Symbolic positions in a partition for `Cluster.list_offsets`."""

    EARLIEST = "earliest"
    LATEST = "latest"


@dataclass(frozen=True, slots=True)
class OffsetAndMetadata:
    """A committed consumer-group offset: the next offset the group will read."""

    offset: int
    metadata: str = ""


class GroupState(StrEnum):
    """Consumer-group states, named as Kafka names them."""

    EMPTY = "Empty"
    STABLE = "Stable"
    PREPARING_REBALANCE = "PreparingRebalance"
    COMPLETING_REBALANCE = "CompletingRebalance"
    DEAD = "Dead"
    UNKNOWN = "Unknown"


@dataclass(frozen=True, slots=True)
class MemberDescription:
    """A live member of a consumer group and the partitions assigned to it."""

    member_id: str
    client_id: str
    host: str
    assignment: tuple[TopicPartition, ...] = ()


@dataclass(frozen=True, slots=True)
class GroupListing:
    """A consumer group as `list_groups` reports it."""

    group_id: str
    state: GroupState


@dataclass(frozen=True, slots=True)
class GroupDescription:
    """A consumer group with its members and their assignment."""

    group_id: str
    state: GroupState
    protocol: str = ""
    members: tuple[MemberDescription, ...] = ()
    generation: int = 0
