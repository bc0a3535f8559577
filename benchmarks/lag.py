"""Lag monitor benchmark: one monitor cycle over 1,000 groups x 100 partitions (goal 200 ms)
and over 10,000 groups x 100 partitions, one million (goal 1 s, windows under 300 MiB).

A cycle is what the monitor does with each sample besides I/O: append it to every partition's
window and end-offset table (append), then the Burrow-style status of every partition and group
and one controller step per group (evaluate). The samples are built in memory in the columns
the sampler hands the tracker (`lagmonitor/columns.py`), with a realistic mix: most partitions
caught up, some lagging but progressing, some falling behind, a few stuck. The windows are
filled first, then cycles are timed: append, evaluate and the whole cycle, in wall-clock and
CPU time, each against the goal; the peak memory allocated during a cycle; and the memory held
by the windows and by the tracker as a whole. The machine may be shared, so the load average is
printed with the figures.

Anchors: the goal of each case (200 ms per cycle at 100,000 partitions; 1 s per cycle and
300 MiB of windows at 1,000,000), each figure printed with its ratio to the goal; the offsets
evaluated per CPU second beside the rates issue 17 states for KMinion and Burrow (figures
quoted, not measured here: neither runs on this machine). Also prints the simulation table
(this controller against the naive one). Run: `python benchmarks/lag.py [--case
100k|1m|all] [--groups N --partitions N --goal-ms MS] [--cycles N]`.
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
from types import FunctionType, ModuleType

import numpy as np

# Run as a script, this directory comes first on sys.path and its engine.py would shadow the
# engine package: put the repository root first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lagmonitor.columns import Assignment, Ints, PartitionColumns, TopicOffsets
from lagmonitor.sampler import ClusterSample, GroupObservation
from lagmonitor.simulation import compare, format_table
from lagmonitor.tracker import LagTracker, TrackerConfig

INTERVAL = 10.0

#: Offsets read per second by the known exporters, in thousands (figures stated in issue 17).
KMINION = (100, 120)
BURROW = (40, 50)

#: The standard cases: (name, groups, partitions per group, goal per cycle in ms, goal for the
#: memory held by the windows in MiB or None).
CASES = {
    "100k": (1000, 100, 200.0, None),
    "1m": (10_000, 100, 1000.0, 300.0),
}


def make_sample(
    cycle: int, groups: int, partitions: int, kinds: list[list[int]], rng: random.Random
) -> ClusterSample:
    """The cluster as seen at `cycle`: per partition a kind decides how the offsets move
    (0 caught up, 1 lagging but progressing, 2 falling behind, 3 stuck)."""
    at = cycle * INTERVAL
    observations = []
    offsets: dict[str, tuple[Ints, Ints, Ints]] = {}
    numbers = np.arange(partitions, dtype=np.int64)
    earliest = np.zeros(partitions, np.int64)
    members = tuple((f"member-{m}", f"client-{m}", "host") for m in range(8))
    for g in range(groups):
        topic = f"topic-{g}"
        ends, commits = [], []
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
            ends.append(end)
            commits.append(min(committed, end))
        # The sampler's form: the group's partitions by column.
        log_ends = np.array(ends, np.int64)
        columns = PartitionColumns(
            ((topic, partitions),), numbers, np.array(commits, np.int64), earliest, log_ends
        )
        offsets[topic] = (numbers, earliest, log_ends)
        # As the sampler gives them: each member's partitions (here every eighth), by column.
        owners = Assignment(members, {topic: (numbers, numbers % 8)})
        observations.append(GroupObservation(f"group-{g}", "Stable", 8, owners, columns))
    return ClusterSample(at, tuple(observations), TopicOffsets(offsets), poll_ms=0.0)


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


def deep_size(root: object, skip: tuple[object, ...] = ()) -> int:
    """Bytes of every object reachable from `root` (each counted once; classes, modules,
    functions and the objects in `skip` left out)."""
    seen: set[int] = {id(obj) for obj in skip}
    stack = [root]
    total = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, type | ModuleType | FunctionType):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        stack.extend(gc.get_referents(obj))
    return total


def load() -> str:
    """The 1-minute load average, for the record."""
    return f"{os.getloadavg()[0]:.2f}"


def ms(seconds: list[float]) -> str:
    """Median, min and max of timings, in ms."""
    values = [s * 1000 for s in seconds]
    return f"{statistics.median(values):6.1f} ms (min {min(values):.1f}, max {max(values):.1f})"


def run_case(
    groups: int, partitions: int, goal_ms: float, windows_goal_mib: float | None, cycles: int
) -> None:
    """Fill the windows, then time `cycles` cycles and print every figure beside its goal."""
    rng = random.Random(11)
    kinds = group_kinds(groups, partitions, rng)
    config = TrackerConfig()
    tracker = LagTracker(config)
    total = groups * partitions
    print(f"lag monitor: {groups:,} groups x {partitions} partitions = {total:,}")
    print(f"load average at start: {load()} (2 cores; other work may share the machine)")

    gc.collect()
    before = rss_mib()
    for cycle in range(config.history_size):  # fill every window
        tracker.record(make_sample(cycle, groups, partitions, kinds, rng))
    gc.collect()
    state_mib = rss_mib() - before

    timings: dict[str, list[float]] = {
        name: [] for name in ("append", "append cpu", "evaluate", "evaluate cpu")
    }
    cycle = config.history_size
    for _ in range(cycles):
        sample = make_sample(cycle, groups, partitions, kinds, rng)
        cycle += 1
        gc.collect()
        started, cpu_started = time.perf_counter(), time.process_time()
        tracker.ingest(sample)
        appended, cpu_appended = time.perf_counter(), time.process_time()
        tracker.evaluate()
        done, cpu_done = time.perf_counter(), time.process_time()
        del sample
        timings["append"].append(appended - started)
        timings["append cpu"].append(cpu_appended - cpu_started)
        timings["evaluate"].append(done - appended)
        timings["evaluate cpu"].append(cpu_done - cpu_appended)
    wall = [a + e for a, e in zip(timings["append"], timings["evaluate"], strict=True)]
    cpu = [a + e for a, e in zip(timings["append cpu"], timings["evaluate cpu"], strict=True)]

    # Peak memory of one whole cycle, measured in a separate (slower) traced pass.
    sample = make_sample(cycle, groups, partitions, kinds, rng)
    gc.collect()
    tracemalloc.start()
    tracker.record(sample)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del sample

    statuses: dict[str, int] = {}
    for track in tracker.groups.values():
        assert track.status is not None
        statuses[track.status.status.value] = statuses.get(track.status.status.value, 0) + 1
    # The windows: the store's columns (one row per partition) and each group's own part (its
    # rows' numbers and sample times). The columns are written in full once the windows are
    # filled, so their size is also what they keep resident.
    store = tracker.windows
    windows = store.nbytes + deep_size(
        [track.window for track in tracker.groups.values()], (store,)
    )
    held = deep_size(tracker)
    goal = goal_ms / 1000
    print(f"group statuses after {cycle + 1} samples: {dict(sorted(statuses.items()))}")
    print(f"median of {cycles} cycles, each / goal of {goal_ms:.0f} ms:")
    rows = [
        ("append (ingest)", timings["append"], timings["append cpu"]),
        ("evaluate", timings["evaluate"], timings["evaluate cpu"]),
        ("whole cycle", wall, cpu),
    ]
    for name, wall_times, cpu_times in rows:
        print(
            f"  {name:16} wall {ms(wall_times)} = {statistics.median(wall_times) / goal:.2f}"
            f"   CPU {ms(cpu_times)} = {statistics.median(cpu_times) / goal:.2f}"
        )
    verdict = "within" if statistics.median(wall) <= goal else "over"
    print(f"  whole cycle per partition: {statistics.median(cpu) * 1e6 / total:.2f} us CPU")
    rate = total / statistics.median(cpu)
    print(
        f"  offsets evaluated per CPU second: {rate / 1000:,.0f} k (stated in issue 17, not "
        f"measured here: KMinion reads about {KMINION[0]}-{KMINION[1]} k offsets/s, Burrow "
        f"{BURROW[0]}-{BURROW[1]} k/s; ratio {rate / 1000 / KMINION[1]:.1f}x KMinion's upper "
        f"figure)"
    )
    print(
        f"anchor: whole cycle / goal = {statistics.median(wall) / goal:.2f} wall ({verdict} "
        f"the goal), {statistics.median(cpu) / goal:.2f} CPU"
    )
    print(f"peak memory allocated during one cycle: {peak / 2**20:.1f} MiB")
    windows_mib = windows / 2**20
    against = (
        ""
        if windows_goal_mib is None
        else f" = {windows_mib / windows_goal_mib:.2f} of the {windows_goal_mib:.0f} MiB goal"
    )
    print(
        f"memory held by the windows: {windows_mib:.1f} MiB ({windows / total:.0f} bytes "
        f"per partition; {store.rows_in_use:,} rows in use){against}"
    )
    print(
        f"memory held by the tracker (windows, tables, controllers, the last sample's offsets "
        f"and owners): {held / 2**20:.1f} MiB ({held / total:.0f} bytes per partition); "
        f"resident growth while filling: {state_mib:.0f} MiB"
    )
    print(f"load average at end: {load()}")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=(*CASES, "all"), default="all")
    parser.add_argument("--groups", type=int, help="a custom case instead of the standard ones")
    parser.add_argument("--partitions", type=int, default=100)
    parser.add_argument("--goal-ms", type=float, default=200.0)
    parser.add_argument("--cycles", type=int, default=5)
    args = parser.parse_args()
    if args.groups is not None:
        run_case(args.groups, args.partitions, args.goal_ms, None, args.cycles)
    else:
        for name, (groups, partitions, goal_ms, windows_goal) in CASES.items():
            if args.case in (name, "all"):
                run_case(groups, partitions, goal_ms, windows_goal, args.cycles)
    print("simulation: this controller (hysteresis) against the naive ceil(lag / threshold)")
    print(format_table(compare()))


if __name__ == "__main__":
    main()
