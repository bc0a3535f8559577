"""SIGKILL of `streamgov replicate run` mid-copy: after a restart the target holds every
source record exactly once, at the source's offsets."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from engine.embedded import EmbeddedCluster
from engine.types import OffsetSpec, Record
from streamgov.config import embedded_cluster_path
from tests.commands import STREAMGOV


def read_all(
    cluster: EmbeddedCluster, topic: str, partition: int
) -> list[tuple[int, bytes | None, bytes | None]]:
    out: list[tuple[int, bytes | None, bytes | None]] = []
    offset = 0
    while batch := cluster.fetch(topic, partition, offset, max_records=10_000):
        out.extend((r.offset, r.key, r.value) for r in batch)
        offset = batch[-1].offset + 1
    return out


def copied(west: EmbeddedCluster) -> int:
    if "east.orders" not in west.list_topics():
        return 0
    return sum(west.list_offsets("east.orders", OffsetSpec.LATEST).values())


@pytest.mark.slow
def test_sigkill_mid_copy_loses_and_duplicates_nothing(streamgov_home: Path) -> None:
    east = EmbeddedCluster(embedded_cluster_path("east"), name="east")
    west = EmbeddedCluster(embedded_cluster_path("west"), name="west")
    east.create_topic("orders", 4)
    stop = threading.Event()

    def produce() -> None:
        i = 0
        while not stop.is_set() and i < 40_000:
            east.produce(
                "orders", [Record(f"v{i + j}".encode(), f"k{i + j}".encode()) for j in range(200)]
            )
            i += 200

    producer = threading.Thread(target=produce)
    producer.start()
    try:
        for _ in range(3):
            child = subprocess.Popen(
                [*STREAMGOV, "replicate", "run", "--source", "east", "--target", "west"],
                env={**os.environ},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            floor = copied(west)
            deadline = time.monotonic() + 60
            while copied(west) < floor + 1000 and time.monotonic() < deadline:
                time.sleep(0.01)
            child.send_signal(signal.SIGKILL)
            child.wait()
    finally:
        stop.set()
        producer.join()
    finish = subprocess.run(
        [*STREAMGOV, "replicate", "run", "--source", "east", "--target", "west", "--once"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert finish.returncode == 0, finish.stderr
    for p in range(4):
        assert read_all(west, "east.orders", p) == read_all(east, "orders", p)
    east.close()
    west.close()
