"""`streamgov lag`: the table, the detail view, JSON output and user errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.embedded import EmbeddedCluster
from engine.types import OffsetAndMetadata, OffsetSpec, Record, TopicPartition
from streamgov.cli import cli
from streamgov.cli.lag import format_seconds, table
from streamgov.config import embedded_cluster_path
from tests.commands import STREAMGOV


@pytest.fixture()
def seeded(streamgov_home: Path) -> Path:
    cluster = EmbeddedCluster(embedded_cluster_path("default"), name="default")
    try:
        cluster.create_topic("orders", partitions=2)
        cluster.produce("orders", [Record(value=b"v", partition=i % 2) for i in range(20)])
        cluster.commit_offsets("billing", {TopicPartition("orders", 0): OffsetAndMetadata(4)})
        cluster.commit_offsets("audit", {TopicPartition("orders", 1): OffsetAndMetadata(10)})
    finally:
        cluster.close()
    return streamgov_home


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["lag", *args])
    return result.exit_code, result.output


def test_table_of_groups(seeded: Path) -> None:
    code, output = run("--interval", "0.05")
    assert code == 0, output
    header, *rows = output.splitlines()
    assert header.split()[:5] == ["GROUP", "STATE", "MEMBERS", "PARTITIONS", "LAG"]
    assert [row.split()[0] for row in rows] == ["audit", "billing"]
    billing = rows[1].split()
    assert billing[3:6] == ["2", "6", "6"]  # partitions, lag, max lag


def test_group_detail(seeded: Path) -> None:
    code, output = run("billing", "--samples", "1")
    assert code == 0, output
    assert output.startswith("group billing")
    assert "recommended replicas" in output
    lines = output.splitlines()
    table_start = next(i for i, line in enumerate(lines) if line.startswith("TOPIC"))
    first = lines[table_start + 1].split()
    assert first[:5] == ["orders", "0", "4", "10", "6"]
    second = lines[table_start + 2].split()
    assert second[:5] == ["orders", "1", "-", "10", "0"]


def test_json_output_matches_the_rest_shape(seeded: Path) -> None:
    code, output = run("--json", "--samples", "1", "--include", "^bill")
    assert code == 0, output
    body = json.loads(output)
    assert [g["group"] for g in body["groups"]] == ["billing"]
    assert body["groups"][0]["total_lag"] == 6


def test_exclude(seeded: Path) -> None:
    code, output = run("--samples", "1", "--exclude", "^bill")
    assert code == 0
    assert "billing" not in output and "audit" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nope", "--samples", "1"), "consumer group 'nope' not found"),
        (("--include", "(", "--samples", "1"), "include pattern '(' is not a valid regex"),
        (("--interval", "0"), "Invalid value for '--interval'"),
    ],
)
def test_user_errors_are_one_line(seeded: Path, args: tuple[str, ...], message: str) -> None:
    code, output = run(*args)
    assert code != 0
    assert message in output
    assert "Traceback" not in output


def test_no_groups(streamgov_home: Path) -> None:
    code, output = run("--samples", "1")
    assert code == 0
    assert output.strip() == "no consumer groups"


def test_formatting_helpers() -> None:
    assert format_seconds(None) == "-"
    assert format_seconds(2.345) == "2.3s"
    assert format_seconds(125) == "2m05s"
    assert format_seconds(7500, lower_bound=True) == ">=2h05m"
    assert table(["A", "BB"], [["xyz", "1"]]) == "A    BB\nxyz  1"


@pytest.mark.kafka
def test_table_on_kafka(kafka_bootstrap: str, streamgov_home: Path) -> None:
    import uuid

    from engine.kafka import KafkaCluster

    topic, group = f"cli-{uuid.uuid4().hex[:8]}", f"cli-group-{uuid.uuid4().hex[:8]}"
    cluster = KafkaCluster(kafka_bootstrap)
    try:
        cluster.create_topic(topic, partitions=2)
        cluster.produce(topic, [Record(b"v", partition=0) for _ in range(12)])
        cluster.commit_offsets(group, {TopicPartition(topic, 0): OffsetAndMetadata(2)})
        expected_lag = cluster.list_offsets(topic, OffsetSpec.LATEST)[0] - 2  # offsets, as Kafka
    finally:
        cluster.close()
    code, output = run("--bootstrap", kafka_bootstrap, "--samples", "1", "--include", f"^{group}$")
    assert code == 0, output
    [row] = [line for line in output.splitlines() if line.startswith(group)]
    assert row.split()[3:5] == ["2", str(expected_lag)]
    code, output = run(group, "--bootstrap", kafka_bootstrap, "--samples", "1")
    assert code == 0, output
    assert f"group {group}" in output


def test_up_takes_the_lag_interval() -> None:
    result = CliRunner().invoke(cli, ["up", "--help"])
    assert result.exit_code == 0
    assert "--lag-interval SECONDS" in result.output
    bad = CliRunner().invoke(cli, ["up", "--lag-interval", "0.001"])
    assert bad.exit_code != 0
    assert "Invalid value for '--lag-interval'" in bad.output


def test_watch_refreshes_until_interrupted(seeded: Path) -> None:
    import os
    import signal
    import subprocess

    command = [*STREAMGOV]
    proc = subprocess.Popen(
        [*command, "lag", "--watch", "--interval", "0.1", "--samples", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "STREAMGOV_HOME": str(seeded)},
    )
    assert proc.stdout is not None
    refreshes = 0
    try:
        for line in proc.stdout:
            if "(Ctrl-C to stop)" in line:
                refreshes += 1
                if refreshes == 2:
                    break
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert refreshes == 2
    assert proc.returncode == 0
    assert "Traceback" not in out


def test_a_window_too_short_to_judge_is_pending_never_ok(seeded: Path) -> None:
    code, output = run("--interval", "0.05", "--samples", "2")
    assert code == 0, output
    header, *rows = output.splitlines()
    status_at, window_at = header.index("STATUS"), header.index("WINDOW")
    billing = rows[1]
    assert billing[status_at:window_at].strip() == "PENDING"  # lag 6 after 2 of 10 samples
    assert billing[window_at:].split()[0] == "0%"
    assert "not judged yet" in billing
