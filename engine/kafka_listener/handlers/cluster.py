"""Metadata, DescribeCluster, FindCoordinator and InitProducerId: the broker describing
itself, its topics and where coordinators are (always this node)."""

from __future__ import annotations

import uuid
from typing import Any

from engine.auth import CLUSTER_RESOURCE, Operation, ResourceType
from engine.errors import EngineError, TopicAlreadyExistsError
from engine.kafka_listener import errors
from engine.kafka_listener.broker import Broker
from engine.kafka_listener.context import Connection, Request
from engine.topics import is_internal

#: The leader epoch every partition reports (one node, leadership never moves).
LEADER_EPOCH = 0


def _broker_entry(broker: Broker) -> dict[str, Any]:
    s = broker.settings
    return {"node_id": s.node_id, "host": s.advertised_host, "port": s.port, "rack": None}


def _topic_entry(broker: Broker, name: str, error: int = errors.NONE) -> dict[str, Any]:
    meta = broker.topics().get(name)
    if meta is None or error:
        return {
            "error_code": error or errors.UNKNOWN_TOPIC_OR_PARTITION,
            "name": name,
            "topic_id": 0,
            "partitions": [],
        }
    node = broker.settings.node_id
    return {
        "error_code": errors.NONE,
        "name": name,
        "topic_id": uuid.UUID(hex=meta.topic_id),
        "is_internal": is_internal(name) and name.startswith("__"),
        "partitions": [
            {
                "error_code": errors.NONE,
                "partition_index": p,
                "leader_id": node,
                "leader_epoch": LEADER_EPOCH,
                "replica_nodes": [node],
                "isr_nodes": [node],
                "offline_replicas": [],
            }
            for p in range(meta.partitions)
        ],
        "topic_authorized_operations": -2147483648,
    }


def metadata_sync(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """Metadata: the broker, the controller (this node) and the requested topics."""
    body = request.body
    known = broker.topics()
    if body.topics is None or (request.api_version == 0 and not body.topics):
        names = [
            n for n in sorted(known) if conn.allowed(Operation.DESCRIBE, ResourceType.TOPIC, n)
        ]
        topics = [_topic_entry(broker, n) for n in names]
    else:
        auto_create = broker.settings.auto_create_topics and getattr(
            body, "allow_auto_topic_creation", True
        )
        topics = []
        for requested in body.topics:
            name = requested.name
            if name is None:
                topics.append(_topic_entry(broker, "", errors.UNKNOWN_TOPIC_OR_PARTITION))
                continue
            if not conn.allowed(Operation.DESCRIBE, ResourceType.TOPIC, name):
                topics.append(_topic_entry(broker, name, errors.TOPIC_AUTHORIZATION_FAILED))
                continue
            if name not in known and auto_create:
                topics.append(_auto_create(broker, conn, name))
                continue
            topics.append(_topic_entry(broker, name))
    return {
        "brokers": [_broker_entry(broker)],
        "cluster_id": broker.cluster_id,
        "controller_id": broker.settings.node_id,
        "topics": topics,
        "cluster_authorized_operations": -2147483648,
    }


def _auto_create(broker: Broker, conn: Connection, name: str) -> dict[str, Any]:
    """Create a topic a client asked about (auto.create.topics.enable): LEADER_NOT_AVAILABLE
    this once, as Kafka answers while it creates one."""
    if not (
        conn.allowed(Operation.CREATE, ResourceType.CLUSTER, CLUSTER_RESOURCE)
        or conn.allowed(Operation.CREATE, ResourceType.TOPIC, name)
    ):
        return _topic_entry(broker, name, errors.TOPIC_AUTHORIZATION_FAILED)
    try:
        broker.engine.create_topic(name)
    except TopicAlreadyExistsError:
        return _topic_entry(broker, name)
    except EngineError as exc:
        return _topic_entry(broker, name, errors.code_of(exc))
    return _topic_entry(broker, name)


async def metadata(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """Metadata (runs on the pool: it may create topics)."""
    return await broker.run(metadata_sync, broker, conn, request)


async def describe_cluster(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """DescribeCluster: this one node, which is also the controller."""
    return {
        "error_code": errors.NONE,
        "cluster_id": broker.cluster_id,
        "controller_id": broker.settings.node_id,
        "brokers": [
            {
                "broker_id": broker.settings.node_id,
                "host": broker.settings.advertised_host,
                "port": broker.settings.port,
                "rack": None,
            }
        ],
        "cluster_authorized_operations": -2147483648,
    }


async def find_coordinator(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """FindCoordinator: this node for every group and transactional id (v4+ batches keys)."""
    body = request.body
    s = broker.settings
    if request.api_version >= 4:
        return {
            "coordinators": [
                {
                    "key": key,
                    "node_id": s.node_id,
                    "host": s.advertised_host,
                    "port": s.port,
                    "error_code": errors.NONE,
                    "error_message": None,
                }
                for key in body.coordinator_keys
            ]
        }
    return {
        "error_code": errors.NONE,
        "error_message": None,
        "node_id": s.node_id,
        "host": s.advertised_host,
        "port": s.port,
    }


async def init_producer_id(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """InitProducerId: a fresh producer id, or for a transactional id the next epoch."""
    body = request.body
    txn_id = body.transactional_id
    if txn_id is not None and not conn.allowed(
        Operation.WRITE, ResourceType.TRANSACTIONAL_ID, txn_id
    ):
        return {
            "error_code": errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
            "producer_id": -1,
            "producer_epoch": -1,
        }
    timeout_ms = int(body.transaction_timeout.total_seconds() * 1000)
    error, pid, epoch = await broker.run(
        broker.transactions.init_producer_id, txn_id or None, timeout_ms
    )
    return {"error_code": error, "producer_id": pid, "producer_epoch": epoch}
