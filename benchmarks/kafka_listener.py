"""Kafka-protocol throughput: streamgov's listener (over the embedded engine, durable on disk)
side by side with the tansu broker (in memory), both driven by confluent-kafka with the same
client settings and the same records: keyed (murmur2), 100-byte values.

* produce: `produce` every record, then `flush`, at acks=all; records/s until every record is
  acknowledged.
* produce p99: delivery latency (produce call to delivery report) of records sent one at a
  time every millisecond at acks=all, linger.ms=0.
* consume: a fresh consumer reads every record from the beginning (`assign`, no group),
  with the same fetch settings on both sides (4 MiB per partition, no fetch queue backoff);
  records/s from `assign` to the last record, and from the first record to the last (the
  client spends about half a second before its first fetch, on either broker, which the
  first figure includes and the second leaves out).

Each broker runs in its own process (the listener as `streamgov up` would run it), so the
client never shares an interpreter with the broker. Beside the rates, the broker process's CPU
time (user + system, from /proc) per record produced and per record consumed: on a shared,
loaded machine the rates move with the load, the CPU a broker spends per record much less.

Run: python benchmarks/kafka_listener.py [--records 200000] [--partitions 6] [--rounds 5]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PRODUCER = {
    "partitioner": "murmur2_random",
    "acks": "all",
    "linger.ms": 5,
    "batch.size": 1_000_000,
    "compression.type": "none",
}
CONSUMER = {
    "enable.auto.commit": False,
    # librdkafka otherwise waits a second before fetching again whenever a large response
    # filled its queue past queued.min.messages; on both sides alike.
    "fetch.queue.backoff.ms": 0,
    "fetch.max.bytes": 52_428_800,
    "max.partition.fetch.bytes": 4_194_304,
    "queued.max.messages.kbytes": 262_144,
}

_SERVE = """
import sys, threading
from engine.embedded import EmbeddedCluster
from engine.kafka_listener import KafkaListener
cluster = EmbeddedCluster(sys.argv[1], maintenance_interval_s=None)
listener = KafkaListener(cluster, "127.0.0.1", int(sys.argv[2])).start()
listener.schemas_loaded.wait(120)  # measured once warm, as a broker that has been up a while
print("ready", flush=True)
sys.stdin.read()
listener.stop()
cluster.close()
"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` (every thread) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pid_serving(port: str) -> int:
    """The process whose command line names `port` (the tansu broker started for us)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if (
                argv
                and b"tansu" in Path(os.fsdecode(argv[0])).name.encode()
                and any(a.endswith(b":" + port.encode()) for a in argv)
            ):
                return int(entry.name)
    raise RuntimeError(f"no tansu process serves port {port}")


@contextlib.contextmanager
def listener_process(directory: Path) -> Iterator[tuple[str, int]]:
    """The listener in a child process over a fresh cluster; yields its bootstrap and pid."""
    from tests.brokers import free_port

    port = free_port()
    root = str(Path(__file__).resolve().parents[1])
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVE, str(directory), str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": root},
        text=True,
    )
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the listener did not start")
        yield f"127.0.0.1:{port}", proc.pid
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=60)


def make_records(count: int) -> tuple[list[bytes], list[bytes]]:
    """Keys `key-<n>` and 100-byte values (from a pool of 1000 distinct values)."""
    pool = [os.urandom(50).hex().encode() for _ in range(1000)]
    return [f"key-{i}".encode() for i in range(count)], [pool[i % 1000] for i in range(count)]


def produce_rate(bootstrap: str, topic: str, keys: list[bytes], values: list[bytes]) -> float:
    """records/s of producing every record at acks=all."""
    from confluent_kafka import Producer

    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            **PRODUCER,
            "queue.buffering.max.messages": max(len(keys) * 2, 100_000),
            "queue.buffering.max.kbytes": 2_097_151,
        }
    )
    producer.produce(topic, b"warm-up", b"warm-up")
    producer.flush(30)
    produce = producer.produce
    started = time.perf_counter()
    for key, value in zip(keys, values, strict=True):
        produce(topic, value, key)
    remaining = producer.flush(120)
    elapsed = time.perf_counter() - started
    assert remaining == 0, f"{remaining} records were not acknowledged"
    return len(keys) / elapsed


def produce_p99_ms(bootstrap: str, topic: str, count: int = 2_000) -> float:
    """p99 delivery latency (ms) of single records sent every millisecond at acks=all."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, **PRODUCER, "linger.ms": 0})
    producer.produce(topic, b"warm-up", b"warm-up")
    producer.flush(30)
    latencies: list[float] = []
    lock = threading.Lock()

    def delivered(err: object, _msg: object, sent: float) -> None:
        assert err is None, err
        with lock:
            latencies.append(time.perf_counter() - sent)

    value = b"x" * 100

    def report_for(sent: float) -> Callable[[object, object], None]:
        return lambda err, msg: delivered(err, msg, sent)

    for i in range(count):
        sent = time.perf_counter()
        producer.produce(topic, value, b"key-%d" % i, on_delivery=report_for(sent))
        producer.poll(0)
        while time.perf_counter() - sent < 0.001:
            producer.poll(0.0002)
    assert producer.flush(30) == 0
    latencies.sort()
    return latencies[int(len(latencies) * 0.99) - 1] * 1000


def consume_rates(bootstrap: str, topic: str, partitions: int, total: int) -> tuple[float, float]:
    """records/s of reading `total` records from the beginning: from `assign` on, and from
    the first record on."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"{topic}-r", **CONSUMER})
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    started = time.perf_counter()
    first = 0.0
    seen = 0
    deadline = started + 300
    while seen < total and time.perf_counter() < deadline:
        got = sum(1 for m in consumer.consume(1_000, 0.1) if m.error() is None)
        if got and not seen:
            first = time.perf_counter()
        seen += got
    finished = time.perf_counter()
    consumer.close()
    assert seen == total, f"read {seen} of {total} records"
    return total / (finished - started), total / (finished - first)


#: One round's figures: produce rec/s, consume rec/s (from assign, and after the first record),
#: produce p99 ms, broker CPU µs per record produced, broker CPU µs per record consumed.
Figures = tuple[float, float, float, float, float, float]
COLUMNS = ("produce/s", "consume/s", "cons/s 1st+", "p99 ms", "µs/rec prod", "µs/rec cons")


def one_round(
    bootstrap: str, pid: int, number: int, keys: list[bytes], values: list[bytes], partitions: int
) -> Figures:
    """One round's figures on fresh topics (the broker process `pid` serves `bootstrap`)."""
    from confluent_kafka.admin import AdminClient, NewTopic

    topic, latency_topic = f"bench-{number}", f"latency-{number}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics(
        [NewTopic(topic, partitions, 1), NewTopic(latency_topic, partitions, 1)]
    ).values():
        future.result(30)
    before = cpu_seconds(pid)
    produced = produce_rate(bootstrap, topic, keys, values)
    middle = cpu_seconds(pid)
    consumed, after_first = consume_rates(bootstrap, topic, partitions, len(keys) + 1)
    after = cpu_seconds(pid)
    p99 = produce_p99_ms(bootstrap, latency_topic)
    per_record = 1e6 / len(keys)
    return (
        produced,
        consumed,
        after_first,
        p99,
        (middle - before) * per_record,
        (after - middle) * per_record,
    )


def _row(label: str, figures: Figures) -> str:
    produced, consumed, after_first, p99, cpu_produce, cpu_consume = figures
    return (
        f"  {label:<36} {produced:>11,.0f} {consumed:>11,.0f} {after_first:>11,.0f} "
        f"{p99:>8.2f} {cpu_produce:>11.2f} {cpu_consume:>11.2f}"
    )


def main() -> None:
    """Interleave rounds on both brokers and print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from tests.brokers import tansu_broker

    keys, values = make_records(args.records)
    print(
        f"{args.records:,} keyed records, 100-byte values, {args.partitions} partitions, "
        f"acks=all, median of {args.rounds} interleaved rounds; load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    labels = ["streamgov listener (SQLite)", "tansu (memory)"]
    results: dict[str, list[Figures]] = {label: [] for label in labels}
    print(
        f"  {'':<36} "
        + " ".join(f"{c:>11}" if "µs" in c or "/s" in c else f"{c:>8}" for c in COLUMNS)
    )
    with (
        tempfile.TemporaryDirectory(prefix="streamgov-bench-") as tmp,
        listener_process(Path(tmp)) as (listener, listener_pid),
        tansu_broker() as tansu,
    ):
        servers = [(listener, listener_pid), (tansu, pid_serving(tansu.rsplit(":", 1)[1]))]
        for number in range(args.rounds):
            for label, (bootstrap, pid) in zip(labels, servers, strict=True):
                result = one_round(bootstrap, pid, number, keys, values, args.partitions)
                results[label].append(result)
                print(_row(f"{label.split(' (')[0]} round {number + 1}", result))
    medians = {
        label: tuple(statistics.median(r[i] for r in rounds) for i in range(len(COLUMNS)))
        for label, rounds in results.items()
    }
    print()
    for label in labels:
        print(_row(f"{label} (median)", medians[label]))  # type: ignore[arg-type]
    ours, anchor = medians[labels[0]], medians[labels[1]]
    ratios = [
        f"{o / a:>{10 if i != 3 else 7}.2f}x"
        for i, (o, a) in enumerate(zip(ours, anchor, strict=True))
    ]
    print(f"  {'ratio listener / tansu':<36} {' '.join(ratios)}")
    print("  (rates: higher is better; p99 and CPU per record: lower is better)")
    print(f"  load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
