"""The Kafka APIs this broker serves: one line per API key, with the versions it accepts
(ApiVersions advertises exactly this table) and its handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.kafka_listener.context import Connection, Request
from engine.kafka_listener.handlers import acls, admin, cluster, groups, log, quotas, sasl, txn

if TYPE_CHECKING:
    from engine.kafka_listener.broker import Broker

Handler = Callable[["Broker", Connection, Request], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Api:
    """An API key's supported versions and its handler."""

    name: str
    min_version: int
    max_version: int
    handler: Handler


async def api_versions(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """ApiVersions: every API of `APIS` with its version range; no features (finalized
    features would move clients to protocols this broker does not speak)."""
    return {
        "error_code": 0,
        "api_keys": [
            {"api_key": key, "min_version": api.min_version, "max_version": api.max_version}
            for key, api in sorted(APIS.items())
        ],
        "supported_features": [],
        "finalized_features_epoch": -1,
        "finalized_features": [],
    }


APIS: dict[int, Api] = {
    # Produce from 0: librdkafka before 2.11.1 turns compression off unless the range holds
    # v0 (librdkafka#4956). Requests below v3 (pre-0.11 message sets) close the connection.
    0: Api("Produce", 0, 9, log.produce),
    1: Api("Fetch", 4, 12, log.fetch),
    2: Api("ListOffsets", 1, 7, log.list_offsets),
    3: Api("Metadata", 0, 12, cluster.metadata),
    8: Api("OffsetCommit", 2, 9, groups.offset_commit),
    9: Api("OffsetFetch", 1, 9, groups.offset_fetch),
    10: Api("FindCoordinator", 0, 4, cluster.find_coordinator),
    11: Api("JoinGroup", 0, 9, groups.join_group),
    12: Api("Heartbeat", 0, 4, groups.heartbeat),
    13: Api("LeaveGroup", 0, 5, groups.leave_group),
    14: Api("SyncGroup", 0, 5, groups.sync_group),
    15: Api("DescribeGroups", 0, 5, groups.describe_groups),
    16: Api("ListGroups", 0, 4, groups.list_groups),
    17: Api("SaslHandshake", 1, 1, sasl.sasl_handshake),
    18: Api("ApiVersions", 0, 3, api_versions),
    19: Api("CreateTopics", 2, 7, admin.create_topics),
    20: Api("DeleteTopics", 1, 6, admin.delete_topics),
    21: Api("DeleteRecords", 0, 2, admin.delete_records),
    22: Api("InitProducerId", 0, 4, cluster.init_producer_id),
    24: Api("AddPartitionsToTxn", 0, 3, txn.add_partitions_to_txn),
    25: Api("AddOffsetsToTxn", 0, 3, txn.add_offsets_to_txn),
    26: Api("EndTxn", 0, 3, txn.end_txn),
    28: Api("TxnOffsetCommit", 0, 3, txn.txn_offset_commit),
    29: Api("DescribeAcls", 1, 3, acls.describe_acls),
    30: Api("CreateAcls", 1, 3, acls.create_acls),
    31: Api("DeleteAcls", 1, 3, acls.delete_acls),
    32: Api("DescribeConfigs", 1, 4, admin.describe_configs),
    33: Api("AlterConfigs", 0, 2, admin.alter_configs),
    36: Api("SaslAuthenticate", 0, 2, sasl.sasl_authenticate),
    37: Api("CreatePartitions", 0, 3, admin.create_partitions),
    42: Api("DeleteGroups", 0, 2, groups.delete_groups),
    44: Api("IncrementalAlterConfigs", 0, 1, admin.incremental_alter_configs),
    47: Api("OffsetDelete", 0, 0, groups.offset_delete),
    48: Api("DescribeClientQuotas", 0, 1, quotas.describe_client_quotas),
    49: Api("AlterClientQuotas", 0, 1, quotas.alter_client_quotas),
    60: Api("DescribeCluster", 0, 1, cluster.describe_cluster),
}
