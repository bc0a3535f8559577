"""Storage failures of the embedded engine: damaged files and a full disk.

A damaged file takes down only what it stores (one topic, the groups); a full disk is a clear
error naming the data directory, loses nothing acknowledged and heals once space is freed.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.embedded import EmbeddedCluster
from engine.errors import DamagedFileError, StorageFullError
from engine.types import OffsetAndMetadata, OffsetSpec, Record, TopicPartition


def topic_file(cluster: EmbeddedCluster, topic: str) -> Path:
    """The database file of a topic."""
    return cluster.engine.topic_file(cluster.engine._meta(topic).topic_id)


def damage(file: Path) -> None:
    """Overwrite the file's header and first pages with garbage (a stray write, a bad disk)."""
    with open(file, "r+b") as handle:
        handle.write(b"\xa5" * 40_000)


def test_a_damaged_topic_file_takes_down_only_that_topic(tmp_path: Path) -> None:
    with EmbeddedCluster(tmp_path, maintenance_interval_s=None) as cluster:
        cluster.create_topic("good")
        cluster.create_topic("bad", 2)
        cluster.produce("good", [Record(b"g")])
        cluster.produce("bad", [Record(b"b" * 1000, partition=0)] * 50)
        bad_file = topic_file(cluster, "bad")
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{bad_file}{suffix}")
    damage(bad_file)
    with EmbeddedCluster(tmp_path, maintenance_interval_s=None) as cluster:
        assert cluster.list_topics() == ["bad", "good"]
        for call in (
            lambda: cluster.describe_topic("bad"),
            lambda: cluster.produce("bad", [Record(b"x")]),
            lambda: cluster.fetch("bad", 0, 0),
            lambda: cluster.list_offsets("bad", OffsetSpec.LATEST),
        ):
            with pytest.raises(DamagedFileError) as caught:
                call()
            assert caught.value.topic == "bad"
            assert caught.value.file == str(bad_file)
            assert str(bad_file) in str(caught.value)
            assert "'bad'" in str(caught.value)
        assert [r.value for r in cluster.fetch("good", 0, 0)] == [b"g"]
        cluster.produce("good", [Record(b"h")])
        assert cluster.describe_topic("good").partitions[0].latest_offset == 2
        cluster.run_maintenance()  # skips the damaged topic instead of failing the pass
        cluster.delete_topic("bad")  # an operator can still get rid of it
        assert cluster.list_topics() == ["good"]
        assert not bad_file.exists()


def test_a_damaged_groups_file_takes_down_only_the_groups(tmp_path: Path) -> None:
    with EmbeddedCluster(tmp_path, maintenance_interval_s=None) as cluster:
        cluster.create_topic("t")
        cluster.commit_offsets("g", {TopicPartition("t", 0): OffsetAndMetadata(0)})
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{tmp_path / 'groups.db'}{suffix}")
    damage(tmp_path / "groups.db")
    with EmbeddedCluster(tmp_path, maintenance_interval_s=None) as cluster:
        cluster.produce("t", [Record(b"v")])
        assert [r.value for r in cluster.fetch("t", 0, 0)] == [b"v"]
        with pytest.raises(DamagedFileError, match=r"groups\.db") as caught:
            cluster.list_groups()
        assert caught.value.file == str(tmp_path / "groups.db")
        assert caught.value.topic is None
        with pytest.raises(DamagedFileError, match=r"groups\.db"):
            cluster.committed_offsets("g")


def test_a_truncated_topic_file_is_damaged(tmp_path: Path) -> None:
    with EmbeddedCluster(tmp_path, maintenance_interval_s=None) as cluster:
        cluster.create_topic("t")
        cluster.produce("t", [Record(os.urandom(3000)) for _ in range(200)])
        file = topic_file(cluster, "t")
    size = file.stat().st_size
    assert size > 100_000  # a clean close checkpointed the log into the database file
    with open(file, "r+b") as handle:
        handle.truncate(size // 3)
    with (
        EmbeddedCluster(tmp_path, maintenance_interval_s=None) as cluster,
        pytest.raises(DamagedFileError, match=re.escape(str(file))),
    ):
        cluster.fetch("t", 0, 0, max_records=1000, max_bytes=1 << 30)


# -- a full disk: a small tmpfs ---------------------------------------------------------------


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs (mounting needs root; elsewhere skipped, see docs/operations.md)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(directory: Path) -> Path:
    """Fill the device with one file; returns it (delete it to free the space)."""
    filler = directory / f"filler-{uuid.uuid4().hex}"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"\1" * 4096)
    finally:
        os.close(fd)
    return filler


def test_a_full_disk_is_a_clear_error_that_loses_nothing_and_heals(small_disk: Path) -> None:
    data = small_disk / "cluster"
    with EmbeddedCluster(data, maintenance_interval_s=None) as cluster:
        cluster.create_topic("t")
        acknowledged: list[bytes | None] = []
        for i in range(20):
            cluster.produce("t", [Record(f"{i}".encode())])
            acknowledged.append(f"{i}".encode())
        filler = fill(small_disk)
        with pytest.raises(StorageFullError) as caught:
            for _ in range(200):  # the WAL may still have room for a few batches
                batch = [os.urandom(20_000) for _ in range(20)]
                cluster.produce("t", [Record(value) for value in batch])
                acknowledged.extend(batch)
        assert caught.value.directory == str(data)
        assert str(data) in str(caught.value)
        before = set(os.listdir(data / "topics"))
        with pytest.raises(StorageFullError, match=re.escape(str(data))):
            cluster.create_topic("new-topic")
        assert set(os.listdir(data / "topics")) == before  # no empty database left behind
        assert "new-topic" not in cluster.list_topics()
        filler.unlink()
        # Space is back: the same cluster object writes again, nothing acknowledged was lost.
        cluster.produce("t", [Record(b"after")])
        cluster.create_topic("new-topic")
        records = cluster.fetch("t", 0, 0, max_records=10_000, max_bytes=1 << 30)
        assert [r.value for r in records] == [*acknowledged, b"after"]
    with EmbeddedCluster(data, maintenance_interval_s=None) as cluster:
        records = cluster.fetch("t", 0, 0, max_records=10_000, max_bytes=1 << 30)
        assert [r.value for r in records] == [*acknowledged, b"after"]
