"""Lag monitor benchmark: one evaluation cycle over 1,000 groups x 100 partitions.

An evaluation cycle is what the monitor does after each sample besides I/O: the Burrow-style
status of every partition and group and one controller step (recommendation) per group. The
samples are built in memory (a realistic mix: most partitions caught up, some lagging but
progressing, some falling behind, a few stuck), the windows are filled first, then cycles are
timed. Appending the sample to the windows (ingest) is timed separately.

Anchor: the goal of 200 ms per cycle. Also prints the simulation table (this controller
against the naive one). Run: `python benchmarks/lag.py [--groups N] [--partitions N]`.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

# Run as a script, this directory comes first on sys.path and its engine.py would shadow the
# engine package: put the repository root first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.types import TopicPartition
from lagmonitor.sampler import ClusterSample, GroupObservation, PartitionObservation
from lagmonitor.simulation import compare, format_table
from lagmonitor.tracker import LagTracker, TrackerConfig

GOAL_MS = 200.0
INTERVAL = 10.0


def make_sample(
    cycle: int, groups: int, partitions: int, kinds: list[list[int]], rng: random.Random
) -> ClusterSample:
    """The cluster as seen at `cycle`: per partition a kind decides how the offsets move
    (0 caught up, 1 lagging but progressing, 2 falling behind, 3 stuck)."""
    at = cycle * INTERVAL
    observations = []
    offsets: dict[TopicPartition, tuple[int, int]] = {}
    for g in range(groups):
        topic = f"topic-{g}"
        owners = {}
        parts = []
        for p in range(partitions):
            kind = kinds[g][p]
            end = 1000 + cycle * 100 + rng.randint(0, 5)
            if kind == 0:
                committed = end
            elif kind == 1:
                committed = end - 500 + cycle * 20
            elif kind == 2:
                committed = 1000 + cycle * 50
            else:
                committed = 1200
            tp = TopicPartition(topic, p)
            parts.append(PartitionObservation(topic, p, min(committed, end), 0, end))
            owners[tp] = (f"member-{p % 8}", f"client-{p % 8}", "host")
            offsets[tp] = (0, end)
        observations.append(GroupObservation(f"group-{g}", "Stable", 8, owners, tuple(parts)))
    return ClusterSample(at, tuple(observations), offsets, poll_ms=0.0)


def group_kinds(groups: int, partitions: int, rng: random.Random) -> list[list[int]]:
    """Per group a health (most healthy, some lagging, a few falling behind or stuck), and per
    partition mostly that health with some noise."""
    kinds = []
    for _ in range(groups):
        health = rng.choices((0, 1, 2, 3), weights=(70, 20, 7, 3))[0]
        kinds.append(
            [health if rng.random() < 0.8 else rng.choice((0, 1)) for _ in range(partitions)]
        )
    return kinds


def rss_mib() -> float:
    """Resident memory of this process (Linux), in MiB; 0 when unknown."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--partitions", type=int, default=100)
    parser.add_argument("--cycles", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(11)
    kinds = group_kinds(args.groups, args.partitions, rng)
    config = TrackerConfig()
    tracker = LagTracker(config)
    total = args.groups * args.partitions
    print(f"lag monitor: {args.groups} groups x {args.partitions} partitions = {total:,}")

    gc.collect()
    before = rss_mib()
    for cycle in range(config.history_size):  # fill every window
        tracker.record(make_sample(cycle, args.groups, args.partitions, kinds, rng))
    gc.collect()
    state_mib = rss_mib() - before

    wall: list[float] = []
    cpu: list[float] = []
    ingest_ms: list[float] = []
    ingest_cpu: list[float] = []
    cycle = config.history_size
    for _ in range(args.cycles):
        sample = make_sample(cycle, args.groups, args.partitions, kinds, rng)
        cycle += 1
        gc.collect()
        started, cpu_started = time.perf_counter(), time.process_time()
        tracker.ingest(sample)
        ingested, cpu_ingested = time.perf_counter(), time.process_time()
        tracker.evaluate()
        wall.append((time.perf_counter() - ingested) * 1000)
        cpu.append((time.process_time() - cpu_ingested) * 1000)
        ingest_ms.append((ingested - started) * 1000)
        ingest_cpu.append((cpu_ingested - cpu_started) * 1000)

    # Peak memory of one evaluation cycle, measured in a separate (slower) traced pass.
    tracker.ingest(make_sample(cycle, args.groups, args.partitions, kinds, rng))
    gc.collect()
    tracemalloc.start()
    tracker.evaluate()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    statuses: dict[str, int] = {}
    for track in tracker.groups.values():
        assert track.status is not None
        statuses[track.status.status.value] = statuses.get(track.status.status.value, 0) + 1
    evaluation = statistics.median(wall)
    evaluation_cpu = statistics.median(cpu)
    ingest = statistics.median(ingest_ms)
    print(f"group statuses after {cycle + 1} samples: {dict(sorted(statuses.items()))}")
    print(
        f"evaluation cycle (status + recommendation): median {evaluation:.1f} ms wall, "
        f"{evaluation_cpu:.1f} ms CPU (wall min {min(wall):.1f}, max {max(wall):.1f}; "
        f"{args.cycles} cycles)"
    )
    print(f"  per partition: {evaluation * 1000 / total:.2f} us wall")
    print(
        f"ingest (append one sample to every window and table): median {ingest:.1f} ms wall, "
        f"{statistics.median(ingest_cpu):.1f} ms CPU"
    )
    print(f"peak memory allocated during one evaluation cycle: {peak / 2**20:.1f} MiB")
    print(f"resident memory of the windows, tables and controllers: {state_mib:.0f} MiB")
    verdict = "within" if evaluation <= GOAL_MS else "over"
    print(
        f"anchor: goal {GOAL_MS:.0f} ms per cycle; evaluation / goal = "
        f"{evaluation / GOAL_MS:.2f} wall ({verdict} the goal), {evaluation_cpu / GOAL_MS:.2f} CPU"
    )
    print(f"  (ingest + evaluation) / goal = {(ingest + evaluation) / GOAL_MS:.2f}")
    print()
    print("simulation: this controller (hysteresis) against the naive ceil(lag / threshold)")
    print(format_table(compare()))


if __name__ == "__main__":
    main()
