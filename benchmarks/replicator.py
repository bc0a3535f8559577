"""Replicator benchmark: copy throughput beside a plain copy loop, and p99 replication
latency at 10,000 records/s, embedded -> embedded.

Throughput: a source topic of 4 partitions and N records (100-byte values, keys, one header) is
copied once by `Replicator.run_once` (offset syncs, provenance headers, exact-mode checks
included) and once by the anchor, a plain loop with the same calls on the same clusters: fetch
each partition's next batch of the same size, produce it to the target, until caught up.
Each side copies into a fresh target cluster; the best of `--rounds` runs counts, by wall
time and (printed beside it, steadier on a shared machine) by the process's CPU time. Goal:
the replicator at 0.9x the anchor or better. The anchor builds its `Record`s in a Python
comprehension; the replicator builds its copies (with the provenance header) in the C fast
path (`engine._fastpath.copies_with_header`), which is why it can beat the anchor.

Latency: a producer thread writes 10,000 records/s (100 every 10 ms, timestamped at send) for
`--seconds`, a following replicator copies them; each record's latency is the time from its
timestamp to the target's acknowledgement. Goal: p99 under 100 ms. The machine may be shared,
so the load average is printed with the figures. Run: `python benchmarks/replicator.py
[--records N] [--seconds S]`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

# Run as a script, this directory comes first on sys.path and its engine.py would shadow the
# engine package: put the repository root first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.embedded import EmbeddedCluster
from engine.types import OffsetSpec, Record
from replicator.flow import Flow
from replicator.metrics import FlowMetrics
from replicator.worker import Replicator

PARTITIONS = 4
BATCH = 2000


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def fill(cluster: EmbeddedCluster, records: int) -> None:
    cluster.create_topic("orders", PARTITIONS)
    value = b"x" * 100
    for start in range(0, records, 10_000):
        cluster.produce(
            "orders",
            [
                Record(value, f"key-{i}".encode(), (("trace", b"abc"),), partition=i % PARTITIONS)
                for i in range(start, min(records, start + 10_000))
            ],
        )


def plain_copy(source: EmbeddedCluster, target: EmbeddedCluster) -> int:
    """The anchor: fetch a batch per partition, produce it, until caught up."""
    target.create_topic("orders", PARTITIONS)
    ends = source.list_offsets("orders", OffsetSpec.LATEST)
    positions = dict.fromkeys(range(PARTITIONS), 0)
    copied = 0
    while any(positions[p] < ends[p] for p in positions):
        records: list[Record] = []
        for p in range(PARTITIONS):
            if positions[p] >= ends[p]:
                continue
            batch = source.fetch("orders", p, positions[p], max_records=BATCH)
            positions[p] = batch[-1].offset + 1
            records.extend(Record(r.value, r.key, r.headers, r.timestamp_ms, p) for r in batch)
        target.produce("orders", records)
        copied += len(records)
    return copied


def throughput(records: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = EmbeddedCluster(Path(tmp) / "src", name="src", maintenance_interval_s=None)
        fill(source, records)
        # best wall and CPU seconds per side
        best = {"plain": [float("inf")] * 2, "replicator": [float("inf")] * 2}
        for r in range(rounds):
            for side in best:
                target = EmbeddedCluster(Path(tmp) / f"{side}{r}", maintenance_interval_s=None)
                start, cpu = time.perf_counter(), time.process_time()
                if side == "plain":
                    copied = plain_copy(source, target)
                else:
                    flow = Flow("src", "dst", batch_records=BATCH)
                    copied = Replicator(flow, source, target).run_once()
                wall, cpu = time.perf_counter() - start, time.process_time() - cpu
                assert copied == records
                best[side] = [min(best[side][0], wall), min(best[side][1], cpu)]
                target.close()
        source.close()
    (plain_wall, plain_cpu), (rep_wall, rep_cpu) = best["plain"], best["replicator"]
    print(f"throughput, {records:,} records, {PARTITIONS} partitions (best of {rounds}):")
    print(
        f"  plain copy loop (anchor): {records / plain_wall:>10,.0f} records/s"
        f"  ({records / plain_cpu:,.0f} per CPU second)"
    )
    print(
        f"  replicator:               {records / rep_wall:>10,.0f} records/s"
        f"  ({records / rep_cpu:,.0f} per CPU second)"
    )
    print(
        f"  ratio: {plain_wall / rep_wall:.2f}x (goal >= 0.90x); "
        f"by CPU time {plain_cpu / rep_cpu:.2f}x"
    )


class LatencyMetrics(FlowMetrics):
    """Keeps every record's replication latency."""

    def __init__(self, flow: str) -> None:
        super().__init__(flow)
        self.latencies: list[float] = []

    def copied(
        self, topic: str, partition: int, timestamps: Sequence[int], size: int, now_ms: float
    ) -> None:
        self.latencies.extend(now_ms - ts for ts in timestamps)
        super().copied(topic, partition, timestamps, size, now_ms)


def latency(seconds: float, rate: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = EmbeddedCluster(Path(tmp) / "src", maintenance_interval_s=None)
        target = EmbeddedCluster(Path(tmp) / "dst", maintenance_interval_s=None)
        source.create_topic("orders", PARTITIONS)
        metrics = LatencyMetrics("src->dst")
        flow = Flow("src", "dst", refresh_interval_s=60, checkpoint_interval_s=1)
        replicator = Replicator(flow, source, target, metrics=metrics)
        replicator.start()
        replicator.refresh()
        stop = threading.Event()
        runner = threading.Thread(target=replicator.run, args=(stop, 0.002))
        runner.start()
        per_tick, tick = rate // 100, 0.01
        sent = 0
        begin = time.monotonic()
        value = b"x" * 100
        while time.monotonic() - begin < seconds:
            now_ms = int(time.time() * 1000)
            source.produce(
                "orders",
                [
                    Record(value, f"k{sent + i}".encode(), timestamp_ms=now_ms, partition=i % 4)
                    for i in range(per_tick)
                ],
            )
            sent += per_tick
            next_tick = begin + (sent // per_tick) * tick
            time.sleep(max(0.0, next_tick - time.monotonic()))
        deadline = time.monotonic() + 30
        while len(metrics.latencies) < sent and time.monotonic() < deadline:
            time.sleep(0.01)
        stop.set()
        runner.join()
        source.close()
        target.close()
    values = sorted(metrics.latencies)
    elapsed = time.monotonic() - begin

    def pct(q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))]

    print(
        f"latency at {rate:,} records/s for {seconds:.0f} s ({sent:,} sent, "
        f"{len(values):,} copied, {sent / elapsed:,.0f}/s achieved):"
    )
    print(
        f"  p50 {pct(0.5):.1f} ms, p99 {pct(0.99):.1f} ms, max {values[-1]:.1f} ms "
        "(goal p99 < 100 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=10_000)
    args = parser.parse_args()
    print(f"load average before: {load()}")
    throughput(args.records, args.rounds)
    latency(args.seconds, args.rate)
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
