"""Transactions: AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit and EndTxn, answered
by the `TransactionCoordinator`."""

from __future__ import annotations

from typing import Any

from engine.auth import Operation, ResourceType
from engine.kafka_listener import errors
from engine.kafka_listener.broker import Broker
from engine.kafka_listener.context import Connection, Request
from engine.types import OffsetAndMetadata, TopicPartition


def _txn_denied(conn: Connection, transactional_id: str) -> bool:
    return not conn.allowed(Operation.WRITE, ResourceType.TRANSACTIONAL_ID, transactional_id)


def add_partitions_sync(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """AddPartitionsToTxn (v0-3: one transaction per request)."""
    body = request.body
    txn_id = body.v3_and_below_transactional_id
    known = broker.topics()
    codes: dict[TopicPartition, int] = {}
    valid: list[TopicPartition] = []
    denied = _txn_denied(conn, txn_id)
    for topic in body.v3_and_below_topics:
        for p in topic.partitions:
            tp = TopicPartition(topic.name, p)
            if denied:
                codes[tp] = errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
            elif not conn.allowed(Operation.WRITE, ResourceType.TOPIC, topic.name):
                codes[tp] = errors.TOPIC_AUTHORIZATION_FAILED
            elif topic.name not in known or not 0 <= p < known[topic.name].partitions:
                codes[tp] = errors.UNKNOWN_TOPIC_OR_PARTITION
            else:
                valid.append(tp)
    if valid and not codes:
        code = broker.transactions.add_partitions(
            txn_id, body.v3_and_below_producer_id, body.v3_and_below_producer_epoch, valid
        )
        codes.update(dict.fromkeys(valid, code))
    else:
        # Kafka refuses the whole request when one partition fails.
        codes.update(dict.fromkeys(valid, 73))  # OPERATION_NOT_ATTEMPTED
    by_topic: dict[str, list[dict[str, Any]]] = {}
    for tp, code in codes.items():
        by_topic.setdefault(tp.topic, []).append(
            {"partition_index": tp.partition, "partition_error_code": code}
        )
    return {
        "results_by_topic_v3_and_below": [
            {"name": name, "results_by_partition": parts} for name, parts in by_topic.items()
        ]
    }


async def add_partitions_to_txn(
    broker: Broker, conn: Connection, request: Request
) -> dict[str, Any]:
    """AddPartitionsToTxn."""
    return await broker.run(add_partitions_sync, broker, conn, request)


async def add_offsets_to_txn(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """AddOffsetsToTxn."""
    body = request.body
    if _txn_denied(conn, body.transactional_id):
        return {"error_code": errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED}
    if not conn.allowed(Operation.READ, ResourceType.GROUP, body.group_id):
        return {"error_code": errors.GROUP_AUTHORIZATION_FAILED}
    code = await broker.run(
        broker.transactions.add_offsets,
        body.transactional_id,
        body.producer_id,
        body.producer_epoch,
        body.group_id,
    )
    return {"error_code": code}


async def txn_offset_commit(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """TxnOffsetCommit: offsets applied when the transaction commits."""
    body = request.body
    offsets = {
        TopicPartition(t.name, p.partition_index): OffsetAndMetadata(
            p.committed_offset, p.committed_metadata or ""
        )
        for t in body.topics
        for p in t.partitions
    }
    if _txn_denied(conn, body.transactional_id):
        code = errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    elif not conn.allowed(Operation.READ, ResourceType.GROUP, body.group_id):
        code = errors.GROUP_AUTHORIZATION_FAILED
    else:
        code = await broker.run(
            broker.transactions.commit_offsets,
            body.transactional_id,
            body.producer_id,
            body.producer_epoch,
            body.group_id,
            offsets,
        )
    return {
        "topics": [
            {
                "name": t.name,
                "partitions": [
                    {"partition_index": p.partition_index, "error_code": code} for p in t.partitions
                ],
            }
            for t in body.topics
        ]
    }


async def end_txn(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """EndTxn: commit or abort."""
    body = request.body
    if _txn_denied(conn, body.transactional_id):
        return {"error_code": errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED}
    code = await broker.run(
        broker.transactions.end,
        body.transactional_id,
        body.producer_id,
        body.producer_epoch,
        body.committed,
    )
    return {"error_code": code}
