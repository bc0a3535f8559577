"""What the cluster admin API does, over the `Cluster` protocol: reads and writes, as models.

The routes only parse the request and pick the cluster; everything here is plain calls on the
engine protocol, so it behaves the same on the embedded engine and on Kafka.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime

from clusterapi import lag as lagmath
from clusterapi.errors import (
    ClusterApiError,
    bad_request,
    cluster_not_found,
    group_not_found,
)
from clusterapi.links import Links
from clusterapi.models import (
    MAX_DATA_BYTES,
    AlterConfigEntry,
    ClusterData,
    ConsumerAssignmentData,
    ConsumerData,
    ConsumerGroupData,
    ConsumerGroupLagSummaryData,
    ConsumerLagData,
    CreateTopicRequest,
    OffsetResetData,
    PartitionData,
    ProduceRequest,
    ProduceRequestData,
    ProduceResponse,
    ProduceResponseData,
    ResetOffsetsRequest,
    TopicConfigData,
    TopicData,
)
from engine.cluster import Cluster
from engine.errors import (
    DamagedFileError,
    GroupIdNotFoundError,
    GroupNotEmptyError,
    UnknownTopicOrPartitionError,
)
from engine.resets import ResetKind, ResetTarget, apply_reset, plan_reset
from engine.topics import DEFAULT_CONFIG, is_internal
from engine.types import (
    ConsumedRecord,
    GroupDescription,
    GroupState,
    OffsetSpec,
    PartitionInfo,
    Record,
    TopicDescription,
    TopicPartition,
)

MAX_RECORDS_PAGE = 1000
_STATES = {
    GroupState.EMPTY: "EMPTY",
    GroupState.STABLE: "STABLE",
    GroupState.PREPARING_REBALANCE: "PREPARING_REBALANCE",
    GroupState.COMPLETING_REBALANCE: "COMPLETING_REBALANCE",
    GroupState.DEAD: "DEAD",
    GroupState.UNKNOWN: "UNKNOWN",
}


def check_cluster(cluster: Cluster, cluster_id: str) -> None:
    """Fail with 404 unless `cluster_id` names the served cluster."""
    if cluster_id != cluster.name:
        raise cluster_not_found(cluster_id)


def iso(ms: int) -> str:
    """Epoch milliseconds as an ISO-8601 UTC timestamp (`2026-12-04T23:05:01.250+00:00`)."""
    seconds, millis = divmod(ms, 1000)
    return f"{_iso_second(seconds)}.{millis:03d}+00:00"


@functools.lru_cache(maxsize=4096)
def _iso_second(seconds: int) -> str:
    # Records of a page mostly share their second: format each second once.
    return datetime.fromtimestamp(seconds, tz=UTC).replace(tzinfo=None).isoformat()


def parse_timestamp(text: str) -> int:
    """Epoch milliseconds from ISO-8601 text or an integer string of milliseconds."""
    stripped = text.strip()
    if re.fullmatch(r"-?\d{1,16}", stripped):
        return int(stripped)
    try:
        moment = datetime.fromisoformat(stripped)
    except ValueError:
        raise bad_request(
            f"timestamp {text!r} is neither ISO-8601 nor epoch milliseconds"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


# -- clusters ------------------------------------------------------------------------------


def cluster_data(links: Links) -> ClusterData:
    """The served cluster as a resource."""
    return ClusterData(
        kind="KafkaCluster",
        metadata=links.resource(()),
        cluster_id=links.cluster_id,
        controller=links.related("brokers", 0),
        acls=links.related("acls"),
        brokers=links.related("brokers"),
        broker_configs=links.related("broker-configs"),
        consumer_groups=links.related("consumer-groups"),
        topics=links.related("topics"),
        partition_reassignments=links.related("topics", "-", "partitions", "-", "reassignment"),
    )


# -- topics --------------------------------------------------------------------------------


def topic_data(
    links: Links, description: TopicDescription, damaged: str | None = None
) -> TopicData:
    """A described topic as a resource (`damaged`: why its storage cannot be read)."""
    name = description.name
    return TopicData(
        damaged=damaged,
        kind="KafkaTopic",
        metadata=links.resource(("topics", name), ("topic", name)),
        cluster_id=links.cluster_id,
        topic_name=name,
        is_internal=description.internal,
        replication_factor=1,
        partitions_count=len(description.partitions),
        partitions=links.related("topics", name, "partitions"),
        configs=links.related("topics", name, "configs"),
        partition_reassignments=links.related("topics", name, "partitions", "-", "reassignment"),
    )


def list_topics(cluster: Cluster, links: Links) -> list[TopicData]:
    """Every topic, internal ones included (flagged `is_internal`), sorted by name; a topic
    whose file is damaged is listed with `damaged` set instead of failing the whole list."""
    topics = []
    for name in cluster.list_topics(include_internal=True):
        try:
            topics.append(topic_data(links, cluster.describe_topic(name)))
        except UnknownTopicOrPartitionError:
            continue  # deleted between listing and describing
        except DamagedFileError as exc:
            unreadable = TopicDescription(name, (), internal=is_internal(name))
            topics.append(topic_data(links, unreadable, damaged=str(exc)))
    return topics


def create_topic(cluster: Cluster, links: Links, request: CreateTopicRequest) -> TopicData:
    """Create a topic (or only check that it could be, with `validate_only`)."""
    if request.replication_factor not in (None, 1):
        raise bad_request(
            "replication_factor is chosen by the cluster; omit it or pass 1 "
            f"(got {request.replication_factor})"
        )
    configs = {entry.name: entry.value for entry in request.configs if entry.value is not None}
    partitions = request.partitions_count or 1
    name = request.topic_name
    if request.validate_only:
        if name in cluster.list_topics(include_internal=True):
            raise ClusterApiError(40002, f"Topic '{name}' already exists.")
        placeholder = tuple(PartitionInfo(p, 0, 0) for p in range(partitions))
        return topic_data(links, TopicDescription(name, placeholder, dict(configs)))
    cluster.create_topic(name, partitions, configs)
    return topic_data(links, cluster.describe_topic(name))


def grow_partitions(cluster: Cluster, links: Links, topic: str, total: int) -> TopicData:
    """Grow a topic's partition count."""
    cluster.add_partitions(topic, total)
    return topic_data(links, cluster.describe_topic(topic))


def partition_data(links: Links, topic: str, info: PartitionInfo) -> PartitionData:
    """A partition as a resource, with its offset range."""
    p = info.partition
    return PartitionData(
        kind="KafkaPartition",
        metadata=links.resource(
            ("topics", topic, "partitions", p), ("topic", topic), ("partition", p)
        ),
        cluster_id=links.cluster_id,
        topic_name=topic,
        partition_id=p,
        leader=links.related("topics", topic, "partitions", p, "replicas", 0),
        replicas=links.related("topics", topic, "partitions", p, "replicas"),
        reassignment=links.related("topics", topic, "partitions", p, "reassignment"),
        earliest_offset=info.earliest_offset,
        latest_offset=info.latest_offset,
        size_bytes=info.size_bytes,
    )


def find_partition(description: TopicDescription, partition: int) -> PartitionInfo:
    """The described partition, or 404 40403."""
    for info in description.partitions:
        if info.partition == partition:
            return info
    raise ClusterApiError(
        40403, f"Partition {partition} of topic '{description.name}' does not exist."
    )


# -- configs -------------------------------------------------------------------------------


def config_data(links: Links, topic: str, name: str, value: str | None) -> TopicConfigData:
    """One config entry as a resource."""
    default = DEFAULT_CONFIG.get(name)
    is_default = value is not None and value == default
    source = "DEFAULT_CONFIG" if is_default else "DYNAMIC_TOPIC_CONFIG"
    return TopicConfigData(
        kind="KafkaTopicConfig",
        metadata=links.resource(
            ("topics", topic, "configs", name), ("topic", topic), ("config", name)
        ),
        cluster_id=links.cluster_id,
        topic_name=topic,
        name=name,
        value=value,
        is_default=is_default,
        is_read_only=False,
        is_sensitive=False,
        source=source,
        synonyms=[],
    )


def list_configs(cluster: Cluster, links: Links, topic: str) -> list[TopicConfigData]:
    """The topic's effective configuration, sorted by name."""
    config = cluster.describe_topic(topic).config
    return [config_data(links, topic, name, config[name]) for name in sorted(config)]


def get_config(cluster: Cluster, links: Links, topic: str, name: str) -> TopicConfigData:
    """One config entry, or 404 when the topic has no such key."""
    config = cluster.describe_topic(topic).config
    if name not in config:
        raise ClusterApiError(40403, f"Config {name} of topic '{topic}' could not be found.")
    return config_data(links, topic, name, config[name])


def alter_updates(entries: list[AlterConfigEntry]) -> dict[str, str | None]:
    """The engine's update map for an `:alter` batch; None resets a key to its default."""
    updates: dict[str, str | None] = {}
    for entry in entries:
        operation = (entry.operation or "SET").upper()
        if operation == "DELETE":
            updates[entry.name] = None
        elif entry.value is None:
            raise bad_request(f"config {entry.name}: SET needs a 'value'")
        else:
            updates[entry.name] = entry.value
    return updates


def alter_configs(
    cluster: Cluster, topic: str, updates: Mapping[str, str | None], validate_only: bool
) -> None:
    """Apply config changes (or only check that the topic exists, with `validate_only`)."""
    if validate_only:
        cluster.describe_topic(topic)
        return
    cluster.alter_topic_config(topic, updates)


# -- produce -------------------------------------------------------------------------------


def _encode(part: ProduceRequestData | None, what: str) -> tuple[bytes | None, str | None]:
    if part is None:
        return None, None
    kind = (part.type or "").upper()
    if not kind:
        raise bad_request(
            f"{what}: only type BINARY, JSON or STRING is supported; serialize records with a "
            "schema on the client (the registry's serializers) and send them as BINARY"
        )
    if part.data is None:
        return None, kind
    if kind == "BINARY":
        if not isinstance(part.data, str):
            raise bad_request(f"{what}: BINARY data must be a base64 string")
        try:
            data = base64.b64decode(part.data, validate=True)
        except (binascii.Error, ValueError):
            raise bad_request(f"{what}: BINARY data is not valid base64") from None
    elif kind == "JSON":
        data = json.dumps(part.data, separators=(",", ":"), ensure_ascii=False).encode()
    elif kind == "STRING":
        if not isinstance(part.data, str):
            raise bad_request(f"{what}: STRING data must be a string")
        data = part.data.encode()
    else:
        raise bad_request(f"{what}: type {part.type} is not supported; use BINARY, JSON or STRING")
    if len(data) > MAX_DATA_BYTES:
        raise bad_request(f"{what}: {len(data)} bytes is more than the {MAX_DATA_BYTES} allowed")
    return data, kind


def _headers(request: ProduceRequest) -> tuple[tuple[str, bytes], ...]:
    headers = []
    for header in request.headers:
        if header.value is None:
            headers.append((header.name, b""))
            continue
        try:
            headers.append((header.name, base64.b64decode(header.value, validate=True)))
        except (binascii.Error, ValueError):
            raise bad_request(f"header {header.name!r}: value is not valid base64") from None
    return tuple(headers)


def produce(
    cluster: Cluster, cluster_id: str, topic: str, request: ProduceRequest
) -> ProduceResponse:
    """Append one record and say where it landed."""
    key, key_type = _encode(request.key, "key")
    value, value_type = _encode(request.value, "value")
    timestamp = parse_timestamp(request.timestamp) if request.timestamp else None
    if request.partition_id is not None:
        find_partition(cluster.describe_topic(topic), request.partition_id)
    record = Record(
        value=value,
        key=key,
        headers=_headers(request),
        timestamp_ms=timestamp,
        partition=request.partition_id,
    )
    [landed] = cluster.produce(topic, [record])
    return ProduceResponse(
        error_code=200,
        cluster_id=cluster_id,
        topic_name=topic,
        partition_id=landed.partition,
        offset=landed.offset,
        timestamp=iso(landed.timestamp_ms),
        key=None if key is None else ProduceResponseData(size=len(key), type=key_type),
        value=None if value is None else ProduceResponseData(size=len(value), type=value_type),
    )


# -- records (streamgov addition) ------------------------------------------------------------


def start_offset(
    cluster: Cluster,
    topic: str,
    info: PartitionInfo,
    *,
    offset: int | None,
    timestamp: str | None,
    position: str | None,
    limit: int,
) -> int:
    """Where a page of records starts, clamped into the partition's offsets.

    `position=latest` starts `limit` records before the log end, to show the newest records.
    """
    chosen = [
        name
        for name, v in (("offset", offset), ("timestamp", timestamp), ("position", position))
        if v is not None
    ]
    if len(chosen) > 1:
        raise bad_request(f"give at most one of offset, timestamp, position (got {chosen})")
    earliest, latest = info.earliest_offset, info.latest_offset
    if offset is not None:
        return lagmath.clamp(offset, earliest, latest)
    if timestamp is not None:
        offsets = cluster.list_offsets(topic, parse_timestamp(timestamp))
        return lagmath.clamp(offsets.get(info.partition, latest), earliest, latest)
    if position == "latest":
        return max(earliest, latest - limit)
    return earliest


def read_records(
    cluster: Cluster, topic: str, info: PartitionInfo, start: int, limit: int
) -> list[ConsumedRecord]:
    """Up to `limit` records of one partition from `start`."""
    if start >= info.latest_offset:
        return []
    return cluster.fetch(topic, info.partition, start, max_records=limit)[:limit]


# -- consumer groups -----------------------------------------------------------------------


def describe_group(cluster: Cluster, group_id: str) -> GroupDescription:
    """The group, or 404 when it has neither members nor committed offsets."""
    if group_id not in {g.group_id for g in cluster.list_groups()}:
        raise group_not_found(group_id)
    try:
        return cluster.describe_group(group_id)
    except GroupIdNotFoundError:
        raise group_not_found(group_id) from None


def group_data(links: Links, group: GroupDescription) -> ConsumerGroupData:
    """A consumer group as a resource."""
    gid = group.group_id
    return ConsumerGroupData(
        kind="KafkaConsumerGroup",
        metadata=links.resource(("consumer-groups", gid), ("consumer-group", gid)),
        cluster_id=links.cluster_id,
        consumer_group_id=gid,
        is_simple=not group.members and not group.protocol,
        partition_assignor=group.protocol,
        state=_STATES.get(group.state, "UNKNOWN"),  # type: ignore[arg-type]
        coordinator=links.related("brokers", 0),
        consumers=links.related("consumer-groups", gid, "consumers"),
        lag_summary=links.related("consumer-groups", gid, "lag-summary"),
    )


def list_groups(cluster: Cluster, links: Links) -> list[ConsumerGroupData]:
    """Every consumer group, sorted by id."""
    groups = []
    for listing in sorted(cluster.list_groups(), key=lambda g: g.group_id):
        try:
            groups.append(group_data(links, cluster.describe_group(listing.group_id)))
        except GroupIdNotFoundError:
            continue
    return groups


def consumer_data(links: Links, group: GroupDescription) -> list[ConsumerData]:
    """The group's live members as resources."""
    gid = group.group_id
    return [
        ConsumerData(
            kind="KafkaConsumer",
            metadata=links.resource(
                ("consumer-groups", gid, "consumers", m.member_id),
                ("consumer-group", gid),
                ("consumer", m.member_id),
            ),
            cluster_id=links.cluster_id,
            consumer_group_id=gid,
            consumer_id=m.member_id,
            client_id=m.client_id,
            assignments=links.related(
                "consumer-groups", gid, "consumers", m.member_id, "assignments"
            ),
        )
        for m in sorted(group.members, key=lambda m: m.member_id)
    ]


def assignment_data(
    links: Links, group: GroupDescription, consumer_id: str
) -> list[ConsumerAssignmentData]:
    """The partitions assigned to one member, or 404 when it is not a member."""
    gid = group.group_id
    for member in group.members:
        if member.member_id == consumer_id:
            return [
                ConsumerAssignmentData(
                    kind="KafkaConsumerAssignment",
                    metadata=links.resource(
                        (
                            "consumer-groups",
                            gid,
                            "consumers",
                            consumer_id,
                            "assignments",
                            tp.topic,
                            "partitions",
                            tp.partition,
                        ),
                        ("consumer-group", gid),
                        ("consumer", consumer_id),
                        ("assignment", f"{tp.topic}-{tp.partition}"),
                    ),
                    cluster_id=links.cluster_id,
                    consumer_group_id=gid,
                    consumer_id=consumer_id,
                    topic_name=tp.topic,
                    partition_id=tp.partition,
                    partition=links.related("topics", tp.topic, "partitions", tp.partition),
                    lag=links.related(
                        "consumer-groups", gid, "lags", tp.topic, "partitions", tp.partition
                    ),
                )
                for tp in sorted(member.assignment)
            ]
    raise ClusterApiError(404, f"Consumer {consumer_id} could not be found in group {gid}.")


def _log_ends(cluster: Cluster, topics: set[str]) -> dict[TopicPartition, int]:
    ends: dict[TopicPartition, int] = {}
    for topic in sorted(topics):
        try:
            offsets = cluster.list_offsets(topic, OffsetSpec.LATEST)
        except UnknownTopicOrPartitionError:
            continue
        ends.update({TopicPartition(topic, p): o for p, o in offsets.items()})
    return ends


def group_lags(cluster: Cluster, group: GroupDescription) -> list[lagmath.PartitionLag]:
    """The group's lag on every partition it has committed offsets for."""
    committed = {tp: om.offset for tp, om in cluster.committed_offsets(group.group_id).items()}
    owners = {
        tp: lagmath.Owner(m.member_id, m.client_id) for m in group.members for tp in m.assignment
    }
    ends = _log_ends(cluster, {tp.topic for tp in committed})
    return lagmath.partition_lags(committed, ends, owners)


def lag_data(links: Links, group_id: str, lag: lagmath.PartitionLag) -> ConsumerLagData:
    """A partition lag as a resource."""
    return ConsumerLagData(
        kind="KafkaConsumerLag",
        metadata=links.resource(
            ("consumer-groups", group_id, "lags", lag.topic, "partitions", lag.partition),
            ("consumer-group", group_id),
            ("lag", f"{lag.topic}-{lag.partition}"),
        ),
        cluster_id=links.cluster_id,
        consumer_group_id=group_id,
        topic_name=lag.topic,
        partition_id=lag.partition,
        current_offset=lag.current_offset,
        log_end_offset=lag.log_end_offset,
        lag=lag.lag,
        consumer_id=lag.owner.consumer_id,
        client_id=lag.owner.client_id,
    )


def lag_summary(
    links: Links, group_id: str, lags: list[lagmath.PartitionLag]
) -> ConsumerGroupLagSummaryData:
    """Total lag and the partition where the group lags most."""
    worst = lagmath.max_lag(lags)
    total = sum(lag.lag for lag in lags)
    topic = worst.topic if worst else ""
    partition = worst.partition if worst else 0
    owner = worst.owner if worst else lagmath.NO_OWNER
    return ConsumerGroupLagSummaryData(
        kind="KafkaConsumerGroupLagSummary",
        metadata=links.resource(
            ("consumer-groups", group_id, "lag-summary"),
            ("consumer-group", group_id),
            ("lag-summary", group_id),
        ),
        cluster_id=links.cluster_id,
        consumer_group_id=group_id,
        max_lag_consumer_id=owner.consumer_id,
        max_lag_client_id=owner.client_id,
        max_lag_topic_name=topic,
        max_lag_partition_id=partition,
        max_lag=worst.lag if worst else 0,
        total_lag=total,
        max_lag_consumer=links.related("consumer-groups", group_id, "consumers", owner.consumer_id),
        max_lag_partition=links.related("topics", topic, "partitions", partition),
    )


_RESET_KINDS = {
    "EARLIEST": ResetKind.EARLIEST,
    "LATEST": ResetKind.LATEST,
    "OFFSET": ResetKind.OFFSET,
    "TIMESTAMP": ResetKind.DATETIME,
    "SHIFT_BY": ResetKind.SHIFT_BY,
}


def reset_offsets(
    cluster: Cluster, group_id: str, request: ResetOffsetsRequest
) -> list[OffsetResetData]:
    """Move a group's committed offsets (the engine's reset rules: clamped into the log,
    refused while the group has live members). Without `topic_name`, every partition the
    group has a committed offset for on a topic that still exists."""
    try:
        target = ResetTarget(_RESET_KINDS[request.position], request.value)
    except ValueError as exc:
        raise bad_request(f"position {request.position}: {exc}") from None
    if request.topic_name is not None:
        spec = request.topic_name
        if request.partition_id is not None:
            spec = f"{spec}:{request.partition_id}"
        specs = [spec]
    else:
        if group_id not in {g.group_id for g in cluster.list_groups()}:
            raise group_not_found(group_id)
        existing = set(cluster.list_topics(include_internal=True))
        committed = sorted(tp for tp in cluster.committed_offsets(group_id) if tp.topic in existing)
        by_topic: dict[str, list[int]] = {}
        for tp in committed:
            if request.partition_id is None or tp.partition == request.partition_id:
                by_topic.setdefault(tp.topic, []).append(tp.partition)
        specs = [f"{t}:{','.join(map(str, ps))}" for t, ps in by_topic.items()]
    plan = plan_reset(cluster, group_id, specs, target) if specs else []
    if not request.validate_only:
        try:
            apply_reset(cluster, group_id, plan)
        except GroupNotEmptyError as exc:
            raise ClusterApiError(40901, str(exc)) from None
    return [
        OffsetResetData(
            topic_name=row.topic,
            partition_id=row.partition,
            previous_offset=row.current,
            offset=row.new,
        )
        for row in plan
    ]
