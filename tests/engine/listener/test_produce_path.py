"""A Produce request that waits for SQLite's write lock (held by another connection, as another
process would) stalls no other connection, and is written once when the lock is free."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

import confluent_kafka
import pytest

from engine.kafka_listener.handlers import log
from engine.types import OffsetSpec
from tests.engine.listener.conftest import Served, unique

pytestmark = pytest.mark.kafka


def producer(bootstrap: str) -> confluent_kafka.Producer:
    return confluent_kafka.Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 0})


def test_a_produce_waiting_for_the_write_lock_stalls_no_other_connection(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster = served.cluster
    locked, free = unique("locked"), unique("free")
    cluster.create_topic(locked, 1)
    cluster.create_topic(free, 1)
    on_pool = threading.Event()
    real = log.produce_sync

    def spied(broker: Any, conn: Any, body: Any) -> Any:
        if body.topic_data[0].name == locked:
            on_pool.set()
        return real(broker, conn, body)

    monkeypatch.setattr(log, "produce_sync", spied)
    # Another connection (as another process would) holds the locked topic's write lock.
    blocker = sqlite3.connect(
        cluster.engine.topic_file(cluster.engine._meta(locked).topic_id), isolation_level=None
    )
    blocker.execute("BEGIN IMMEDIATE")
    waiting = producer(served.bootstrap)
    delivered: list[Any] = []
    try:
        waiting.produce(locked, b"waited", b"k", on_delivery=lambda err, msg: delivered.append(err))
        waiting.poll(0)
        assert on_pool.wait(30), "the request never reached the pool"
        other = producer(served.bootstrap)
        for i in range(5):
            other.produce(free, b"v%d" % i, b"k")
        assert other.flush(30) == 0  # answered while the first request still waits
        assert cluster.list_offsets(free, OffsetSpec.LATEST) == {0: 5}
        assert delivered == []
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert waiting.flush(30) == 0
    assert delivered == [None]
    records = cluster.fetch(locked, 0, 0)
    assert [r.value for r in records] == [b"waited"]  # written once, after the wait
