"""Idempotent producers' batches are stored with their records: a batch retried after the
listener restarted (its in-memory state gone) is answered as the duplicate it is, and the
stored state is bounded and expires as Kafka's does."""

from __future__ import annotations

import socket
import struct
import time
from pathlib import Path
from typing import Any

import pytest

from engine.embedded import EmbeddedCluster
from engine.embedded.chunks import pack_chunks
from engine.embedded.engine import PRODUCER_EXPIRATION_MS, make_row
from engine.kafka_listener import KafkaListener
from engine.kafka_listener.records import write_batch
from engine.types import ConsumedRecord
from tests.acl.test_listener_quotas import encode_request, read_frame

pytestmark = pytest.mark.kafka

PID, EPOCH = 4242, 0


def batch(first_seq: int, values: list[bytes]) -> bytes:
    records = [ConsumedRecord("t", 0, i, 1_000 + i, b"k", v, ()) for i, v in enumerate(values)]
    return write_batch(records, producer_id=PID, producer_epoch=EPOCH, base_sequence=first_seq)


def produce(port: int, records: bytes) -> tuple[int, int]:
    """One idempotent Produce v9 of `records` to t-0: (error code, base offset)."""
    from kio.serial import entity_reader

    from engine.kafka_listener.messages import response_type

    body = {
        "transactional_id": None,
        "acks": -1,
        "timeout": 30_000,
        "topic_data": [{"name": "t", "partition_data": [{"index": 0, "records": records}]}],
    }
    frame, _ = encode_request(0, 9, body)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(struct.pack(">i", len(frame)) + frame)
        data = read_frame(sock)
    reply: Any = entity_reader(response_type(0, 9))(data, 5)[0]  # after the v1 header
    part = reply.responses[0].partition_responses[0]
    return int(part.error_code), int(part.base_offset)


def serve(directory: Path) -> tuple[EmbeddedCluster, KafkaListener]:
    cluster = EmbeddedCluster(directory, maintenance_interval_s=None)
    return cluster, KafkaListener(cluster, "127.0.0.1", 0).start()


def test_a_batch_retried_after_a_restart_is_a_duplicate(tmp_path: Path) -> None:
    cluster, listener = serve(tmp_path)
    try:
        cluster.create_topic("t", 1)
        assert produce(listener.port, batch(0, [b"a", b"b"])) == (0, 0)
        assert produce(listener.port, batch(2, [b"c"])) == (0, 2)
    finally:
        listener.stop()
        cluster.close()
    cluster, listener = serve(tmp_path)
    try:
        # The listener is new: only the stored state can tell these apart.
        assert produce(listener.port, batch(2, [b"c"])) == (0, 2)
        assert produce(listener.port, batch(0, [b"a", b"b"])) == (0, 0)
        assert produce(listener.port, batch(5, [b"e"]))[0] == 45  # OUT_OF_ORDER_SEQUENCE_NUMBER
        assert produce(listener.port, batch(3, [b"d"])) == (0, 3)
        values = [r.value for r in cluster.fetch("t", 0, 0, max_records=100)]
        assert values == [b"a", b"b", b"c", b"d"]
    finally:
        listener.stop()
        cluster.close()


def test_stored_state_keeps_five_batches_of_the_latest_epoch_and_expires(
    tmp_path: Path,
) -> None:
    cluster = EmbeddedCluster(tmp_path, maintenance_interval_s=None)
    try:
        cluster.create_topic("t", 2, {"retention.ms": "-1"})
        engine = cluster.engine
        row = make_row(b"k", b"v", (), 5, 0)
        for seq in range(7):
            engine.append_rows("t", [row], [(0, PID, 1, seq, seq)])
        assert [b[1] for b in engine.producer_batches("t", 0, PID)] == [2, 3, 4, 5, 6]
        [(chunk_count, max_ts, size, blob)] = pack_chunks([row], None, 10, 1 << 20)
        engine.append_packed(
            "t", {0: [(chunk_count, max_ts, size, blob)]}, 1, False, [(0, PID, 2, 0, 0)]
        )
        assert engine.producer_batches("t", 0, PID) == [(2, 0, 0, 7)]
        assert engine.producer_batches("t", 1, PID) == []
        cluster.run_maintenance(int(time.time() * 1000) + PRODUCER_EXPIRATION_MS // 2)
        assert engine.producer_batches("t", 0, PID) == [(2, 0, 0, 7)]
        cluster.run_maintenance(int(time.time() * 1000) + 2 * PRODUCER_EXPIRATION_MS)
        assert engine.producer_batches("t", 0, PID) == []
        assert [r.value for r in cluster.fetch("t", 0, 0, max_records=100)] == [b"v"] * 8
    finally:
        cluster.close()
