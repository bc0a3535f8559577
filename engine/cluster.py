"""The `Cluster` protocol: one interface over the embedded engine and Apache Kafka.

Every component talks to a `Cluster` and never to a backend directly, so the whole suite runs
unchanged on `EmbeddedCluster` (SQLite) and on `KafkaCluster` (confluent-kafka).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Literal, Protocol, runtime_checkable

from engine.types import (
    ConsumedRecord,
    GroupDescription,
    GroupListing,
    Headers,
    OffsetAndMetadata,
    OffsetSpec,
    Record,
    RecordMetadata,
    TopicDescription,
    TopicPartition,
    TopicSettings,
)

#: Where a consumer without a committed offset starts.
AutoOffsetReset = Literal["earliest", "latest", "error"]

#: Partition assignment strategies every backend supports.
Assignor = Literal["range", "roundrobin"]

DEFAULT_FETCH_MAX_RECORDS = 500
DEFAULT_FETCH_MAX_BYTES = 1024 * 1024


@runtime_checkable
class Producer(Protocol):
    """Sends records; `flush` returns once every sent record is durable (acknowledged)."""

    def send(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None = None,
        *,
        headers: Headers = (),
        partition: int | None = None,
        timestamp_ms: int | None = None,
    ) -> None:
        """Queue one record; it is acknowledged by the next `flush`."""
        ...

    def flush(self, timeout: float | None = None) -> list[RecordMetadata]:
        """Make every queued record durable and return where each landed, in send order."""
        ...

    def close(self) -> None:
        """Flush and release resources."""
        ...


@runtime_checkable
class Consumer(Protocol):
    """A consumer, optionally a member of a consumer group (Kafka's subscribe semantics)."""

    def subscribe(self, topics: Sequence[str]) -> None:
        """Join the group and take part in partition assignment for these topics."""
        ...

    def assign(self, partitions: Sequence[TopicPartition]) -> None:
        """Read exactly these partitions, without group membership."""
        ...

    def assignment(self) -> list[TopicPartition]:
        """The partitions this consumer currently reads."""
        ...

    def poll(self, timeout: float = 1.0, max_records: int = 500) -> list[ConsumedRecord]:
        """Return the next records (possibly none after `timeout` seconds); keeps membership."""
        ...

    def commit(self, offsets: Mapping[TopicPartition, OffsetAndMetadata] | None = None) -> None:
        """Commit the given offsets, or the current positions when none are given."""
        ...

    def seek(self, partition: TopicPartition, offset: int) -> None:
        """Set the next offset to read from an assigned partition."""
        ...

    def position(self, partition: TopicPartition) -> int:
        """The next offset this consumer will read from the partition."""
        ...

    def close(self) -> None:
        """Leave the group (triggering a rebalance for the others) and release resources."""
        ...


@runtime_checkable
class Cluster(Protocol):
    """A stream cluster: topics, the partitioned log, and consumer groups."""

    #: A short human name for this cluster (embedded cluster name or bootstrap servers).
    name: str
    #: Whether an offset that `fetch` skips in a topic that is not compacted (no record there,
    #: between the earliest and the latest offset) may have held a record that readers saw:
    #: True on the embedded engine, where such a gap is lost data (see `recover`) or an
    #: aborted transaction's records, readable while it was open; False on Kafka, whose
    #: read_committed fetches skip only transaction markers and aborted records nobody read.
    gaps_hide_records: bool

    # -- topics ------------------------------------------------------------------------------
    def create_topic(
        self, name: str, partitions: int = 1, config: Mapping[str, str] | None = None
    ) -> None:
        """Create a topic; raises `TopicAlreadyExistsError`, `InvalidTopicError`, ..."""
        ...

    def delete_topic(self, name: str) -> None:
        """Delete a topic and its records."""
        ...

    def list_topics(self, include_internal: bool = False) -> list[str]:
        """Topic names, sorted. Internal topics start with `_` or `__`."""
        ...

    def describe_topic(self, name: str) -> TopicDescription:
        """Partitions with earliest/latest offsets and (where the backend can tell) the bytes
        each holds, and the effective config."""
        ...

    def topic_settings(self, names: Sequence[str]) -> dict[str, TopicSettings]:
        """Partition count and effective config of each named topic that exists, in one
        round trip and without reading offsets (what a plan compares). Topics that do not
        exist are left out."""
        ...

    def add_partitions(self, name: str, total: int) -> None:
        """Grow the topic to `total` partitions (never shrinks)."""
        ...

    def alter_topic_config(self, name: str, updates: Mapping[str, str | None]) -> None:
        """Set config keys; a value of None resets the key to its default."""
        ...

    # -- the log -----------------------------------------------------------------------------
    def produce(self, topic: str, records: Sequence[Record]) -> list[RecordMetadata]:
        """Append records atomically (all or none) and return where each landed."""
        ...

    def fetch(
        self,
        topic: str,
        partition: int,
        offset: int,
        max_records: int = DEFAULT_FETCH_MAX_RECORDS,
        max_bytes: int = DEFAULT_FETCH_MAX_BYTES,
    ) -> list[ConsumedRecord]:
        """Records from `offset` on; `OffsetOutOfRangeError` outside [earliest, latest].

        An empty answer for an offset below the latest one means the offsets from there up to
        the latest offset seen by the fetch hold no records (compacted gaps, Kafka's
        transaction markers); a backend that cannot tell raises `ClusterUnavailableError`."""
        ...

    def list_offsets(self, topic: str, spec: OffsetSpec | int) -> dict[int, int]:
        """Per partition: the earliest or latest offset, or for an int timestamp (ms) the first
        offset whose timestamp is at or after it (the latest offset when there is none)."""
        ...

    # -- consumer groups ---------------------------------------------------------------------
    def commit_offsets(
        self, group_id: str, offsets: Mapping[TopicPartition, OffsetAndMetadata]
    ) -> None:
        """Commit offsets for a group (as an admin / simple consumer would)."""
        ...

    def committed_offsets(
        self, group_id: str, topics: Iterable[str] | None = None
    ) -> dict[TopicPartition, OffsetAndMetadata]:
        """The group's committed offsets, optionally only for some topics."""
        ...

    def list_groups(self) -> list[GroupListing]:
        """Every consumer group that has members or committed offsets."""
        ...

    def describe_group(self, group_id: str) -> GroupDescription:
        """State, protocol, generation and members with their assignment."""
        ...

    def delete_group(self, group_id: str) -> None:
        """Delete an empty group and its offsets; `GroupNotEmptyError` if it has members."""
        ...

    # -- clients -----------------------------------------------------------------------------
    def producer(self, **options: object) -> Producer:
        """A producer bound to this cluster."""
        ...

    def consumer(
        self,
        group_id: str | None = None,
        *,
        auto_offset_reset: AutoOffsetReset = "latest",
        assignor: Assignor = "range",
        session_timeout_ms: int = 10_000,
        heartbeat_interval_ms: int = 3_000,
        client_id: str = "streamgov",
        **options: object,
    ) -> Consumer:
        """A consumer bound to this cluster; with `group_id` it can `subscribe`."""
        ...

    def close(self) -> None:
        """Release connections and background work."""
        ...
