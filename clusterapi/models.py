"""Request and response bodies of the cluster admin API, with Confluent REST Proxy v3 field names.

Every resource carries `kind` and `metadata.self` (its own URL) and links to related resources
with `{"related": url}`, as REST Proxy v3 does, so scripts written for REST Proxy read these
responses unchanged. Fields REST Proxy does not have are marked "streamgov addition".
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: Longest topic name Kafka accepts.
MAX_TOPIC_NAME = 249
#: Largest payload (after decoding) one produce request may carry, per key or value.
MAX_DATA_BYTES = 8 * 1024 * 1024
MAX_HEADERS = 100
MAX_CONFIGS = 200
MAX_PARTITIONS = 10_000
#: Largest integer every JSON client reads exactly (2^53); offsets and timestamps stay below.
MAX_JSON_INT = 2**53

ConsumerGroupState = Literal[
    "UNKNOWN", "PREPARING_REBALANCE", "COMPLETING_REBALANCE", "STABLE", "DEAD", "EMPTY"
]
DataType = Literal["BINARY", "JSON", "STRING"]


class Relationship(BaseModel):
    """A link to a related resource."""

    related: str


class ResourceMetadata(BaseModel):
    """Where a resource lives: its URL and its Confluent resource name."""

    self: str
    resource_name: str | None = None


class CollectionMetadata(BaseModel):
    """Where a collection lives, and the next page when there is one."""

    self: str
    next: str | None = None


class Resource(BaseModel):
    """Base of every single resource."""

    kind: str
    metadata: ResourceMetadata


class Collection(BaseModel):
    """Base of every list response."""

    kind: str
    metadata: CollectionMetadata


class ErrorBody(BaseModel):
    """The error shape of every failed request: HTTP status plus a finer code."""

    error_code: int
    message: str


class ClusterData(Resource):
    """A cluster and links to its sub-resources."""

    cluster_id: str
    controller: Relationship | None = None
    acls: Relationship
    brokers: Relationship
    broker_configs: Relationship
    consumer_groups: Relationship
    topics: Relationship
    partition_reassignments: Relationship


class ClusterDataList(Collection):
    """`GET /v3/clusters`."""

    data: list[ClusterData]


class TopicData(Resource):
    """A topic. `damaged` is a streamgov addition: set (naming the file and what is wrong) when
    the topic's storage cannot be read; its partitions are then unknown (`partitions_count` 0)."""

    cluster_id: str
    topic_name: str
    is_internal: bool
    replication_factor: int
    partitions_count: int
    partitions: Relationship
    configs: Relationship
    partition_reassignments: Relationship
    damaged: str | None = None


class TopicDataList(Collection):
    """`GET /v3/clusters/{cluster_id}/topics`."""

    data: list[TopicData]


class ConfigEntry(BaseModel):
    """One `name`/`value` pair of a create-topic request."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=255)
    value: str | None = Field(default=None, max_length=65_536)


class CreateTopicRequest(BaseModel):
    """`POST /v3/clusters/{cluster_id}/topics`."""

    model_config = ConfigDict(extra="ignore")

    topic_name: str = Field(min_length=1, max_length=MAX_TOPIC_NAME)
    partitions_count: int | None = Field(default=None, ge=1, le=MAX_PARTITIONS)
    replication_factor: int | None = Field(default=None, ge=1, le=32_767)
    configs: list[ConfigEntry] = Field(default_factory=list, max_length=MAX_CONFIGS)
    validate_only: bool = False


class UpdatePartitionCountRequest(BaseModel):
    """`PATCH /v3/clusters/{cluster_id}/topics/{topic_name}`: grow the partition count."""

    partitions_count: int = Field(ge=1, le=MAX_PARTITIONS)


class PartitionData(Resource):
    """A partition. `earliest_offset`/`latest_offset`/`size_bytes` are a streamgov addition
    (`size_bytes` is null where the backend cannot tell, as on Kafka)."""

    cluster_id: str
    topic_name: str
    partition_id: int
    leader: Relationship | None = None
    replicas: Relationship
    reassignment: Relationship
    earliest_offset: int
    latest_offset: int
    size_bytes: int | None = None


class PartitionDataList(Collection):
    """`GET .../topics/{topic_name}/partitions`."""

    data: list[PartitionData]


class ConfigSynonymData(BaseModel):
    """Where else a config value could come from."""

    name: str
    value: str | None = None
    source: str


class TopicConfigData(Resource):
    """One configuration entry of a topic."""

    cluster_id: str
    topic_name: str
    name: str
    value: str | None
    is_default: bool
    is_read_only: bool
    is_sensitive: bool
    source: str
    synonyms: list[ConfigSynonymData]


class TopicConfigDataList(Collection):
    """`GET .../topics/{topic_name}/configs`."""

    data: list[TopicConfigData]


class AlterConfigEntry(BaseModel):
    """One change of an `:alter` batch: SET (default) a value, or DELETE to reset it."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=255)
    value: str | None = Field(default=None, max_length=65_536)
    operation: Literal["SET", "DELETE", "set", "delete"] | None = None


class AlterConfigBatchRequest(BaseModel):
    """`POST .../topics/{topic_name}/configs:alter`."""

    model_config = ConfigDict(extra="ignore")

    data: list[AlterConfigEntry] = Field(max_length=MAX_CONFIGS)
    validate_only: bool = False


class UpdateConfigRequest(BaseModel):
    """`PUT .../topics/{topic_name}/configs/{name}`."""

    model_config = ConfigDict(extra="ignore")

    value: str | None = Field(default=None, max_length=65_536)


class ProduceRequestData(BaseModel):
    """A key or value to produce: `type` says how to turn `data` into bytes.

    BINARY: `data` is base64; JSON: `data` is any JSON value, written as JSON text;
    STRING: `data` is a string, written as UTF-8.
    """

    model_config = ConfigDict(extra="ignore")

    type: str | None = None
    data: Any = None
    subject: str | None = None
    schema_id: int | None = None
    schema_version: int | None = None
    schema_: str | None = Field(default=None, alias="schema")


class ProduceRequestHeader(BaseModel):
    """A record header; `value` is base64."""

    name: str = Field(min_length=1, max_length=1024)
    value: str | None = None


class ProduceRequest(BaseModel):
    """`POST .../topics/{topic_name}/records`: one record."""

    model_config = ConfigDict(extra="ignore")

    partition_id: int | None = Field(default=None, ge=0)
    headers: list[ProduceRequestHeader] = Field(default_factory=list, max_length=MAX_HEADERS)
    key: ProduceRequestData | None = None
    value: ProduceRequestData | None = None
    timestamp: str | None = Field(default=None, max_length=64)


class ProduceResponseData(BaseModel):
    """Size and type of a produced key or value."""

    size: int
    type: str | None = None
    subject: str | None = None
    schema_id: int | None = None
    schema_version: int | None = None


class ProduceResponse(BaseModel):
    """Where a produced record landed."""

    error_code: int
    cluster_id: str
    topic_name: str
    partition_id: int
    offset: int
    timestamp: str | None = None
    key: ProduceResponseData | None = None
    value: ProduceResponseData | None = None


class RecordData(BaseModel):
    """Raw bytes of a key or value, base64 (`type` is always BINARY). Streamgov addition."""

    type: Literal["BINARY"] = "BINARY"
    size: int
    data: str


class RecordHeader(BaseModel):
    """A header of a read record; `value` is base64 or null."""

    name: str
    value: str | None


class RecordDataItem(Resource):
    """One record read from a partition. Streamgov addition."""

    cluster_id: str
    topic_name: str
    partition_id: int
    offset: int
    timestamp: str
    timestamp_ms: int
    key: RecordData | None
    value: RecordData | None
    headers: list[RecordHeader]


class RecordDataList(Collection):
    """`GET .../partitions/{partition_id}/records`: a page of records. Streamgov addition.

    `next_offset` is where the next page starts; `earliest_offset`/`latest_offset` bound the
    partition when the page was read.
    """

    data: list[RecordDataItem]
    next_offset: int
    earliest_offset: int
    latest_offset: int


class ConsumerGroupData(Resource):
    """A consumer group."""

    cluster_id: str
    consumer_group_id: str
    is_simple: bool
    partition_assignor: str
    state: ConsumerGroupState
    coordinator: Relationship
    consumers: Relationship
    lag_summary: Relationship


class ConsumerGroupDataList(Collection):
    """`GET /v3/clusters/{cluster_id}/consumer-groups`."""

    data: list[ConsumerGroupData]


class ConsumerData(Resource):
    """A live member of a consumer group."""

    cluster_id: str
    consumer_group_id: str
    consumer_id: str
    instance_id: str | None = None
    client_id: str
    assignments: Relationship


class ConsumerDataList(Collection):
    """`GET .../consumer-groups/{consumer_group_id}/consumers`."""

    data: list[ConsumerData]


class ConsumerAssignmentData(Resource):
    """A partition assigned to a consumer."""

    cluster_id: str
    consumer_group_id: str
    consumer_id: str
    topic_name: str
    partition_id: int
    partition: Relationship
    lag: Relationship


class ConsumerAssignmentDataList(Collection):
    """`GET .../consumers/{consumer_id}/assignments`."""

    data: list[ConsumerAssignmentData]


class ConsumerLagData(Resource):
    """The lag of a group on one partition it has committed offsets for."""

    cluster_id: str
    consumer_group_id: str
    topic_name: str
    partition_id: int
    current_offset: int
    log_end_offset: int
    lag: int
    consumer_id: str
    instance_id: str | None = None
    client_id: str


class ConsumerLagDataList(Collection):
    """`GET .../consumer-groups/{consumer_group_id}/lags`."""

    data: list[ConsumerLagData]


class ConsumerGroupLagSummaryData(Resource):
    """Total lag of a group and the partition where it lags most."""

    cluster_id: str
    consumer_group_id: str
    max_lag_consumer_id: str
    max_lag_instance_id: str | None = None
    max_lag_client_id: str
    max_lag_topic_name: str
    max_lag_partition_id: int
    max_lag: int
    total_lag: int
    max_lag_consumer: Relationship
    max_lag_partition: Relationship


ResetPosition = Literal["EARLIEST", "LATEST", "OFFSET", "TIMESTAMP", "SHIFT_BY"]


class ResetOffsetsRequest(BaseModel):
    """`POST .../consumer-groups/{consumer_group_id}/offsets:reset`. Streamgov addition.

    Moves the group's committed offsets on `topic_name` (every topic the group has offsets
    for when omitted), optionally only `partition_id`, to a position: EARLIEST, LATEST,
    OFFSET (`value` is the offset), TIMESTAMP (`value` is epoch milliseconds) or SHIFT_BY
    (`value` is added to the current offset). Offsets are clamped into the partition's range.
    """

    model_config = ConfigDict(extra="ignore")

    topic_name: str | None = Field(default=None, min_length=1, max_length=MAX_TOPIC_NAME)
    partition_id: int | None = Field(default=None, ge=0)
    position: ResetPosition
    value: int | None = Field(default=None, ge=-MAX_JSON_INT, le=MAX_JSON_INT)
    validate_only: bool = False


class OffsetResetData(BaseModel):
    """A committed offset before and after a reset."""

    topic_name: str
    partition_id: int
    previous_offset: int | None
    offset: int


class OffsetResetDataList(Collection):
    """The outcome of a reset: one entry per partition."""

    consumer_group_id: str
    validate_only: bool
    data: list[OffsetResetData]
