"""Several processes on one data directory, and crash safety (real child processes)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.embedded import EmbeddedCluster
from engine.types import OffsetSpec, Record, TopicPartition

ROOT = Path(__file__).resolve().parents[3]


def spawn(*args: object) -> subprocess.Popen[str]:
    """Start a worker of tests/engine/embedded/workers.py."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.engine.embedded.workers", *map(str, args)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def finish(proc: subprocess.Popen[str], timeout: float = 60) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return out


def test_concurrent_producers_get_dense_unique_offsets_and_a_reader_sees_all(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c"
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        cluster.create_topic("t", 1)
    count = 1500
    reader = spawn("consume", path, "t", 2 * count, 60)
    writers = [spawn("produce", path, "t", count, 7, tag) for tag in ("a", "b")]
    for writer in writers:
        finish(writer)
    values = json.loads(finish(reader))
    assert len(values) == 2 * count and len(set(values)) == 2 * count
    for tag in ("a", "b"):
        mine = [int(v.split("-")[1]) for v in values if v.startswith(f"{tag}-")]
        assert mine == list(range(count))  # each writer's records in its own order
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        assert cluster.list_offsets("t", OffsetSpec.LATEST) == {0: 2 * count}
        offsets = [
            r.offset for r in cluster.fetch("t", 0, 0, max_records=10_000, max_bytes=1 << 30)
        ]
        assert offsets == list(range(2 * count))


def test_sigkill_during_produce_loses_no_acknowledged_batch_and_leaves_no_partial_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c"
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        cluster.create_topic("t", 3)
    batch = 2000  # large enough that the kill often lands inside a transaction
    child = spawn("produce_until_killed", path, "t", batch)
    acknowledged: list[int] = []
    assert child.stdout is not None
    deadline = time.monotonic() + 30
    while len(acknowledged) < 8 and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        acknowledged.append(int(line))
    time.sleep(0.01)  # let it get into the middle of another batch
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    child.stdout.close()
    child.stderr.close()  # type: ignore[union-attr]
    assert len(acknowledged) >= 8
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        per_batch: dict[int, int] = {}
        for part in range(3):
            for record in cluster.fetch("t", part, 0, max_records=10**6, max_bytes=1 << 30):
                number, _, size = (record.value or b"").decode().split(":")
                assert int(size) == batch
                per_batch[int(number)] = per_batch.get(int(number), 0) + 1
    assert set(acknowledged) <= set(per_batch)
    assert all(count == batch for count in per_batch.values()), "a batch was written partially"
    assert sorted(per_batch) == list(range(len(per_batch)))
    # The killed writer left no lock behind: the log goes on densely.
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        before = cluster.list_offsets("t", OffsetSpec.LATEST)
        (meta,) = cluster.produce("t", [Record(b"after", partition=0)])
        assert meta.offset == before[0]


def test_a_dead_member_is_expired_and_its_partitions_reassigned(tmp_path: Path) -> None:
    path = tmp_path / "c"
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        cluster.create_topic("t", 4)
        child = spawn("member", path, "g", "t", 400)
        assert child.stdout is not None
        # A lone member gets every partition as soon as it joins.
        assert json.loads(child.stdout.readline()) == [0, 1, 2, 3]
        consumer = cluster.engine.consumer(
            "g", session_timeout_ms=400, heartbeat_interval_ms=50, max_poll_interval_ms=1600
        )
        consumer.subscribe(["t"])
        deadline = time.monotonic() + 20
        while len(consumer.assignment()) != 2 and time.monotonic() < deadline:
            consumer.poll(0.05)
        assert len(consumer.assignment()) == 2
        generation = consumer.generation
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        child.stdout.close()
        child.stderr.close()  # type: ignore[union-attr]
        while len(consumer.assignment()) != 4 and time.monotonic() < deadline:
            consumer.poll(0.05)
        assert sorted(consumer.assignment()) == [TopicPartition("t", p) for p in range(4)]
        assert consumer.generation > generation
        assert len(cluster.describe_group("g").members) == 1
        consumer.close()


@pytest.mark.parametrize("instances", [2])
def test_state_logs_in_two_processes_agree(tmp_path: Path, instances: int) -> None:
    path = tmp_path / "c"
    EmbeddedCluster(path, maintenance_interval_s=None).close()
    procs = [spawn("statelog", path, 40, f"p{i}", 40 * instances) for i in range(instances)]
    reports = [json.loads(finish(proc)) for proc in procs]
    states = [r["state"] for r in reports]
    assert states[0] == states[1]
    ids = states[0]["ids"]
    assert sorted(ids.values()) == list(range(1, len(ids) + 1))  # unique, dense ids
    assert len(ids) == 2 * 20 + 20  # each instance's own names plus the shared ones once
    winners: dict[str, int] = {}
    for report in reports:
        for name, outcome in report["outcomes"]:
            if isinstance(outcome, int):
                assert ids[name] == outcome
                assert name not in winners, f"{name} was registered twice"
                winners[name] = outcome
            else:
                assert "is taken" in outcome
    assert winners == ids


def test_two_registry_instances_on_one_home_never_share_an_id(tmp_path: Path) -> None:
    """Two schema registries (two `streamgov up` on one home) registering at once: every
    schema gets one id, both agree on it, and no id names two schemas."""
    path = tmp_path / "c"
    EmbeddedCluster(path, maintenance_interval_s=None).close()
    procs = [spawn("registry_instance", path, tag, 30) for tag in ("a", "b")]
    got = [json.loads(finish(proc)) for proc in procs]
    for name in got[0].keys() & got[1].keys():
        assert got[0][name] == got[1][name], name  # the shared schemas: one id for both
    merged = {**got[0], **got[1]}
    assert len(merged) == 30 * 3
    assert len(set(merged.values())) == len(merged)  # no id handed out twice


def _settled(cluster: EmbeddedCluster, members: int, partitions: int) -> bool:
    description = cluster.describe_group("g")
    assigned = [tp for m in description.members for tp in m.assignment]
    return (
        description.state == "Stable"
        and len(description.members) == members
        and sorted(assigned) == [TopicPartition("t", p) for p in range(partitions)]
    )


def test_members_in_several_processes_share_the_partitions(tmp_path: Path) -> None:
    path = tmp_path / "c"
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        cluster.create_topic("t", 6)
        children = [spawn("member", path, "g", "t", 600) for _ in range(3)]
        try:
            deadline = time.monotonic() + 30
            while not _settled(cluster, 3, 6):
                assert time.monotonic() < deadline, cluster.describe_group("g")
                time.sleep(0.05)
            sizes = sorted(len(m.assignment) for m in cluster.describe_group("g").members)
            assert sizes == [2, 2, 2]
            children[0].send_signal(signal.SIGKILL)
            children[0].wait(timeout=10)
            while not _settled(cluster, 2, 6):
                assert time.monotonic() < deadline, cluster.describe_group("g")
                time.sleep(0.05)
        finally:
            for child in children:
                child.kill()
                child.wait(timeout=10)
                for stream in (child.stdout, child.stderr):
                    if stream is not None:
                        stream.close()
