"""`streamgov backup`, `restore` and `recover` on embedded clusters in a temporary home."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner, Result

from engine.embedded import EmbeddedCluster
from engine.types import Record
from streamgov.cli import cli
from tests.brokers import free_port
from tests.engine.embedded.test_durability import damage_wal, kill_after, topic_db


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def cluster_dir(home: Path, name: str = "default") -> Path:
    return home / "clusters" / name


def test_backup_restore_through_the_cli(streamgov_home: Path, tmp_path: Path) -> None:
    with EmbeddedCluster(cluster_dir(streamgov_home), maintenance_interval_s=None) as cluster:
        cluster.create_topic("orders")
        cluster.produce("orders", [Record(b"one"), Record(b"two")])
    target = tmp_path / "bk"
    result = run("backup", str(target))
    assert result.exit_code == 0, result.output
    assert "1 topic(s)" in result.output
    again = run("backup", str(target))
    assert again.exit_code == 1
    assert again.output.strip().endswith("back up into a new or empty directory")
    assert "Traceback" not in again.output

    refused = run("restore", str(target))
    assert refused.exit_code == 1 and "--replace" in refused.output
    result = run("restore", str(target), "--cluster", "copy")
    assert result.exit_code == 0, result.output
    with EmbeddedCluster(cluster_dir(streamgov_home, "copy"), maintenance_interval_s=None) as c:
        assert [r.value for r in c.fetch("orders", 0, 0)] == [b"one", b"two"]
    result = run("restore", str(target), "--replace")
    assert result.exit_code == 0 and "moved the previous cluster to" in result.output


def test_recover_reports_then_accepts_a_loss(streamgov_home: Path) -> None:
    path = cluster_dir(streamgov_home)
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        cluster.create_topic("t")
    assert run("recover").output.strip().endswith("no damaged file, no lost record")
    kill_after(("produce_until_killed", path, "t", 500), 30)
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        db = topic_db(cluster, "t")
    damage_wal(db, 16384)
    report = run("recover")
    assert report.exit_code == 1
    assert str(db) in report.output and "lost offsets" in report.output
    assert "--accept-loss" in report.output
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        assert cluster.check_storage()  # a report changes nothing
    accepted = run("recover", "--accept-loss")
    assert accepted.exit_code == 0, accepted.output
    assert "accepted the loss of" in accepted.output and "'t'" in accepted.output
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        assert cluster.check_storage() == []
        cluster.produce("t", [Record(b"again")])


def test_recover_without_a_cluster_is_one_line(streamgov_home: Path) -> None:
    result = run("recover", "--cluster", "nothing-here")
    assert result.exit_code == 1
    assert "holds no embedded cluster" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_up_names_the_fast_path_and_warns_about_lost_records(streamgov_home: Path) -> None:
    path = cluster_dir(streamgov_home)
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        cluster.create_topic("t")
    kill_after(("produce_until_killed", path, "t", 500), 30)
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        db = topic_db(cluster, "t")
    damage_wal(db, 16384)
    root = Path(__file__).resolve().parents[3]
    server = subprocess.Popen(
        [sys.executable, "-m", "streamgov", "up", "--port", str(free_port())],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root), "STREAMGOV_HOME": str(streamgov_home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while not any(line.startswith("warning:") for line in lines):
            assert time.monotonic() < deadline and server.poll() is None, lines
            lines.append(server.stderr.readline())
    finally:
        server.terminate()
        server.wait(timeout=30)
        server.stderr.close()  # type: ignore[union-attr]
    assert any(line.startswith("C fast path: ") for line in lines)
    (warning,) = [line for line in lines if line.startswith("warning:")]
    assert str(db) in warning and "lost offsets" in warning


def test_recover_keeps_the_registry_log_refusing_unless_asked(streamgov_home: Path) -> None:
    path = cluster_dir(streamgov_home)
    kill_after(("register_until_killed", path), 60)
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        db = topic_db(cluster, "_schemas")
    damage_wal(db, 16384, at=0.3)
    kept = run("recover", "--accept-loss")
    assert kept.exit_code == 1
    assert "'_schemas' still refuse writes" in kept.output and "--include-internal" in kept.output
    accepted = run("recover", "--accept-loss", "--include-internal")
    assert accepted.exit_code == 0, accepted.output
    assert "topic '_schemas'; it takes writes again" in accepted.output
