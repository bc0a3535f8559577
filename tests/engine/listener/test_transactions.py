"""Transactions with confluent-kafka's transactional API: exactly-once consume-transform-
produce, aborted records invisible to every reader, and fencing of an old instance."""

from __future__ import annotations

import confluent_kafka
import pytest

from engine.kafka import KafkaCluster
from engine.types import Record, TopicPartition
from tests.engine.listener.conftest import Served, unique

pytestmark = pytest.mark.kafka


def transactional(bootstrap: str, txn_id: str) -> confluent_kafka.Producer:
    """An initialised transactional producer."""
    producer = confluent_kafka.Producer(
        {"bootstrap.servers": bootstrap, "transactional.id": txn_id, "linger.ms": 1}
    )
    producer.init_transactions(10)
    return producer


def test_aborted_transactions_are_invisible(served: Served) -> None:
    """The strict xfail that marks this gap on tansu passes here."""
    topic = unique("abort")
    served.cluster.create_topic(topic)
    producer = transactional(served.bootstrap, unique("abort-txn"))
    producer.begin_transaction()
    producer.produce(topic, b"aborted", partition=0)
    producer.flush(10)
    producer.abort_transaction(10)
    kafka = KafkaCluster(served.bootstrap)
    try:
        kafka.produce(topic, [Record(b"kept")])
        assert [r.value for r in kafka.fetch(topic, 0, 0)] == [b"kept"]
    finally:
        kafka.close()
    # The engine's own readers never see the aborted record either.
    assert [r.value for r in served.cluster.fetch(topic, 0, 0)] == [b"kept"]


def test_open_transactions_hold_back_read_committed_readers(served: Served) -> None:
    topic = unique("open")
    served.cluster.create_topic(topic)
    producer = transactional(served.bootstrap, unique("open-txn"))
    producer.begin_transaction()
    producer.produce(topic, b"pending", partition=0)
    producer.flush(10)

    def high_watermark(isolation: str) -> int:
        consumer = confluent_kafka.Consumer(
            {
                "bootstrap.servers": served.bootstrap,
                "group.id": unique("lso"),
                "isolation.level": isolation,
            }
        )
        try:
            tp = confluent_kafka.TopicPartition(topic, 0)
            return int(consumer.get_watermark_offsets(tp, timeout=10)[1])
        finally:
            consumer.close()

    assert high_watermark("read_committed") == 0  # the last stable offset
    assert high_watermark("read_uncommitted") == 1
    producer.commit_transaction(10)
    assert high_watermark("read_committed") == 1


def test_exactly_once_consume_transform_produce(served: Served) -> None:
    source, sink, group = unique("eos-in"), unique("eos-out"), unique("eos-group")
    served.cluster.create_topic(source, partitions=2)
    served.cluster.create_topic(sink)
    served.cluster.produce(source, [Record(b"%d" % i, b"k%d" % i) for i in range(200)])
    consumer = confluent_kafka.Consumer(
        {
            "bootstrap.servers": served.bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    producer = transactional(served.bootstrap, unique("eos-txn"))
    consumer.subscribe([source])
    done = 0
    aborted_once = False
    try:
        for _ in range(500):
            batch = [m for m in consumer.consume(50, timeout=0.2) if m.error() is None]
            if not batch:
                if done >= 200:
                    break
                continue
            producer.begin_transaction()
            for msg in batch:
                producer.produce(sink, b"x" + msg.value(), msg.key())
            if not aborted_once:
                # The first transaction aborts: its output must vanish and its input be
                # read again.
                aborted_once = True
                producer.abort_transaction(10)
                positions: dict[tuple[str, int], int] = {}
                for msg in batch:
                    key = (msg.topic(), msg.partition())
                    positions.setdefault(key, msg.offset())
                for (t, p), off in positions.items():
                    consumer.seek(confluent_kafka.TopicPartition(t, p, off))
                continue
            producer.send_offsets_to_transaction(
                consumer.position(consumer.assignment()),
                consumer.consumer_group_metadata(),
                10,
            )
            producer.commit_transaction(10)
            done += len(batch)
    finally:
        consumer.close()
    out = served.cluster.fetch(sink, 0, 0, max_records=10_000)
    assert sorted(r.value for r in out if r.value) == sorted(b"x%d" % i for i in range(200))
    committed = served.cluster.committed_offsets(group)
    ends = {p.partition: p.latest_offset for p in served.cluster.describe_topic(source).partitions}
    assert {tp.partition: om.offset for tp, om in committed.items()} == ends
    assert set(committed) == {TopicPartition(source, p) for p in ends}


def test_a_new_instance_fences_the_old_one(served: Served) -> None:
    topic, txn_id = unique("fence"), unique("fence-txn")
    served.cluster.create_topic(topic)
    old = transactional(served.bootstrap, txn_id)
    old.begin_transaction()
    old.produce(topic, b"from-old", partition=0)
    old.flush(10)
    new = transactional(served.bootstrap, txn_id)  # aborts the old one's transaction
    new.begin_transaction()
    new.produce(topic, b"from-new", partition=0)
    new.commit_transaction(10)
    with pytest.raises(confluent_kafka.KafkaException) as raised:
        old.commit_transaction(10)
    assert raised.value.args[0].fatal() or raised.value.args[0].txn_requires_abort()
    assert [r.value for r in served.cluster.fetch(topic, 0, 0)] == [b"from-new"]
