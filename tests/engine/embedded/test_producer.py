"""The embedded producer: batching, ordering, errors, threads."""

from __future__ import annotations

import threading

import pytest

from engine.embedded import EmbeddedCluster, EmbeddedProducer
from engine.errors import RecordTooLargeError, UnknownTopicOrPartitionError
from engine.fastpath import native
from engine.types import OffsetSpec


def producer_of(cluster: EmbeddedCluster, **options: object) -> EmbeddedProducer:
    producer = cluster.producer(**options)
    assert isinstance(producer, EmbeddedProducer)
    return producer


def test_batches_and_reports_in_send_order(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("a", 3)
    cluster.create_topic("b", 1)
    producer = producer_of(cluster, batch_records=4)
    expected = []
    for i in range(10):
        topic = "a" if i % 3 else "b"
        producer.send(topic, str(i).encode(), key=str(i).encode(), headers=(("n", b"1"),))
        expected.append(topic)
    metadata = producer.flush()
    assert [m.topic for m in metadata] == expected
    for i, meta in enumerate(metadata):
        (record,) = cluster.fetch(meta.topic, meta.partition, meta.offset, max_records=1)
        assert record.value == str(i).encode() and record.headers == (("n", b"1"),)
    assert producer.flush() == []


def test_nothing_is_written_before_flush_below_the_batch_size(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 1)
    producer = producer_of(cluster, batch_records=3)
    producer.send("t", b"1")
    producer.send("t", b"2", timestamp_ms=7)
    assert producer.pending == 2
    assert cluster.list_offsets("t", OffsetSpec.LATEST) == {0: 0}
    producer.send("t", None, b"k")  # the third record fills the batch: written now
    assert cluster.list_offsets("t", OffsetSpec.LATEST) == {0: 3}
    metadata = producer.flush()
    assert [m.offset for m in metadata] == [0, 1, 2]
    assert metadata[1].timestamp_ms == 7


def test_a_failed_batch_stays_buffered(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 1, {"max.message.bytes": "10"})
    producer = producer_of(cluster)
    producer.send("t", b"ok")
    producer.send("t", b"x" * 50)
    with pytest.raises(RecordTooLargeError, match="50 bytes"):
        producer.flush()
    assert producer.pending == 2
    assert cluster.list_offsets("t", OffsetSpec.LATEST) == {0: 0}
    assert producer.purge() == 2
    producer.send("missing", b"v")
    with pytest.raises(UnknownTopicOrPartitionError):
        producer.flush()
    producer.purge()
    producer.close()
    assert producer.closed
    with pytest.raises(RuntimeError, match="closed"):
        producer.send("t", b"v")


def test_bad_arguments_are_refused(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 1)
    producer = producer_of(cluster)
    with pytest.raises(TypeError, match="value must be bytes"):
        producer.send("t", "text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        producer.send("t", b"v", b"k", color="red")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="topic name"):
        producer.send(b"t", b"v")  # type: ignore[arg-type]
    with pytest.raises(UnknownTopicOrPartitionError):
        producer.send("t", b"v", partition=-1)
    with pytest.raises(ValueError, match="batch_records"):
        cluster.producer(batch_records=0)
    assert producer.pending == 0


def test_threads_sharing_a_producer_lose_nothing(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 4)
    cluster.create_topic("u", 1)
    producer = producer_of(cluster, batch_records=97)
    per_thread = 1500

    def worker(n: int) -> None:
        for i in range(per_thread):
            topic = "u" if i % 50 == 0 else "t"
            producer.send(topic, f"{n}-{i}".encode(), f"{i}".encode())

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    metadata = producer.flush()
    assert len(metadata) == 4 * per_thread
    assert len({(m.topic, m.partition, m.offset) for m in metadata}) == 4 * per_thread
    stored = {
        (r.value or b"").decode()
        for topic, parts in (("t", 4), ("u", 1))
        for p in range(parts)
        for r in cluster.fetch(topic, p, 0, max_records=10**6, max_bytes=1 << 30)
    }
    assert stored == {f"{n}-{i}" for n in range(4) for i in range(per_thread)}


def test_reports_which_send_path_is_used() -> None:
    assert (native is None) == (EmbeddedProducer.__mro__[1].__name__ == "SendBufferPy")


def test_kafka_only_options_are_ignored_and_unknown_ones_refused(
    cluster: EmbeddedCluster,
) -> None:
    cluster.create_topic("t", 1)
    producer = cluster.producer(linger_ms=5, acks="all", batch_records=10)
    producer.send("t", b"v")
    assert len(producer.flush()) == 1
    consumer = cluster.consumer("g", fetch_min_bytes=1, enable_auto_commit=True)
    consumer.close()
    with pytest.raises(TypeError, match=r"unknown producer option.*lingerms"):
        cluster.producer(lingerms=5)
    with pytest.raises(TypeError, match="max_poll_interval_ms"):
        cluster.consumer("g", max_poll_ms=5)
