"""Backup and restore of an embedded cluster with SQLite's online backup API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.embedded import EmbeddedCluster
from engine.embedded.backup import BackupError, backup, restore
from engine.errors import DamagedFileError, DataLossError
from engine.types import OffsetAndMetadata, Record, TopicPartition
from tests.engine.embedded.test_durability import damage_wal, kill_after, topic_db
from tests.engine.embedded.test_multiprocess import spawn


def all_values(cluster: EmbeddedCluster, topic: str) -> list[bytes | None]:
    description = cluster.describe_topic(topic)
    return [
        r.value
        for p in description.partitions
        for r in cluster.fetch(topic, p.partition, p.earliest_offset, 10**6, 1 << 30)
    ]


def test_backup_and_restore_round_trip(tmp_path: Path) -> None:
    source = tmp_path / "c"
    with EmbeddedCluster(source, maintenance_interval_s=None) as cluster:
        cluster.create_topic("orders", 3, {"retention.ms": "-1"})
        cluster.create_topic("_schemas")
        cluster.produce("orders", [Record(f"v{i}".encode(), f"k{i}".encode()) for i in range(500)])
        cluster.produce("_schemas", [Record(b"{}")])
        cluster.commit_offsets("g", {TopicPartition("orders", 1): OffsetAndMetadata(3, "m")})
        report = backup(source, tmp_path / "backup")  # while the cluster is open
        expected = sorted(all_values(cluster, "orders"))  # type: ignore[type-var]
    assert set(report.topics) == {"orders", "_schemas"}
    manifest = json.loads((tmp_path / "backup" / "streamgov-backup.json").read_text())
    assert manifest["topics"]["_schemas"] == {"0": 1}
    assert not list((tmp_path / "backup").rglob("*-wal"))
    report_, moved = restore(tmp_path / "backup", tmp_path / "restored")
    assert set(report_.topics) == {"orders", "_schemas"}
    assert moved is None
    with EmbeddedCluster(tmp_path / "restored", maintenance_interval_s=None) as cluster:
        assert cluster.list_topics(include_internal=True) == ["_schemas", "orders"]
        assert sorted(all_values(cluster, "orders")) == expected  # type: ignore[type-var]
        assert cluster.describe_topic("orders").config["retention.ms"] == "-1"
        assert cluster.committed_offsets("g") == {
            TopicPartition("orders", 1): OffsetAndMetadata(3, "m")
        }
        assert cluster.check_storage() == []
        cluster.produce("orders", [Record(b"after restore")])


def test_a_backup_taken_while_a_writer_runs_is_consistent(tmp_path: Path) -> None:
    source = tmp_path / "c"
    with EmbeddedCluster(source, maintenance_interval_s=None) as cluster:
        cluster.create_topic("t", 1)
    batch = 400
    child = spawn("produce_until_killed", source, "t", batch)
    assert child.stdout is not None
    for _ in range(5):
        child.stdout.readline()  # a few batches are in before the backup starts
    try:
        report = backup(source, tmp_path / "backup")
    finally:
        child.kill()
        child.wait(timeout=10)
        child.stdout.close()
        child.stderr.close()  # type: ignore[union-attr]
    restore(tmp_path / "backup", tmp_path / "restored")
    with EmbeddedCluster(tmp_path / "restored", maintenance_interval_s=None) as cluster:
        values = all_values(cluster, "t")
        assert cluster.check_storage() == []
    assert len(values) == report.topics["t"][0] >= 5 * batch
    # Whole batches only, in order: the copy is one moment of the log.
    numbers = [int((v or b"").decode().split(":")[0]) for v in values]
    assert numbers == sorted(numbers)
    assert all(numbers.count(n) == batch for n in set(numbers))


def test_restore_refuses_to_overwrite_and_moves_aside_on_replace(tmp_path: Path) -> None:
    with EmbeddedCluster(tmp_path / "a", maintenance_interval_s=None) as cluster:
        cluster.create_topic("from-backup")
    backup(tmp_path / "a", tmp_path / "backup")
    with EmbeddedCluster(tmp_path / "live", maintenance_interval_s=None) as cluster:
        cluster.create_topic("current")
    with pytest.raises(BackupError, match="--replace"):
        restore(tmp_path / "backup", tmp_path / "live")
    with pytest.raises(BackupError, match="not empty"):
        backup(tmp_path / "a", tmp_path / "live")
    _, moved = restore(tmp_path / "backup", tmp_path / "live", replace=True)
    assert moved is not None and moved.name.startswith("live.before-restore-")
    with EmbeddedCluster(moved, maintenance_interval_s=None) as cluster:
        assert cluster.list_topics() == ["current"]  # nothing destroyed
    with EmbeddedCluster(tmp_path / "live", maintenance_interval_s=None) as cluster:
        assert cluster.list_topics() == ["from-backup"]


def test_a_damaged_backup_is_refused_and_leaves_the_target_alone(tmp_path: Path) -> None:
    with EmbeddedCluster(tmp_path / "a", maintenance_interval_s=None) as cluster:
        cluster.create_topic("t")
        cluster.produce("t", [Record(b"x" * 3000) for _ in range(300)])
        db_name = topic_db(cluster, "t").name
    backup(tmp_path / "a", tmp_path / "backup")
    copy = tmp_path / "backup" / "topics" / db_name
    with open(copy, "r+b") as handle:
        handle.truncate(copy.stat().st_size // 2)
    with pytest.raises(DamagedFileError, match=db_name):
        restore(tmp_path / "backup", tmp_path / "restored")
    assert not (tmp_path / "restored").exists()
    assert not list(tmp_path.glob("restored.*"))
    with pytest.raises(BackupError, match="not a streamgov backup"):
        restore(tmp_path / "a", tmp_path / "restored")


def test_a_backup_of_a_killed_writers_cluster_holds_what_was_acknowledged(
    tmp_path: Path,
) -> None:
    source = tmp_path / "c"
    with EmbeddedCluster(source, maintenance_interval_s=None) as cluster:
        cluster.create_topic("t", 2)
    acknowledged = kill_after(("produce_until_killed", source, "t", 100), 10)
    report = backup(source, tmp_path / "backup")
    assert sum(report.topics["t"].values()) >= len(acknowledged) * 100


def test_a_backup_of_a_topic_that_lost_records_still_says_so(tmp_path: Path) -> None:
    source = tmp_path / "c"
    with EmbeddedCluster(source, maintenance_interval_s=None) as cluster:
        cluster.create_topic("t", 1)
        db = topic_db(cluster, "t")
    kill_after(("produce_until_killed", source, "t", 500), 30)
    damage_wal(db, 16384)
    backup(source, tmp_path / "backup")
    restore(tmp_path / "backup", tmp_path / "restored")
    with EmbeddedCluster(tmp_path / "restored", maintenance_interval_s=None) as cluster:
        (problem,) = cluster.check_storage()
        assert isinstance(problem, DataLossError) and problem.topic == "t"
        with pytest.raises(DataLossError):
            cluster.produce("t", [Record(b"x")])
