"""Independent client implementations against the listener: aiokafka (pure Python, its own
protocol code) for produce, consume and groups, and kcat (librdkafka's command-line client
as Debian ships it)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess

import pytest

from engine.embedded.chunks import StoredChunk
from engine.kafka_listener.handlers import log as log_handlers
from engine.kafka_listener.records import CODEC_SNAPPY, BatchHeader
from engine.partitioner import partition_for_key
from engine.types import Record
from tests.engine.listener.conftest import Served, unique

pytestmark = pytest.mark.kafka

aiokafka = pytest.importorskip("aiokafka")


def test_aiokafka_produces_consumes_and_commits_in_a_group(served: Served) -> None:
    topic, group = unique("aio"), unique("aio-group")
    served.cluster.create_topic(topic, partitions=3)

    async def run() -> list[tuple[int, bytes, bytes]]:
        producer = aiokafka.AIOKafkaProducer(
            bootstrap_servers=served.bootstrap, enable_idempotence=True, compression_type="gzip"
        )
        await producer.start()
        try:
            for i in range(60):
                await producer.send(topic, b"v%d" % i, key=b"k%d" % i)
            await producer.flush()
        finally:
            await producer.stop()
        consumer = aiokafka.AIOKafkaConsumer(
            topic,
            bootstrap_servers=served.bootstrap,
            group_id=group,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        got: list[tuple[int, bytes, bytes]] = []
        try:
            while len(got) < 60:
                batches = await consumer.getmany(timeout_ms=1000)
                for records in batches.values():
                    got += [(r.partition, r.key, r.value) for r in records]
            await consumer.commit()
        finally:
            await consumer.stop()
        return got

    got = asyncio.run(run())
    assert sorted(got) == sorted(
        (partition_for_key(b"k%d" % i, 3), b"k%d" % i, b"v%d" % i) for i in range(60)
    )
    committed = served.cluster.committed_offsets(group)
    assert sum(om.offset for om in committed.values()) == 60


KCAT = shutil.which("kcat") or shutil.which("kafkacat")


@pytest.mark.skipif(KCAT is None, reason="kcat is not installed (Debian package kcat)")
def test_kcat_produces_compressed_and_consumes(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert KCAT is not None
    topic = unique("kcat")
    served.cluster.create_topic(topic, partitions=2)
    codecs: list[int] = []
    store = log_handlers.stored_batch

    def spy(header: BatchHeader, raw: memoryview) -> tuple[StoredChunk, int, bool] | None:
        stored = store(header, raw)
        if stored is not None:  # kept compressed, as it came
            codecs.append(header.codec)
        return stored

    monkeypatch.setattr(log_handlers, "stored_batch", spy)
    # Values that compress even alone: librdkafka sends a batch uncompressed when compressing
    # would not shrink it, and on a busy machine kcat may send every line in a batch of its own.
    values = [f"v{i}" * 40 for i in range(20)]
    lines = "".join(f"k{i}:{v}\n" for i, v in enumerate(values))
    subprocess.run(
        [KCAT, "-b", served.bootstrap, "-P", "-t", topic, "-K", ":", "-z", "snappy"],
        input=lines,
        text=True,
        check=True,
        timeout=60,
    )
    stored = sorted((r.key, r.value) for p in (0, 1) for r in served.cluster.fetch(topic, p, 0))
    assert stored == sorted((b"k%d" % i, v.encode()) for i, v in enumerate(values))
    # Debian's kcat links an old librdkafka, which compresses only when Produce v0 is
    # advertised. The consumer below reads the snappy batches back as they were stored,
    # next to a record the engine wrote in its own format.
    assert codecs and set(codecs) == {CODEC_SNAPPY}
    served.cluster.produce(topic, [Record(b"from-engine", b"e", partition=0)])
    out = subprocess.run(
        [KCAT, "-b", served.bootstrap, "-C", "-t", topic, "-e", "-f", "%k=%s\\n"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert sorted(out.split()) == sorted(
        [f"k{i}={v}" for i, v in enumerate(values)] + ["e=from-engine"]
    )
    listing = subprocess.run(
        [KCAT, "-b", served.bootstrap, "-L", "-t", topic],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert f'topic "{topic}" with 2 partitions' in listing
