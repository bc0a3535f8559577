"""The engine's authorization hook: a small `Authorizer` protocol and `AuthorizingCluster`,
which checks every operation of any `Cluster` the way Kafka maps its APIs to ACLs.

| Cluster call            | Kafka API          | checked as                                      |
|-------------------------|--------------------|-------------------------------------------------|
| create_topic            | CreateTopics       | CREATE on CLUSTER, else CREATE on the TOPIC     |
| delete_topic            | DeleteTopics       | DELETE on the TOPIC                             |
| list_topics             | Metadata           | filtered to topics the principal may DESCRIBE   |
| describe_topic          | Metadata + Configs | DESCRIBE; config shown only with DESCRIBE_CONFIGS|
| add_partitions          | CreatePartitions   | ALTER on the TOPIC                              |
| alter_topic_config      | IncrementalAlter.. | ALTER_CONFIGS on the TOPIC                      |
| produce / Producer.send | Produce            | WRITE on the TOPIC                              |
| fetch / Consumer.poll   | Fetch              | READ on the TOPIC                               |
| list_offsets            | ListOffsets        | DESCRIBE on the TOPIC                           |
| commit_offsets / commit | OffsetCommit       | READ on the GROUP and READ on each TOPIC        |
| committed_offsets       | OffsetFetch        | DESCRIBE on the GROUP; topics need DESCRIBE     |
| Consumer.subscribe      | JoinGroup          | READ on the GROUP and READ on each TOPIC        |
| list_groups             | ListGroups         | filtered to groups the principal may DESCRIBE   |
| describe_group          | DescribeGroups     | DESCRIBE on the GROUP                           |
| delete_group            | DeleteGroups       | DELETE on the GROUP                             |

The authorizer is asked about the exact operation; implications between operations (READ
implies DESCRIBE, ALL implies everything, ...) are the authorizer's business, as in Kafka.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Protocol, runtime_checkable

from engine.cluster import (
    DEFAULT_FETCH_MAX_BYTES,
    DEFAULT_FETCH_MAX_RECORDS,
    Assignor,
    AutoOffsetReset,
    Cluster,
    Consumer,
    Producer,
)
from engine.errors import AuthorizationError
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


class Operation(StrEnum):
    """ACL operations, named as Kafka names them."""

    ALL = "ALL"
    READ = "READ"
    WRITE = "WRITE"
    CREATE = "CREATE"
    DELETE = "DELETE"
    ALTER = "ALTER"
    DESCRIBE = "DESCRIBE"
    CLUSTER_ACTION = "CLUSTER_ACTION"
    DESCRIBE_CONFIGS = "DESCRIBE_CONFIGS"
    ALTER_CONFIGS = "ALTER_CONFIGS"
    IDEMPOTENT_WRITE = "IDEMPOTENT_WRITE"


class ResourceType(StrEnum):
    """ACL resource types, named as Kafka names them."""

    TOPIC = "TOPIC"
    GROUP = "GROUP"
    CLUSTER = "CLUSTER"
    TRANSACTIONAL_ID = "TRANSACTIONAL_ID"
    #: a schema registry subject (not Kafka's; the registry's routes check it)
    SUBJECT = "SUBJECT"


#: The name of the cluster resource, as in Kafka.
CLUSTER_RESOURCE = "kafka-cluster"

#: The principal of clients that did not authenticate, as in Kafka.
ANONYMOUS = "User:ANONYMOUS"


@runtime_checkable
class Authorizer(Protocol):
    """Decides whether a principal may perform an operation on a resource."""

    def authorize(
        self,
        principal: str,
        operation: str,
        resource_type: str,
        resource_name: str,
        host: str | None = None,
    ) -> bool:
        """True when allowed; `host` is the client's address when known (ACLs for one host
        apply only to requests from it)."""
        ...


@runtime_checkable
class ChangeAuditor(Protocol):
    """Records the changes clients were allowed to make through a listener (implemented
    outside the engine: `acl` appends them to the audit log)."""

    def changed(self, principal: str, method: str, resource: str, host: str | None) -> None:
        """One change (`kafka.CreateTopics`, `TOPIC:orders`) by `principal` from `host`;
        returns at once (the record is written in the background) and never raises."""
        ...


class AuthenticationFailedError(Exception):
    """A SASL exchange failed (wrong credentials, unknown user, malformed token). The message
    is generic, as Kafka's: it never says which part was wrong."""


class SaslExchange(Protocol):
    """One client's SASL exchange on one connection."""

    def step(self, token: bytes) -> tuple[bytes, str | None]:
        """The reply to the client's token, and the authenticated principal once the exchange
        is complete (None while more rounds follow). Raises `AuthenticationFailedError`."""
        ...


@runtime_checkable
class Authenticator(Protocol):
    """Verifies SASL credentials for a listener (implemented outside the engine)."""

    #: the SASL mechanisms offered, e.g. ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
    mechanisms: tuple[str, ...]

    def start(self, mechanism: str) -> SaslExchange:
        """A fresh exchange for one of `mechanisms`."""
        ...


#: An ACL binding or filter as plain strings, in REST Proxy v3's field names
#: (resource_type, resource_name, pattern_type, principal, host, operation, permission; enum
#: values upper case); in a filter None and "ANY" match anything.
AclFields = Mapping[str, str | None]


class AclAdmin(Protocol):
    """Creates, lists and deletes ACLs for a listener's admin APIs (implemented outside the
    engine). Refusals raise ValueError with a message naming what was wrong."""

    def create_acl_bindings(self, bindings: Sequence[AclFields]) -> list[str | None]:
        """Create each binding; per binding None or the message of its refusal."""
        ...

    def describe_acl_bindings(self, selector: AclFields) -> list[dict[str, str]]:
        """The bindings the filter selects."""
        ...

    def delete_acl_bindings(self, selectors: Sequence[AclFields]) -> list[list[dict[str, str]]]:
        """Delete what each filter selects; per filter the bindings it deleted."""
        ...


#: Kafka's client quota keys, measured by a listener's `ClientQuotas`.
PRODUCER_BYTE_RATE = "producer_byte_rate"
CONSUMER_BYTE_RATE = "consumer_byte_rate"
REQUEST_PERCENTAGE = "request_percentage"


class ClientQuotas(Protocol):
    """Kafka client quotas for a listener (implemented outside the engine): measures each
    client's usage over Kafka's sampled windows and says how long to throttle it."""

    def active(self) -> bool:
        """Whether any quota is set (without one the listener measures nothing)."""
        ...

    def record(self, principal: str, client_id: str, key: str, amount: float, now_ms: float) -> int:
        """Record usage against the client's quota for `key` (bytes for the byte rates,
        percent-seconds of request handling for `request_percentage`) at `now_ms` (a
        monotonic clock); the throttle time in ms its quota asks for (0 within it or without
        a quota)."""
        ...

    def unrecord(
        self, principal: str, client_id: str, key: str, amount: float, now_ms: float
    ) -> None:
        """Take back usage recorded (a fetch answered empty because it is throttled)."""
        ...

    def window_limit(self, principal: str, client_id: str, key: str) -> float | None:
        """The most the client may use in one quota window (None without a quota)."""
        ...


#: A quota entity as Kafka's entity maps: (entity type, name or None for the default) pairs.
QuotaEntityParts = Sequence[tuple[str, str | None]]


class ClientQuotaAdmin(Protocol):
    """Lists and changes client quotas for a listener's DescribeClientQuotas and
    AlterClientQuotas (implemented outside the engine)."""

    def describe_client_quotas(
        self, components: Sequence[tuple[str, int, str | None]], strict: bool
    ) -> list[tuple[list[tuple[str, str | None]], dict[str, float]]]:
        """The entities a filter selects with their values; `components` are (entity type,
        match type 0 exact / 1 default / 2 any, name). ValueError names what is wrong with a
        filter that is not valid."""
        ...

    def alter_client_quotas(
        self,
        entries: Sequence[tuple[QuotaEntityParts, Sequence[tuple[str, float, bool]]]],
        validate_only: bool,
        principal: str,
    ) -> list[str | None]:
        """Apply each entry's (key, value, remove) operations on its entity for `principal`
        (checking only, with `validate_only`); per entry None or the message of its
        refusal."""
        ...


class _Guard:
    """The checks shared by the cluster, producer and consumer wrappers."""

    def __init__(self, authorizer: Authorizer | None, principal: str) -> None:
        self.authorizer = authorizer
        self.principal = principal

    def allowed(self, operation: Operation, resource_type: ResourceType, name: str) -> bool:
        """Whether the principal may (everything is allowed without an authorizer)."""
        if self.authorizer is None:
            return True
        return bool(self.authorizer.authorize(self.principal, operation, resource_type, name))

    def check(self, operation: Operation, resource_type: ResourceType, name: str) -> None:
        """Raise `AuthorizationError` unless allowed."""
        if not self.allowed(operation, resource_type, name):
            raise AuthorizationError(self.principal, operation, resource_type, name)

    def topics(self, operation: Operation, names: Iterable[str]) -> None:
        """Check the operation on every topic named."""
        for name in dict.fromkeys(names):
            self.check(operation, ResourceType.TOPIC, name)


class AuthorizingCluster:
    """Any `Cluster`, with every operation checked against an authorizer for one principal.

    With no authorizer every operation is allowed and the wrapper only forwards."""

    def __init__(
        self, inner: Cluster, authorizer: Authorizer | None, principal: str = ANONYMOUS
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.gaps_hide_records = inner.gaps_hide_records
        self._guard = _Guard(authorizer, principal)

    @property
    def authorizer(self) -> Authorizer | None:
        """The authorizer consulted (None: everything allowed)."""
        return self._guard.authorizer

    @property
    def principal(self) -> str:
        """The principal every operation is checked for."""
        return self._guard.principal

    def as_principal(self, principal: str) -> AuthorizingCluster:
        """The same cluster and authorizer, acting for another principal."""
        return AuthorizingCluster(self.inner, self._guard.authorizer, principal)

    # -- topics ------------------------------------------------------------------------------

    def create_topic(
        self, name: str, partitions: int = 1, config: Mapping[str, str] | None = None
    ) -> None:
        """CREATE on the cluster, or else CREATE on the topic."""
        if not self._guard.allowed(Operation.CREATE, ResourceType.CLUSTER, CLUSTER_RESOURCE):
            self._guard.check(Operation.CREATE, ResourceType.TOPIC, name)
        self.inner.create_topic(name, partitions, config)

    def delete_topic(self, name: str) -> None:
        """DELETE on the topic."""
        self._guard.check(Operation.DELETE, ResourceType.TOPIC, name)
        self.inner.delete_topic(name)

    def list_topics(self, include_internal: bool = False) -> list[str]:
        """Only the topics the principal may DESCRIBE."""
        return [
            t
            for t in self.inner.list_topics(include_internal)
            if self._guard.allowed(Operation.DESCRIBE, ResourceType.TOPIC, t)
        ]

    def topic_settings(self, names: Sequence[str]) -> dict[str, TopicSettings]:
        """Only topics the principal may DESCRIBE; their config only with DESCRIBE_CONFIGS."""
        visible = [
            n for n in names if self._guard.allowed(Operation.DESCRIBE, ResourceType.TOPIC, n)
        ]
        return {
            name: settings
            if self._guard.allowed(Operation.DESCRIBE_CONFIGS, ResourceType.TOPIC, name)
            else TopicSettings(settings.partitions, {})
            for name, settings in self.inner.topic_settings(visible).items()
        }

    def describe_topic(self, name: str) -> TopicDescription:
        """DESCRIBE on the topic; the config only with DESCRIBE_CONFIGS."""
        self._guard.check(Operation.DESCRIBE, ResourceType.TOPIC, name)
        description = self.inner.describe_topic(name)
        if not self._guard.allowed(Operation.DESCRIBE_CONFIGS, ResourceType.TOPIC, name):
            description = TopicDescription(
                description.name, description.partitions, {}, description.internal
            )
        return description

    def add_partitions(self, name: str, total: int) -> None:
        """ALTER on the topic."""
        self._guard.check(Operation.ALTER, ResourceType.TOPIC, name)
        self.inner.add_partitions(name, total)

    def alter_topic_config(self, name: str, updates: Mapping[str, str | None]) -> None:
        """ALTER_CONFIGS on the topic."""
        self._guard.check(Operation.ALTER_CONFIGS, ResourceType.TOPIC, name)
        self.inner.alter_topic_config(name, updates)

    # -- the log -----------------------------------------------------------------------------

    def produce(self, topic: str, records: Sequence[Record]) -> list[RecordMetadata]:
        """WRITE on the topic."""
        self._guard.check(Operation.WRITE, ResourceType.TOPIC, topic)
        return self.inner.produce(topic, records)

    def fetch(
        self,
        topic: str,
        partition: int,
        offset: int,
        max_records: int = DEFAULT_FETCH_MAX_RECORDS,
        max_bytes: int = DEFAULT_FETCH_MAX_BYTES,
    ) -> list[ConsumedRecord]:
        """READ on the topic."""
        self._guard.check(Operation.READ, ResourceType.TOPIC, topic)
        return self.inner.fetch(topic, partition, offset, max_records, max_bytes)

    def list_offsets(self, topic: str, spec: OffsetSpec | int) -> dict[int, int]:
        """DESCRIBE on the topic."""
        self._guard.check(Operation.DESCRIBE, ResourceType.TOPIC, topic)
        return self.inner.list_offsets(topic, spec)

    # -- consumer groups ---------------------------------------------------------------------

    def commit_offsets(
        self, group_id: str, offsets: Mapping[TopicPartition, OffsetAndMetadata]
    ) -> None:
        """READ on the group and on every topic."""
        self._guard.check(Operation.READ, ResourceType.GROUP, group_id)
        self._guard.topics(Operation.READ, (tp.topic for tp in offsets))
        self.inner.commit_offsets(group_id, offsets)

    def committed_offsets(
        self, group_id: str, topics: Iterable[str] | None = None
    ) -> dict[TopicPartition, OffsetAndMetadata]:
        """DESCRIBE on the group; only topics the principal may DESCRIBE."""
        self._guard.check(Operation.DESCRIBE, ResourceType.GROUP, group_id)
        return {
            tp: om
            for tp, om in self.inner.committed_offsets(group_id, topics).items()
            if self._guard.allowed(Operation.DESCRIBE, ResourceType.TOPIC, tp.topic)
        }

    def list_groups(self) -> list[GroupListing]:
        """Only the groups the principal may DESCRIBE."""
        return [
            g
            for g in self.inner.list_groups()
            if self._guard.allowed(Operation.DESCRIBE, ResourceType.GROUP, g.group_id)
        ]

    def describe_group(self, group_id: str) -> GroupDescription:
        """DESCRIBE on the group."""
        self._guard.check(Operation.DESCRIBE, ResourceType.GROUP, group_id)
        return self.inner.describe_group(group_id)

    def delete_group(self, group_id: str) -> None:
        """DELETE on the group."""
        self._guard.check(Operation.DELETE, ResourceType.GROUP, group_id)
        self.inner.delete_group(group_id)

    # -- clients -----------------------------------------------------------------------------

    def producer(self, **options: object) -> Producer:
        """The inner producer, checked for WRITE per topic when an authorizer is set."""
        producer = self.inner.producer(**options)
        if self._guard.authorizer is None:
            return producer
        return AuthorizingProducer(producer, self._guard)

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
        """The inner consumer, checked like Kafka checks JoinGroup, Fetch and OffsetCommit."""
        consumer = self.inner.consumer(
            group_id,
            auto_offset_reset=auto_offset_reset,
            assignor=assignor,
            session_timeout_ms=session_timeout_ms,
            heartbeat_interval_ms=heartbeat_interval_ms,
            client_id=client_id,
            **options,
        )
        if self._guard.authorizer is None:
            return consumer
        return AuthorizingConsumer(consumer, self._guard, group_id)

    def close(self) -> None:
        """Close the wrapped cluster."""
        self.inner.close()


class AuthorizingProducer:
    """A producer whose `send` is checked for WRITE on the topic."""

    def __init__(self, inner: Producer, guard: _Guard) -> None:
        self._inner = inner
        self._guard = guard
        self._allowed: set[str] = set()

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
        """Queue one record after checking WRITE on its topic."""
        if topic not in self._allowed:
            self._guard.check(Operation.WRITE, ResourceType.TOPIC, topic)
            self._allowed.add(topic)
        self._inner.send(
            topic, value, key, headers=headers, partition=partition, timestamp_ms=timestamp_ms
        )

    def flush(self, timeout: float | None = None) -> list[RecordMetadata]:
        """Flush the inner producer (permissions are checked afresh after a flush)."""
        self._allowed.clear()
        return self._inner.flush(timeout)

    def close(self) -> None:
        """Close the inner producer."""
        self._inner.close()


class AuthorizingConsumer:
    """A consumer checked for READ on its group (join, commit) and its topics (every poll)."""

    def __init__(self, inner: Consumer, guard: _Guard, group_id: str | None) -> None:
        self._inner = inner
        self._guard = guard
        self._group_id = group_id
        self._topics: tuple[str, ...] = ()

    def subscribe(self, topics: Sequence[str]) -> None:
        """READ on the group and on every topic, then join."""
        if self._group_id is not None:
            self._guard.check(Operation.READ, ResourceType.GROUP, self._group_id)
        self._guard.topics(Operation.READ, topics)
        self._topics = tuple(topics)
        self._inner.subscribe(topics)

    def assign(self, partitions: Sequence[TopicPartition]) -> None:
        """READ on every topic."""
        self._guard.topics(Operation.READ, (tp[0] for tp in partitions))
        self._topics = tuple(dict.fromkeys(tp[0] for tp in partitions))
        self._inner.assign(partitions)

    def assignment(self) -> list[TopicPartition]:
        """The inner consumer's assignment."""
        return self._inner.assignment()

    def poll(self, timeout: float = 1.0, max_records: int = 500) -> list[ConsumedRecord]:
        """READ on the topics read (checked on every poll, like every Kafka fetch)."""
        self._guard.topics(Operation.READ, self._topics)
        return self._inner.poll(timeout, max_records)

    def commit(self, offsets: Mapping[TopicPartition, OffsetAndMetadata] | None = None) -> None:
        """READ on the group and on the committed topics."""
        if self._group_id is not None:
            self._guard.check(Operation.READ, ResourceType.GROUP, self._group_id)
        topics = [tp[0] for tp in offsets] if offsets is not None else list(self._topics)
        self._guard.topics(Operation.READ, topics)
        self._inner.commit(offsets)

    def seek(self, partition: TopicPartition, offset: int) -> None:
        """Forwarded."""
        self._inner.seek(partition, offset)

    def position(self, partition: TopicPartition) -> int:
        """Forwarded."""
        return self._inner.position(partition)

    def close(self) -> None:
        """Forwarded."""
        self._inner.close()
