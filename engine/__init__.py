"""The stream engine: the `Cluster` protocol, its embedded (SQLite) and Kafka backends, and the
state log every component keeps its state in."""

from engine.cluster import Cluster, Consumer, Producer
from engine.errors import EngineError
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
)

__all__ = [
    "Cluster",
    "ConsumedRecord",
    "Consumer",
    "EngineError",
    "GroupDescription",
    "GroupListing",
    "GroupState",
    "MemberDescription",
    "OffsetAndMetadata",
    "OffsetSpec",
    "PartitionInfo",
    "Producer",
    "Record",
    "RecordMetadata",
    "TopicDescription",
    "TopicPartition",
]
