"""`KafkaCluster`: the engine's `Cluster` protocol over confluent-kafka (AdminClient, Producer,
Consumer).

Topic names and configuration are validated client-side with `engine.topics`, so both backends
refuse the same inputs with the same messages. Every broker call has a bounded timeout; an
unreachable cluster is a `ClusterUnavailableError`, never a hang.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

import confluent_kafka
from confluent_kafka import admin as kadmin

from engine import topics as topic_rules
from engine.cluster import (
    DEFAULT_FETCH_MAX_BYTES,
    DEFAULT_FETCH_MAX_RECORDS,
    Assignor,
    AutoOffsetReset,
)
from engine.errors import (
    ClusterUnavailableError,
    EngineError,
    GroupIdNotFoundError,
    GroupNotEmptyError,
    InvalidPartitionsError,
    OffsetOutOfRangeError,
    RecordTooLargeError,
    UnknownTopicOrPartitionError,
    UnsupportedByBackendError,
)
from engine.kafka.clients import (
    DeliveryOutcome,
    KafkaConsumer,
    KafkaProducer,
    send_with_backpressure,
    to_consumed,
)
from engine.kafka.errors import kafka_error_of, translate, translate_exception
from engine.resets import group_is_active
from engine.types import (
    ConsumedRecord,
    GroupDescription,
    GroupListing,
    GroupState,
    MemberDescription,
    OffsetAndMetadata,
    OffsetSpec,
    PartitionInfo,
    Record,
    RecordMetadata,
    TopicDescription,
    TopicPartition,
    TopicSettings,
)

T = TypeVar("T")

#: librdkafka's own log lines (connection failures and the like) go to Python logging here,
#: not to stderr; an application that configures logging sees them.
LIBRDKAFKA_LOGGER = logging.getLogger("engine.kafka.librdkafka")
LIBRDKAFKA_LOGGER.addHandler(logging.NullHandler())

_GROUP_STATES = {
    confluent_kafka.ConsumerGroupState.EMPTY: GroupState.EMPTY,
    confluent_kafka.ConsumerGroupState.STABLE: GroupState.STABLE,
    confluent_kafka.ConsumerGroupState.PREPARING_REBALANCING: GroupState.PREPARING_REBALANCE,
    confluent_kafka.ConsumerGroupState.COMPLETING_REBALANCING: GroupState.COMPLETING_REBALANCE,
    confluent_kafka.ConsumerGroupState.DEAD: GroupState.DEAD,
}

#: How long `fetch` waits for the first record of a range the broker says exists.
_FETCH_FIRST_WAIT_S = 5.0
_FETCH_POLL_S = 0.01


def record_size(record: Record) -> int:
    """The bytes `max.message.bytes` is checked against: key + value + header names and values."""
    size = len(record.key or b"") + len(record.value or b"")
    for name, value in record.headers:
        size += len(name.encode()) + len(value)
    return size


def _librdkafka_config(config: Mapping[str, object]) -> dict[str, Any]:
    """Keyword options as librdkafka properties (`security_protocol` -> `security.protocol`)."""
    return {(key if "." in key else key.replace("_", ".")): value for key, value in config.items()}


class KafkaCluster:
    """The `Cluster` protocol over an Apache Kafka (or Kafka-protocol) cluster.

    `config` holds extra librdkafka properties for every client (security settings and the
    like). `timeout` bounds every broker round trip. `atomic_produce` makes each `produce` call
    of several records one transaction (all records or none); when the broker refuses
    transactions the cluster falls back to the idempotent producer, `atomic_produce` reads
    False and `atomic_produce_limitation` says why.
    """

    #: Fetches are read_committed: the offsets they skip are transaction markers and aborted
    #: records (see `Cluster.gaps_hide_records`).
    gaps_hide_records = False

    def __init__(
        self,
        bootstrap: str,
        *,
        name: str | None = None,
        timeout: float = 10.0,
        connect_timeout: float = 5.0,
        atomic_produce: bool = True,
        **config: object,
    ) -> None:
        self.name = name or bootstrap
        self.bootstrap = bootstrap
        self._timeout = timeout
        self._base: dict[str, Any] = {
            "allow.auto.create.topics": False,
            "logger": LIBRDKAFKA_LOGGER,
            **_librdkafka_config(config),
            "bootstrap.servers": bootstrap,
        }
        self._admin = kadmin.AdminClient(
            {**self._base, "socket.connection.setup.timeout.ms": int(connect_timeout * 1000)}
        )
        self._lock = threading.Lock()
        self._produce_lock = threading.Lock()
        self._fetch_lock = threading.Lock()
        self._atomic_wanted = atomic_produce
        self._txn_producer: confluent_kafka.Producer | None = None
        self._plain_producer: confluent_kafka.Producer | None = None
        #: Partition counts the producers last saw per topic (see `_check_records`).
        self._producer_partitions: dict[str, int] = {}
        self.atomic_produce_limitation = ""
        self._fetcher: confluent_kafka.Consumer | None = None
        self._closed = False
        try:
            self._admin.list_topics(timeout=connect_timeout)
        except Exception as exc:
            error = kafka_error_of(exc)
            reason = f" ({error.str()})" if error is not None and error.str() else ""
            raise ClusterUnavailableError(
                f"Kafka cluster at {bootstrap} is unreachable: no answer within "
                f"{connect_timeout:g}s{reason}"
            ) from exc

    # -- helpers -------------------------------------------------------------------------------
    def _wait(self, future: Future[T], doing: str, resource: str = "") -> T:
        try:
            return future.result(timeout=self._timeout)
        except Exception as exc:
            raise translate_exception(exc, doing, resource) from exc

    def _metadata(self, topic: str | None = None) -> Any:
        try:
            return self._admin.list_topics(topic, timeout=self._timeout)
        except Exception as exc:
            raise translate_exception(exc, "read cluster metadata") from exc

    def _partition_count(self, topic: str) -> int:
        """The topic's partition count; `UnknownTopicOrPartitionError` if it does not exist."""
        topic_rules.validate_topic_name(topic)
        metadata = self._metadata(topic).topics.get(topic)
        if metadata is None or metadata.error is not None or not metadata.partitions:
            raise UnknownTopicOrPartitionError(f"topic {topic!r} does not exist")
        return len(metadata.partitions)

    def _check_partition(self, topic: str, partition: int) -> int:
        count = self._partition_count(topic)
        if not 0 <= partition < count:
            raise UnknownTopicOrPartitionError(
                f"Unknown partition {partition} of topic {topic!r} (it has {count} partitions)"
            )
        return count

    def _topic_overrides(self, topic: str) -> dict[str, str]:
        resource = kadmin.ConfigResource(kadmin.ResourceType.TOPIC, topic)
        entries = self._wait(
            self._admin.describe_configs([resource])[resource], "describe the config of", topic
        )
        return {
            key: entry.value
            for key, entry in entries.items()
            if entry.value is not None and not entry.is_sensitive
        }

    # -- topics --------------------------------------------------------------------------------
    def create_topic(
        self, name: str, partitions: int = 1, config: Mapping[str, str] | None = None
    ) -> None:
        """Create a topic; `TopicAlreadyExistsError`, `InvalidTopicError`, ... as Kafka does."""
        topic_rules.validate_topic_name(name)
        topic_rules.validate_partitions(partitions)
        checked = {k: v for k, v in topic_rules.validate_config(config).items() if v is not None}
        new = kadmin.NewTopic(name, num_partitions=partitions, config=checked)
        self._wait(self._admin.create_topics([new])[name], "create topic", name)
        self._await_metadata(name, partitions)

    def _await_metadata(self, name: str, partitions: int | None) -> None:
        """Wait until metadata shows the topic (with `partitions`), or is gone when None."""
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            found = self._metadata(name).topics.get(name)
            present = found is not None and found.error is None and bool(found.partitions)
            if partitions is None and not present:
                return
            if partitions is not None and present and len(found.partitions) >= partitions:
                return
            time.sleep(0.05)

    def delete_topic(self, name: str) -> None:
        """Delete a topic and its records."""
        topic_rules.validate_topic_name(name)
        self._wait(self._admin.delete_topics([name])[name], "delete topic", name)
        self._await_metadata(name, None)

    def list_topics(self, include_internal: bool = False) -> list[str]:
        """Topic names, sorted; internal ones (leading `_`) only when asked for."""
        names = self._metadata().topics
        return sorted(n for n in names if include_internal or not topic_rules.is_internal(n))

    def describe_topic(self, name: str) -> TopicDescription:
        """Partitions with earliest/latest offsets, and the effective config.

        Partition sizes are None: they need the DescribeLogDirs API, which the confluent-kafka
        AdminClient does not offer."""
        count = self._partition_count(name)
        earliest = self.list_offsets(name, OffsetSpec.EARLIEST)
        latest = self.list_offsets(name, OffsetSpec.LATEST)
        overrides = self._topic_overrides(name)
        return TopicDescription(
            name=name,
            partitions=tuple(
                PartitionInfo(p, earliest[p], max(latest[p], earliest[p])) for p in range(count)
            ),
            config=topic_rules.effective_config(overrides),
            internal=topic_rules.is_internal(name),
        )

    def topic_settings(self, names: Sequence[str]) -> dict[str, TopicSettings]:
        """Partition counts from one metadata request, configs from one DescribeConfigs
        request for every named topic that exists."""
        listed = self._metadata().topics
        counts = {
            name: len(listed[name].partitions)
            for name in names
            if name in listed and listed[name].error is None and listed[name].partitions
        }
        if not counts:
            return {}
        resources = [kadmin.ConfigResource(kadmin.ResourceType.TOPIC, name) for name in counts]
        futures = self._admin.describe_configs(resources)
        out: dict[str, TopicSettings] = {}
        for resource in resources:
            try:
                entries = self._wait(futures[resource], "describe the config of", resource.name)
            except UnknownTopicOrPartitionError:
                continue  # deleted since the metadata was read
            overrides = {
                key: entry.value
                for key, entry in entries.items()
                if entry.value is not None and not entry.is_sensitive
            }
            out[resource.name] = TopicSettings(
                counts[resource.name], topic_rules.effective_config(overrides)
            )
        return out

    def add_partitions(self, name: str, total: int) -> None:
        """Grow the topic to `total` partitions (never shrinks)."""
        topic_rules.validate_partitions(total)
        current = self._partition_count(name)
        if total <= current:
            raise InvalidPartitionsError(
                f"Topic {name!r} currently has {current} partitions, {total} would not be an "
                "increase"
            )
        request = kadmin.NewPartitions(name, total)
        try:
            self._wait(self._admin.create_partitions([request])[name], "add partitions to", name)
        except UnsupportedByBackendError as exc:
            raise UnsupportedByBackendError(
                f"This Kafka cluster cannot add partitions to {name!r}: the broker does not "
                "support the CreatePartitions API"
            ) from exc
        self._await_metadata(name, total)

    def alter_topic_config(self, name: str, updates: Mapping[str, str | None]) -> None:
        """Set config keys; a value of None resets the key to its default."""
        checked = topic_rules.validate_config(updates)
        self._partition_count(name)
        if not checked:
            return
        entries = [
            kadmin.ConfigEntry(
                key,
                value,
                incremental_operation=(
                    kadmin.AlterConfigOpType.DELETE
                    if value is None
                    else kadmin.AlterConfigOpType.SET
                ),
            )
            for key, value in checked.items()
        ]
        resource = kadmin.ConfigResource(
            kadmin.ResourceType.TOPIC, name, incremental_configs=entries
        )
        futures = self._admin.incremental_alter_configs([resource])
        for future in futures.values():
            self._wait(future, "alter the config of topic", name)

    # -- the log -------------------------------------------------------------------------------
    def _plain(self) -> confluent_kafka.Producer:
        """The idempotent, non-transactional producer (single records, and the fallback)."""
        with self._lock:
            if self._plain_producer is None:
                self._plain_producer = confluent_kafka.Producer(
                    {
                        **self._base,
                        "partitioner": "murmur2_random",
                        "enable.idempotence": True,
                        "linger.ms": 0,
                    }
                )
            return self._plain_producer

    def _transactional_producer(self) -> confluent_kafka.Producer | None:
        """The transactional producer, or None when not wanted or the broker refuses it.

        Called with `_produce_lock` held."""
        if self._txn_producer is not None or not self._atomic_wanted:
            return self._txn_producer
        if self.atomic_produce_limitation:
            return None
        producer = confluent_kafka.Producer(
            {
                **self._base,
                "partitioner": "murmur2_random",
                "enable.idempotence": True,
                "linger.ms": 0,
                "transactional.id": f"streamgov-{uuid.uuid4()}",
            }
        )
        try:
            producer.init_transactions(self._timeout)
        except confluent_kafka.KafkaException as exc:
            error = kafka_error_of(exc)
            self.atomic_produce_limitation = (
                f"the broker refused transactions ({error.name() if error else exc}); a "
                "produce call of several records that fails part-way may leave some written"
            )
            producer.close()
            return None
        self._txn_producer = producer
        return producer

    @property
    def atomic_produce(self) -> bool:
        """Whether every `produce` call is all-or-nothing (a transaction when it has several
        records; a single record is one batch, atomic by itself)."""
        with self._produce_lock:
            return self._transactional_producer() is not None

    def _check_records(self, topic: str, records: Sequence[Record]) -> None:
        count = self._partition_count(topic)
        seen = self._producer_partitions.setdefault(topic, count)
        if count > seen:
            # The topic grew (here or elsewhere): the producers keep their own metadata and
            # would refuse the new partitions until their periodic refresh; ask them now.
            for producer in (self._plain_producer, self._txn_producer):
                if producer is not None:
                    producer.list_topics(topic, timeout=self._timeout)
            self._producer_partitions[topic] = count
        limit = int(
            self._topic_overrides(topic).get(
                "max.message.bytes", topic_rules.DEFAULT_CONFIG["max.message.bytes"]
            )
        )
        for index, record in enumerate(records):
            if record.partition is not None and not 0 <= record.partition < count:
                raise UnknownTopicOrPartitionError(
                    f"Unknown partition {record.partition} of topic {topic!r} "
                    f"(it has {count} partitions); nothing was written"
                )
            size = record_size(record)
            if size > limit:
                raise RecordTooLargeError(
                    f"Record {index} is {size} bytes, larger than max.message.bytes={limit} "
                    f"of topic {topic!r}; nothing was written"
                )

    def produce(self, topic: str, records: Sequence[Record]) -> list[RecordMetadata]:
        """Append records atomically and return where each landed.

        One record is one batch, atomic by itself, and goes through the idempotent producer
        (no transaction, so no commit marker). Several records are one transaction."""
        if not records:
            return []
        self._check_records(topic, records)
        if len(records) == 1:
            return self._send_all(self._plain(), topic, records, transactional=False)
        with self._produce_lock:
            producer = self._transactional_producer()
            if producer is None:
                return self._send_all(self._plain(), topic, records, transactional=False)
            try:
                return self._send_all(producer, topic, records, transactional=True)
            except EngineError:
                self._abort(producer)
                raise

    def _send_all(
        self,
        producer: confluent_kafka.Producer,
        topic: str,
        records: Sequence[Record],
        *,
        transactional: bool,
    ) -> list[RecordMetadata]:
        outcomes = [DeliveryOutcome() for _ in records]
        try:
            if transactional:
                producer.begin_transaction()
            for outcome, record in zip(outcomes, records, strict=True):
                send_with_backpressure(
                    producer,
                    topic,
                    value=record.value,
                    key=record.key,
                    headers=list(record.headers),
                    partition=-1 if record.partition is None else record.partition,
                    timestamp=record.timestamp_ms or 0,
                    on_delivery=outcome.delivered,
                )
            # Other threads may share the idempotent producer: wait for this call's records.
            deadline = time.monotonic() + self._timeout
            while any(o.result is None for o in outcomes) and time.monotonic() < deadline:
                producer.flush(max(0.0, deadline - time.monotonic()))
            for outcome in outcomes:
                if isinstance(outcome.result, EngineError):
                    raise outcome.result
            if any(o.result is None for o in outcomes):
                raise ClusterUnavailableError(
                    f"records to {topic!r} were not acknowledged within {self._timeout:g}s"
                )
            if transactional:
                producer.commit_transaction(self._timeout)
        except Exception as exc:
            raise translate_exception(exc, "produce to topic", topic) from exc
        return [o.result for o in outcomes if isinstance(o.result, RecordMetadata)]

    def _abort(self, producer: confluent_kafka.Producer) -> None:
        """Abort the open transaction; a producer that cannot abort is replaced."""
        try:
            producer.abort_transaction(self._timeout)
        except confluent_kafka.KafkaException:
            producer.close()
            self._txn_producer = None

    def _fetch_consumer(self) -> confluent_kafka.Consumer:
        if self._fetcher is None:
            self._fetcher = confluent_kafka.Consumer(
                {
                    **self._base,
                    "group.id": f"streamgov-fetch-{uuid.uuid4()}",
                    "enable.auto.commit": False,
                    "enable.auto.offset.store": False,
                    "auto.offset.reset": "error",
                    "isolation.level": "read_committed",
                    "enable.partition.eof": False,
                    "fetch.wait.max.ms": 10,
                }
            )
        return self._fetcher

    def fetch(
        self,
        topic: str,
        partition: int,
        offset: int,
        max_records: int = DEFAULT_FETCH_MAX_RECORDS,
        max_bytes: int = DEFAULT_FETCH_MAX_BYTES,
    ) -> list[ConsumedRecord]:
        """Records from `offset` on; `OffsetOutOfRangeError` outside [earliest, latest].

        At least one record is returned when any is available, even if it exceeds
        `max_bytes` (Kafka's rule), so a large record never blocks a reader."""
        self._check_partition(topic, partition)
        earliest = self._offsets(topic, [partition], OffsetSpec.EARLIEST)[partition]
        latest = self._offsets(topic, [partition], OffsetSpec.LATEST)[partition]
        if not earliest <= offset <= latest:
            raise OffsetOutOfRangeError(
                f"Offset {offset} is out of range for {topic}[{partition}]: "
                f"valid offsets are {earliest} to {latest}"
            )
        if offset == latest or max_records <= 0:
            return []
        with self._fetch_lock:
            return self._read_range(topic, partition, offset, latest, max_records, max_bytes)

    def _read_range(
        self, topic: str, partition: int, offset: int, end: int, max_records: int, max_bytes: int
    ) -> list[ConsumedRecord]:
        consumer = self._fetch_consumer()
        tp = confluent_kafka.TopicPartition(topic, partition, offset)
        consumer.assign([tp])
        records: list[ConsumedRecord] = []
        size = 0
        deadline = time.monotonic() + _FETCH_FIRST_WAIT_S
        try:
            while len(records) < max_records and time.monotonic() < deadline:
                # Ask for no more than the range holds (`consume` waits its whole timeout for
                # a count it cannot reach), then take what else the fetch brought without
                # waiting: some brokers report an end short of a batch they already serve.
                after = records[-1].offset + 1 if records else offset
                wanted = max(1, min(max_records - len(records), end - after))
                messages = consumer.consume(wanted, _FETCH_POLL_S)
                if messages and len(records) + len(messages) < max_records:
                    messages += consumer.consume(max_records - len(records) - len(messages), 0)
                for message in messages:
                    error = message.error()
                    if error is not None:
                        raise translate(error, "fetch from", f"{topic}[{partition}]")
                    record = to_consumed(message)
                    record_bytes = len(record.key or b"") + len(record.value or b"")
                    if records and size + record_bytes > max_bytes:
                        return records
                    records.append(record)
                    size += record_bytes
                    if len(records) >= max_records:
                        return records
                # Transaction markers and compacted gaps hold offsets without records: the
                # consumer's position moves past them, so it tells when the range is done.
                [position] = consumer.position([tp])
                if position.offset >= end:
                    return records
            if not records:
                # An empty answer would say the range holds no records; it may, unread.
                raise ClusterUnavailableError(
                    f"fetch from {topic}[{partition}] at offset {offset} read nothing within "
                    f"{_FETCH_FIRST_WAIT_S:.0f}s although the log ends at {end}"
                )
            return records
        finally:
            consumer.unassign()

    def list_offsets(self, topic: str, spec: OffsetSpec | int) -> dict[int, int]:
        """Per partition: earliest, latest (last stable offset), or the first offset at or after
        a timestamp in ms (the latest offset when no record is that recent)."""
        return self._offsets(topic, range(self._partition_count(topic)), spec)

    def _offsets(
        self, topic: str, partitions: Iterable[int], spec: OffsetSpec | int
    ) -> dict[int, int]:
        if spec is OffsetSpec.EARLIEST:
            kspec = kadmin.OffsetSpec.earliest()
        elif spec is OffsetSpec.LATEST:
            kspec = kadmin.OffsetSpec.latest()
        else:
            # Negative timestamps are ListOffsets' symbolic positions (-1 latest, -2 earliest,
            # -3 max timestamp); a time before the epoch means "from the first record".
            kspec = kadmin.OffsetSpec.for_timestamp(max(0, int(spec)))
        request = {confluent_kafka.TopicPartition(topic, p): kspec for p in partitions}
        futures = self._admin.list_offsets(
            request,
            isolation_level=confluent_kafka.IsolationLevel.READ_COMMITTED,
            request_timeout=self._timeout,
        )
        result = {
            tp.partition: int(self._wait(f, "list offsets of", topic).offset)
            for tp, f in futures.items()
        }
        if not isinstance(spec, OffsetSpec) and any(o < 0 for o in result.values()):
            latest = self._offsets(topic, list(result), OffsetSpec.LATEST)
            result = {p: (latest[p] if o < 0 else o) for p, o in result.items()}
        return result

    # -- consumer groups -----------------------------------------------------------------------
    def commit_offsets(
        self, group_id: str, offsets: Mapping[TopicPartition, OffsetAndMetadata]
    ) -> None:
        """Commit offsets for a group (the group must have no live members on Kafka)."""
        if not offsets:
            return
        partitions = [
            confluent_kafka.TopicPartition(tp.topic, tp.partition, om.offset, om.metadata)
            for tp, om in offsets.items()
        ]
        request = confluent_kafka.ConsumerGroupTopicPartitions(group_id, partitions)
        future = self._admin.alter_consumer_group_offsets([request])[group_id]
        result = self._wait(future, "commit offsets for group", group_id)
        for tp in result.topic_partitions or []:
            if tp.error is not None:
                raise translate(tp.error, "commit offsets for group", group_id)

    def committed_offsets(
        self, group_id: str, topics: Iterable[str] | None = None
    ) -> dict[TopicPartition, OffsetAndMetadata]:
        """The group's committed offsets, optionally only for some topics."""
        wanted = set(topics) if topics is not None else None
        request = confluent_kafka.ConsumerGroupTopicPartitions(group_id)
        future = self._admin.list_consumer_group_offsets([request])[group_id]
        result = self._wait(future, "read committed offsets of group", group_id)
        return {
            TopicPartition(tp.topic, tp.partition): OffsetAndMetadata(
                int(tp.offset), tp.metadata or ""
            )
            for tp in result.topic_partitions or []
            if tp.offset >= 0 and (wanted is None or tp.topic in wanted)
        }

    def list_groups(self) -> list[GroupListing]:
        """Every consumer group the cluster knows (members or committed offsets)."""
        result = self._wait(self._admin.list_consumer_groups(), "list consumer groups")
        return sorted(
            (
                GroupListing(g.group_id, _GROUP_STATES.get(g.state, GroupState.UNKNOWN))
                for g in result.valid
                if not g.group_id.startswith("streamgov-fetch-")
            ),
            key=lambda g: g.group_id,
        )

    def describe_group(self, group_id: str) -> GroupDescription:
        """State, protocol and members with their assignment. Kafka's DescribeGroups answer
        carries no generation, so `generation` is 0 on this backend."""
        future = self._admin.describe_consumer_groups([group_id])[group_id]
        found = self._wait(future, "describe consumer group", group_id)
        members = tuple(
            MemberDescription(
                member_id=m.member_id,
                client_id=m.client_id,
                host=m.host,
                assignment=tuple(
                    sorted(
                        TopicPartition(tp.topic, tp.partition)
                        for tp in (m.assignment.topic_partitions if m.assignment else [])
                    )
                ),
            )
            for m in found.members
        )
        state = _GROUP_STATES.get(found.state, GroupState.UNKNOWN)
        if state == GroupState.EMPTY and not members and not self._group_exists(group_id):
            # Kafka answers Dead for a group it does not know; some brokers answer Empty.
            state = GroupState.DEAD
        return GroupDescription(
            group_id=group_id,
            state=state,
            protocol="" if state == GroupState.DEAD else found.partition_assignor or "",
            members=members,
        )

    def _group_exists(self, group_id: str) -> bool:
        """Whether the cluster lists the group or holds committed offsets for it."""
        if any(g.group_id == group_id for g in self.list_groups()):
            return True
        return bool(self.committed_offsets(group_id))

    def delete_group(self, group_id: str) -> None:
        """Delete an empty group and its offsets; `GroupNotEmptyError` if it has members.

        The emptiness check is also made client-side, for brokers that do not make it."""
        description = self.describe_group(group_id)
        if group_is_active(description):
            raise GroupNotEmptyError(
                f"Consumer group {group_id!r} has active members "
                f"({description.state.value}); stop them before deleting it"
            )
        if description.state == GroupState.DEAD or not self._group_exists(group_id):
            raise GroupIdNotFoundError(f"Consumer group {group_id!r} does not exist")
        future = self._admin.delete_consumer_groups([group_id])[group_id]
        self._wait(future, "delete consumer group", group_id)

    # -- clients -------------------------------------------------------------------------------
    def producer(self, **options: object) -> KafkaProducer:
        """An idempotent producer with Kafka's murmur2 partitioner; `options` are librdkafka
        properties (for example `linger_ms=5`)."""
        config = {
            **self._base,
            "partitioner": "murmur2_random",
            "enable.idempotence": True,
            "linger.ms": 5,
            **_librdkafka_config(options),
        }
        return KafkaProducer(config, self._timeout)

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
    ) -> KafkaConsumer:
        """A consumer; with `group_id` it joins the group through the broker on `subscribe`."""
        config = {
            **self._base,
            "group.id": group_id or f"streamgov-fetch-{uuid.uuid4()}",
            "enable.auto.commit": False,
            "auto.offset.reset": auto_offset_reset,
            "partition.assignment.strategy": assignor,
            "session.timeout.ms": session_timeout_ms,
            "heartbeat.interval.ms": heartbeat_interval_ms,
            "client.id": client_id,
            "isolation.level": "read_committed",
            "enable.partition.eof": False,
            **_librdkafka_config(options),
        }

        def start_position(tp: TopicPartition) -> int:
            if group_id:
                committed = self.committed_offsets(group_id, [tp.topic]).get(tp)
                if committed is not None:
                    return committed.offset
            if auto_offset_reset == "error":
                raise OffsetOutOfRangeError(
                    f"No committed offset for {tp.topic}[{tp.partition}] and "
                    "auto_offset_reset='error'"
                )
            spec = OffsetSpec.EARLIEST if auto_offset_reset == "earliest" else OffsetSpec.LATEST
            return self.list_offsets(tp.topic, spec)[tp.partition]

        return KafkaConsumer(config, group_id, self._timeout, start_position)

    def close(self) -> None:
        """Release connections."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        with self._fetch_lock:
            if self._fetcher is not None:
                self._fetcher.close()
                self._fetcher = None
        with self._produce_lock:
            for producer in (self._txn_producer, self._plain_producer):
                if producer is not None:
                    producer.close()
            self._txn_producer = self._plain_producer = None

    def __repr__(self) -> str:
        return f"KafkaCluster({self.bootstrap!r})"
