"""`streamgov replicate`: run --once, status, failover (dry run, refusal while live, apply)
and failback, between embedded clusters by name."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from engine.embedded import EmbeddedCluster
from engine.types import OffsetAndMetadata, Record, TopicPartition
from streamgov.cli import cli
from streamgov.config import embedded_cluster_path


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def open_named(name: str) -> EmbeddedCluster:
    return EmbeddedCluster(embedded_cluster_path(name), name=name)


def test_run_once_status_and_failover(streamgov_home: Path) -> None:
    east = open_named("east")
    east.create_topic("orders", 2)
    east.produce("orders", [Record(b"v", partition=i % 2) for i in range(40)])
    east.commit_offsets(
        "billing",
        {
            TopicPartition("orders", 0): OffsetAndMetadata(7),
            TopicPartition("orders", 1): OffsetAndMetadata(9),
        },
    )
    result = run(
        "replicate",
        "run",
        "-s",
        "east",
        "-t",
        "west",
        "--topics",
        "ord.*",
        "--groups",
        "billing",
        "--once",
    )
    assert result.exit_code == 0, result.output
    assert "copied 40 records" in result.output

    status = run("replicate", "status", "-s", "east", "-t", "west", "--format", "json")
    rows = json.loads(status.output)
    assert [(r["remote_topic"], r["partition"], r["lag_records"], r["exact"]) for r in rows] == [
        ("east.orders", 0, 0, True),
        ("east.orders", 1, 0, True),
    ]

    west = open_named("west")
    live = west.consumer("billing", auto_offset_reset="earliest")
    live.subscribe(["east.orders"])
    live.poll(0.5)
    refused = run("replicate", "failover", "-s", "east", "-t", "west", "-g", "billing")
    assert refused.exit_code == 1 and "live members" in refused.output
    live.close()

    west.commit_offsets("billing", {TopicPartition("east.orders", 0): OffsetAndMetadata(0)})
    dry = run(
        "replicate",
        "failover",
        "-s",
        "east",
        "-t",
        "west",
        "-g",
        "billing",
        "--dry-run",
        "--format",
        "json",
    )
    assert dry.exit_code == 0, dry.output
    plan = json.loads(dry.output.split("dry run")[0])
    assert [(m["topic"], m["partition"], m["offset"]) for m in plan] == [
        ("east.orders", 0, 7),
        ("east.orders", 1, 9),
    ]
    assert west.committed_offsets("billing")[TopicPartition("east.orders", 0)].offset == 0
    done = run("replicate", "failover", "-s", "east", "-t", "west", "--all-groups")
    assert done.exit_code == 0, done.output
    assert {tp: om.offset for tp, om in west.committed_offsets("billing").items()} == {
        TopicPartition("east.orders", 0): 7,
        TopicPartition("east.orders", 1): 9,
    }

    # failback: the group moves on at west; a west->east flow carries its position home
    west.commit_offsets("billing", {TopicPartition("east.orders", 0): OffsetAndMetadata(15)})
    back = run("replicate", "run", "-s", "west", "-t", "east", "--groups", "billing", "--once")
    assert back.exit_code == 0, back.output
    home = run("replicate", "failover", "-s", "west", "-t", "east", "-g", "billing")
    assert home.exit_code == 0, home.output
    assert east.committed_offsets("billing")[TopicPartition("orders", 0)].offset == 15
    east.close()
    west.close()


def test_bad_input_is_one_line(streamgov_home: Path) -> None:
    same = run("replicate", "run", "-s", "east", "-t", "east", "--once")
    assert same.exit_code != 0 and "same cluster" in same.output
    bad = run("replicate", "run", "-s", "east", "-t", "west", "--topics", "(", "--once")
    assert bad.exit_code != 0 and "regex" in bad.output and "Traceback" not in bad.output
    neither = run("replicate", "failover", "-s", "east", "-t", "west")
    assert neither.exit_code != 0 and "--all-groups" in neither.output
    nothing = run("replicate", "failover", "-s", "east", "-t", "west", "-g", "ghost")
    assert nothing.exit_code == 1 and "no checkpoints" in nothing.output
    kafka = run("replicate", "run", "-s", "east=", "-t", "west", "--once")
    assert kafka.exit_code != 0 and "bootstrap" in kafka.output
