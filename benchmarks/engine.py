"""Stream engine throughput: the embedded engine side by side with the tansu broker.

Produce and consume records/s for `EmbeddedCluster` (SQLite, WAL) and for the tansu
Kafka-protocol broker (in memory) driven through confluent-kafka, in one run, with the same
records: keyed (murmur2 partitioning on both sides), 100-byte values.

* produce: `send` every record, then `flush` (confluent-kafka: `produce` + `flush`, with
  `partitioner=murmur2_random`); the clock stops when every record is acknowledged.
* consume: read every record back from the beginning with `assign()` (no group join), in
  polls of at most `POLL_RECORDS` records on both sides. The clock starts when the first
  record has arrived, on both sides, so the broker's connection set-up (metadata, offset
  look-ups) is not counted against it, and no poll asks for more records than remain:
  confluent-kafka's `consume(n, timeout)` waits until it has `n` messages or the timeout
  passes, so a last poll asking for more than remain waited a whole second (which is what
  held the anchor at about 60,000 records/s before).

The anchor's client is tuned as a user after throughput would tune it (`PRODUCER_SETTINGS`,
`CONSUMER_SETTINGS`): larger fetches per partition and per request, a short fetch wait, and a
deep pre-fetch queue, so the consumer is never waiting for its next fetch to be asked for.
The embedded engine has no such settings (a poll reads straight from the log); the poll size,
the one setting both sides share, is the same.

The embedded engine is measured twice: as configured by default (`synchronous=NORMAL`, durable
against process crashes) and with `durable=True` (an fsync per commit).

Run: python benchmarks/engine.py [--records 300000] [--partitions 6] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.embedded import EmbeddedCluster
from engine.types import TopicPartition
from streamgov.fastpaths import status

#: Records asked for per poll on both sides (`poll` max_records, `consume` num_messages).
POLL_RECORDS = 500

#: The anchor's producer, tuned for throughput (librdkafka names).
PRODUCER_SETTINGS: dict[str, object] = {
    "partitioner": "murmur2_random",  # the embedded engine's partitioner
    "linger.ms": 5,
    "batch.size": 1_000_000,
    "batch.num.messages": 10_000,
}

#: The anchor's consumer, tuned for throughput: fetch up to 10 MiB per partition and 50 MiB
#: per request, answer after 10 ms at most instead of 500, and keep up to 200,000 records
#: (256 MiB) pre-fetched per partition queue.
CONSUMER_SETTINGS: dict[str, object] = {
    "fetch.max.bytes": 52_428_800,
    "max.partition.fetch.bytes": 10_485_760,
    "fetch.wait.max.ms": 10,
    "fetch.min.bytes": 1,
    "queued.min.messages": 200_000,
    "queued.max.messages.kbytes": 262_144,
}


def make_records(count: int) -> tuple[list[bytes], list[bytes]]:
    """Keys `key-<n>` and 100-byte values (from a pool of 1000 distinct values)."""
    pool = [os.urandom(50).hex().encode() for _ in range(1000)]
    return [f"key-{i}".encode() for i in range(count)], [pool[i % 1000] for i in range(count)]


def embedded_round(
    root: Path, number: int, keys: list[bytes], values: list[bytes], partitions: int, durable: bool
) -> tuple[float, float]:
    """One produce and one consume pass on a fresh embedded cluster; returns (prod, cons) rec/s."""
    with EmbeddedCluster(
        root / f"r{number}-{durable}", maintenance_interval_s=None, durable=durable
    ) as cluster:
        cluster.create_topic("bench", partitions)
        producer = cluster.producer()
        send = producer.send
        started = time.perf_counter()
        for key, value in zip(keys, values, strict=True):
            send("bench", value, key)
        acknowledged = producer.flush()
        produce_s = time.perf_counter() - started
        assert len(acknowledged) == len(keys)

        consumer = cluster.consumer(auto_offset_reset="earliest")
        consumer.assign([TopicPartition("bench", p) for p in range(partitions)])
        first = 0
        while not first:
            first = len(consumer.poll(1.0, POLL_RECORDS))
        started = time.perf_counter()
        seen = first
        while seen < len(keys):
            seen += len(consumer.poll(1.0, min(POLL_RECORDS, len(keys) - seen)))
        consume_s = time.perf_counter() - started
        consumer.close()
    return len(keys) / produce_s, (len(keys) - first) / consume_s


def tansu_round(
    bootstrap: str, number: int, keys: list[bytes], values: list[bytes], partitions: int
) -> tuple[float, float]:
    """One produce and one consume pass on a fresh topic of the tansu broker."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer
    from confluent_kafka import TopicPartition as KafkaPartition
    from confluent_kafka.admin import AdminClient, NewTopic

    topic = f"bench-{number}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, partitions, 1)]).values():
        future.result(30)
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            **PRODUCER_SETTINGS,
            "queue.buffering.max.messages": max(len(keys) * 2, 100_000),
        }
    )
    producer.produce(topic, b"warm-up", b"warm-up")  # connect and fetch metadata first
    producer.flush(30)
    produce = producer.produce
    started = time.perf_counter()
    for key, value in zip(keys, values, strict=True):
        produce(topic, value, key)
    remaining = producer.flush(60)
    produce_s = time.perf_counter() - started
    assert remaining == 0, f"{remaining} records were not acknowledged"

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-{number}",
            "enable.auto.commit": False,
            **CONSUMER_SETTINGS,
        }
    )
    consumer.assign([KafkaPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    total = len(keys) + 1  # with the warm-up record
    deadline = time.perf_counter() + 120
    first = 0
    while not first and time.perf_counter() < deadline:
        first = sum(1 for m in consumer.consume(POLL_RECORDS, 1.0) if m.error() is None)
    started = time.perf_counter()
    seen = first
    while seen < total and time.perf_counter() < deadline:
        # consume() waits for all `num_messages` (or the timeout): ask for no more than remain.
        wanted = min(POLL_RECORDS, total - seen)
        seen += sum(1 for m in consumer.consume(wanted, 1.0) if m.error() is None)
    consume_s = time.perf_counter() - started
    consumer.close()
    assert seen == total, f"read {seen} of {total} records"
    return len(keys) / produce_s, (total - first) / consume_s


def main() -> None:
    """Run every engine (rounds interleaved, so load changes hit all alike) and print ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from tests.brokers import tansu_broker

    keys, values = make_records(args.records)
    print(
        f"{args.records:,} keyed records, 100-byte values, {args.partitions} partitions, "
        f"median of {args.rounds} interleaved rounds; {status()}"
    )
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"  {'records/s':<36} {'produce':>11} {'consume':>11}")
    labels = ["embedded (WAL, NORMAL)", "embedded (durable=True)", "tansu + confluent-kafka"]
    results: dict[str, list[tuple[float, float]]] = {label: [] for label in labels}
    with tempfile.TemporaryDirectory(prefix="streamgov-bench-") as tmp, tansu_broker() as bootstrap:
        root = Path(tmp)
        runners: dict[str, Callable[[int], tuple[float, float]]] = {
            labels[0]: lambda n: embedded_round(root, n, keys, values, args.partitions, False),
            labels[1]: lambda n: embedded_round(root, n, keys, values, args.partitions, True),
            labels[2]: lambda n: tansu_round(bootstrap, n, keys, values, args.partitions),
        }
        for number in range(args.rounds):
            for label in labels:
                produced, consumed = runners[label](number)
                results[label].append((produced, consumed))
                print(f"  {label:<24} round {number + 1:<4} {produced:>11,.0f} {consumed:>11,.0f}")
    medians = {
        label: (
            statistics.median(r[0] for r in rounds),
            statistics.median(r[1] for r in rounds),
        )
        for label, rounds in results.items()
    }
    print()
    print(f"  {'median records/s':<36} {'produce':>11} {'consume':>11}")
    for label in labels:
        produced, consumed = medians[label]
        print(f"  {label:<36} {produced:>11,.0f} {consumed:>11,.0f}")
    print(f"  load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    tansu = medians[labels[2]]
    for label, short in [(labels[0], "embedded"), (labels[1], "durable")]:
        produced, consumed = medians[label]
        print(
            f"  {'ratio ' + short + ' / tansu':<36} {produced / tansu[0]:>10.2f}x "
            f"{consumed / tansu[1]:>10.2f}x"
        )


if __name__ == "__main__":
    main()
