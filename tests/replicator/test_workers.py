"""Scale-out: `replicate run --worker 1/2` and `--worker 2/2` as two real processes on one flow
share the partitions, copy every record exactly once into an embedded target, keep the
checkpoints right, and a SIGKILLed worker loses nothing while the other runs."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.embedded import EmbeddedCluster
from engine.types import OffsetAndMetadata, OffsetSpec, Record, TopicPartition
from replicator import codec
from replicator.flow import Flow
from replicator.policy import checkpoints_topic
from streamgov.config import embedded_cluster_path
from tests.commands import STREAMGOV

PARTITIONS = 6
GROUP = "billing"


@settings(deadline=None)
@given(st.text(max_size=20), st.integers(1, 64), st.integers(1, 9))
def test_every_partition_has_exactly_one_worker_and_shares_are_even(
    topic: str, partitions: int, workers: int
) -> None:
    flows = [Flow("east", "west", worker=w, workers=workers) for w in range(workers)]
    shares = [[p for p in range(partitions) if f.owns(topic, p)] for f in flows]
    assert sorted(p for share in shares for p in share) == list(range(partitions))
    assert max(map(len, shares)) - min(map(len, shares)) <= 1


def read_all(cluster: EmbeddedCluster, topic: str, partition: int) -> list[tuple[object, ...]]:
    """(offset, key, value, headers without the provenance header) of every record."""
    out: list[tuple[object, ...]] = []
    offset = 0
    while batch := cluster.fetch(topic, partition, offset, max_records=10_000):
        for r in batch:
            headers = tuple(h for h in r.headers if h[0] != codec.PROVENANCE_HEADER)
            out.append((r.offset, r.key, r.value, headers))
        offset = batch[-1].offset + 1
    return out


def ends(cluster: EmbeddedCluster, topic: str) -> dict[int, int]:
    if topic not in cluster.list_topics():
        return dict.fromkeys(range(PARTITIONS), 0)
    return cluster.list_offsets(topic, OffsetSpec.LATEST)


def wait_for(what: str, condition: Callable[[], bool], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


class Worker:
    """One `streamgov replicate run --worker I/2` process."""

    def __init__(self, log: Path, index: int, *extra: str) -> None:
        self.log, self.index, self.extra = log, index, extra
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *STREAMGOV,
                "replicate",
                "run",
                "--source",
                "east",
                "--target",
                "west",
                "--topics",
                "orders",
                "--refresh-interval",
                "0.5",
                "--worker",
                f"{self.index}/2",
                *self.extra,
            ],
            env={**os.environ},
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("ab"),
        )

    def stop(self, sig: signal.Signals) -> None:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        self.process.wait(timeout=60)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@pytest.fixture()
def clusters(streamgov_home: Path) -> Iterator[tuple[EmbeddedCluster, EmbeddedCluster]]:
    east = EmbeddedCluster(embedded_cluster_path("east"), name="east")
    west = EmbeddedCluster(embedded_cluster_path("west"), name="west")
    yield east, west
    east.close()
    west.close()


@pytest.mark.slow
def test_two_workers_copy_every_record_once_and_survive_a_sigkill(
    clusters: tuple[EmbeddedCluster, EmbeddedCluster], tmp_path: Path
) -> None:
    east, west = clusters
    east.create_topic("orders", PARTITIONS)
    shares = [
        [
            p
            for p in range(PARTITIONS)
            if Flow("east", "west", worker=w, workers=2).owns("orders", p)
        ]
        for w in range(2)
    ]
    first, second = shares
    assert first and second

    def produce(start: int, count: int) -> None:
        east.produce(
            "orders",
            [
                Record(f"v{i}".encode(), f"k{i}".encode(), (("n", str(i).encode()),), None, i % 6)
                for i in range(start, start + count)
            ],
        )

    produce(0, 6_000)
    one, two = Worker(tmp_path / "1.log", 1), Worker(tmp_path / "2.log", 2, "--groups", GROUP)
    workers = [one, two]
    stop = threading.Event()
    try:
        # Worker 1 alone copies its own partitions and no other.
        one.start()
        source_ends = ends(east, "orders")
        wait_for(
            "worker 1's partitions",
            lambda: all(ends(west, "east.orders")[p] == source_ends[p] for p in first),
        )
        assert all(ends(west, "east.orders")[p] == 0 for p in second)

        # Both run while records keep coming; worker 1 is killed mid-copy and restarted.
        two.start()
        sent = [6_000]

        def keep_producing() -> None:
            while not stop.is_set() and sent[0] < 60_000:
                produce(sent[0], 300)
                sent[0] += 300

        producer = threading.Thread(target=keep_producing)
        producer.start()
        floor = sum(ends(west, "east.orders")[p] for p in first)
        wait_for(
            "worker 1 to copy new records",
            lambda: sum(ends(west, "east.orders")[p] for p in first) > floor + 2_000,
        )
        one.stop(signal.SIGKILL)
        killed_at = sum(ends(west, "east.orders")[p] for p in second)
        wait_for(
            "worker 2 to go on alone",
            lambda: sum(ends(west, "east.orders")[p] for p in second) > killed_at + 2_000,
        )
        assert two.running()
        one.start()
        stop.set()
        producer.join()

        # A source group's position is checkpointed for every partition, worker 1's too.
        committed = {
            TopicPartition("orders", p): OffsetAndMetadata(end // 2, "m")
            for p, end in ends(east, "orders").items()
        }
        east.commit_offsets(GROUP, committed)
        source_ends = ends(east, "orders")
        wait_for(
            "every record on the target",
            lambda: ends(west, "east.orders") == source_ends,
            seconds=180,
        )
        wait_for(
            "the group's offsets on the target",
            lambda: (
                {tp.partition: om.offset for tp, om in west.committed_offsets(GROUP).items()}
                == {tp.partition: om.offset for tp, om in committed.items()}
            ),
            seconds=60,
        )
        assert all(w.running() for w in workers)
    finally:
        stop.set()
        for worker in workers:
            if worker.process is not None:
                worker.stop(signal.SIGTERM)

    for p in range(PARTITIONS):
        assert read_all(west, "east.orders", p) == read_all(east, "orders", p)
    checkpoints = [
        codec.read_checkpoint(r.key, r.value)
        for r in west.fetch(checkpoints_topic("east"), 0, 0, max_records=100_000)
    ]
    latest = {(cp.topic, cp.partition): cp for cp in checkpoints if cp.group == GROUP}
    assert {key: (cp.upstream, cp.downstream, cp.metadata) for key, cp in latest.items()} == {
        ("east.orders", tp.partition): (om.offset, om.offset, "m") for tp, om in committed.items()
    }
