"""`streamgov topics|produce|consume|groups` on an embedded cluster in a temporary
STREAMGOV_HOME, through click's runner and as real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from streamgov.cli import cli
from streamgov.cli.produce import FLUSH_EVERY
from tests.commands import STREAMGOV


def run(*args: str, input: str | bytes | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def ok(*args: str, input: str | bytes | None = None) -> Result:
    result = run(*args, input=input)
    assert result.exit_code == 0, result.output
    return result


def read_as_group(group: str) -> list[str]:
    return ok("consume", "t", "--from-beginning", "-e", "-g", group).stdout.split()


def test_topic_lifecycle(streamgov_home: Path) -> None:
    ok("topics", "create", "orders", "--partitions", "3", "--config", "retention.ms=60000")
    assert ok("topics", "list").stdout.split() == ["orders"]
    assert json.loads(ok("topics", "list", "--format", "json").stdout) == ["orders"]

    described = json.loads(ok("topics", "describe", "orders", "--format", "json").stdout)
    assert [p["partition"] for p in described["partitions"]] == [0, 1, 2]
    assert described["config"]["retention.ms"] == "60000"
    assert all(p["size_bytes"] == 0 for p in described["partitions"])
    assert described["size_bytes"] == 0
    table = ok("topics", "describe", "orders").stdout
    assert "PARTITION" in table and "SIZE" in table and "retention.ms" in table

    ok("produce", "orders", "--partition", "1", input="a" * 2000 + "\n")
    described = json.loads(ok("topics", "describe", "orders", "--format", "json").stdout)
    assert [p["size_bytes"] for p in described["partitions"]] == [0, 2000, 0]
    assert described["size_bytes"] == 2000
    assert "2.0 KiB" in ok("topics", "describe", "orders").stdout
    listed = json.loads(ok("topics", "list", "--sizes", "--format", "json").stdout)
    assert listed == [{"name": "orders", "partitions": 3, "records": 1, "size_bytes": 2000}]
    assert "2.0 KiB" in ok("topics", "list", "--sizes").stdout

    ok(
        "topics", "alter", "orders", "--partitions", "4",
        "--config", "cleanup.policy=compact", "--delete-config", "retention.ms",
    )  # fmt: skip
    described = json.loads(ok("topics", "describe", "orders", "--format", "json").stdout)
    assert len(described["partitions"]) == 4
    assert described["config"]["cleanup.policy"] == "compact"
    assert described["config"]["retention.ms"] == "604800000"

    ok("topics", "create", "orders", "--if-not-exists")
    assert run("topics", "create", "orders").exit_code == 1
    ok("topics", "delete", "orders")
    assert ok("topics", "list").stdout.split() == []
    ok("topics", "delete", "orders", "--if-exists")
    assert run("topics", "delete", "orders").exit_code == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["topics", "create", "bad name"], "illegal"),
        (["topics", "describe", "missing"], "does not exist"),
        (["topics", "create", "t", "--config", "retention.ms"], "KEY=VALUE"),
        (["topics", "create", "t", "--config", "retention.ms=soon"], "retention.ms"),
        (["topics", "alter", "t"], "nothing to alter"),
        (["produce", "missing"], "does not exist"),
        (["produce", "t", "--partition", "1"], "partitions 0 to 0"),
        (["groups", "reset", "g", "--to-earliest", "--to-latest"], "exactly one"),
        (["groups", "reset", "g", "--to-datetime", "yesterday"], "ISO 8601"),
        (["groups", "reset", "g", "--to-earliest"], "no committed offsets"),
        (["topics", "list", "--cluster", "../escape"], "cluster name"),
        (["topics", "create", "t", "--partitions", "-1"], "[1, 10000]"),
        (["groups", "describe", "nobody"], "'nobody' does not exist"),
        (["groups", "reset", "g", "--to-datetime", "0001-01-01T00:00:00"], "out of range"),
        (["consume", "t", "--offset", "soon"], "not beginning, end"),
        (["consume", "t", "--offset", "3"], "needs --partition"),
        (["consume", "t", "--partition", "0", "--offset", "3"], "valid offsets are 0 to 0"),
        (["consume", "t", "--partition", "4"], "partitions 0 to 0"),
        (["consume", "t", "--group", "g", "--partition", "0"], "without a group"),
        (["consume", "t", "--from-beginning", "--offset", "end"], "not both"),
        (["consume", "t", "--group", ""], "must not be empty"),
        (["groups", "describe", ""], "must not be empty"),
        (["groups", "reset", "g" * 40_000, "--to-earliest"], "at most 32767 bytes"),
    ],
)
def test_user_errors_are_one_line_without_traceback(
    streamgov_home: Path, args: list[str], message: str
) -> None:
    if args[:2] in (["produce", "t"], ["consume", "t"]):
        ok("topics", "create", "t")
    result = run(*args, input="")
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    # One error line; usage errors add click's usage hint before it.
    lines = [line for line in result.output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error:")]
    assert len(errors) == 1
    assert set(lines) - set(errors) <= {line for line in lines if "Usage:" in line or "Try" in line}


def test_produce_then_consume_with_keys_headers_and_json(streamgov_home: Path) -> None:
    ok("topics", "create", "events", "--partitions", "2")
    produced = ok(
        "produce", "events", "--key-separator", ":", "--header", "src=test",
        input="k1:one\nk2:two\r\nk1:three\n",
    )  # fmt: skip
    assert "Produced 3 record(s)" in produced.stderr

    lines = ok("consume", "events", "--from-beginning", "--exit-at-end", "--format", "json")
    records = [json.loads(line) for line in lines.stdout.splitlines()]
    assert sorted(r["value"] for r in records) == ["one", "three", "two"]
    by_value = {r["value"]: r for r in records}
    assert by_value["one"]["key"] == "k1" and by_value["three"]["key"] == "k1"
    assert by_value["one"]["partition"] == by_value["three"]["partition"]
    assert by_value["one"]["offset"] < by_value["three"]["offset"]
    assert all(r["headers"] == [{"key": "src", "value": "test"}] for r in records)
    assert all(set(r) >= {"topic", "partition", "offset", "timestamp"} for r in records)

    text = ok("consume", "events", "--from-beginning", "-e", "-K", "=").stdout.splitlines()
    assert sorted(text) == ["k1=one", "k1=three", "k2=two"]


def test_repeated_headers_are_all_kept_in_order(streamgov_home: Path) -> None:
    ok("topics", "create", "t")
    ok(
        "produce",
        "t",
        "-H",
        "trace=a",
        "-H",
        "span=b",
        "-H",
        "trace=c",
        "-H",
        "empty=",
        input="v\n",
    )
    [line] = ok("consume", "t", "--from-beginning", "-e", "--format", "json").stdout.splitlines()
    assert json.loads(line)["headers"] == [
        {"key": "trace", "value": "a"},
        {"key": "span", "value": "b"},
        {"key": "trace", "value": "c"},
        {"key": "empty", "value": ""},
    ]


def test_empty_as_null_writes_tombstones(streamgov_home: Path) -> None:
    ok("topics", "create", "c", "--config", "cleanup.policy=compact")
    ok("produce", "c", "-K", ":", "-Z", input="k1:v\nk1:\n")
    ok("produce", "c", "-K", ":", input="k2:\n")
    lines = ok("consume", "c", "--from-beginning", "-e", "--format", "json").stdout.splitlines()
    assert [(r["key"], r["value"]) for r in map(json.loads, lines)] == [
        ("k1", "v"), ("k1", None), ("k2", ""),
    ]  # fmt: skip


def test_produce_to_a_partition_and_binary_values(streamgov_home: Path) -> None:
    ok("topics", "create", "bin", "--partitions", "3")
    ok("produce", "bin", "--partition", "2", input=b"\xff\xfe\n")
    [line] = ok("consume", "bin", "--from-beginning", "-e", "--format", "json").stdout.splitlines()
    record = json.loads(line)
    assert (record["partition"], record["value_encoding"], record["value"]) == (2, "base64", "//4=")


def test_a_refused_batch_names_what_was_produced_before_it(streamgov_home: Path) -> None:
    ok("topics", "create", "t", "--config", "max.message.bytes=100")
    # The header's 20 bytes make the 90-byte line a 110-byte record.
    lines = "".join(f"{i}\n" for i in range(FLUSH_EVERY)) + "x" * 90 + "\nafter\n"
    result = run("produce", "t", "-H", "h=" + "v" * 19, input=lines)
    assert result.exit_code == 1
    assert "larger than max.message.bytes=100" in result.output
    assert f"{FLUSH_EVERY} record(s) before that batch were produced" in result.output
    described = json.loads(ok("topics", "describe", "t", "--format", "json").stdout)
    assert described["partitions"][0]["latest_offset"] == FLUSH_EVERY


def test_a_line_longer_than_the_topic_allows_is_refused_while_reading(
    streamgov_home: Path,
) -> None:
    ok("topics", "create", "t", "--config", "max.message.bytes=100")
    result = run("produce", "t", "-K", ":", input="a:1\nk:" + "x" * 200 + "\nb:2\n")
    assert result.exit_code == 1
    assert (
        "line 2 is longer than 101 bytes (max.message.bytes=100 of topic t, plus the key "
        "separator); the 1 record(s) before it were produced"
    ) in result.output
    assert ok("consume", "t", "--from-beginning", "-e").stdout == "1\n"


def test_consume_one_partition_from_an_offset(streamgov_home: Path) -> None:
    ok("topics", "create", "t", "--partitions", "2")
    ok("produce", "t", "-p", "0", input="".join(f"a{i}\n" for i in range(5)))
    ok("produce", "t", "-p", "1", input="b0\nb1\n")
    assert ok("consume", "t", "-p", "0", "-o", "3", "-e").stdout.split() == ["a3", "a4"]
    assert ok("consume", "t", "-p", "1", "-o", "beginning", "-e").stdout.split() == ["b0", "b1"]
    assert sorted(ok("consume", "t", "-o", "-1", "-e").stdout.split()) == ["a4", "b1"]
    assert sorted(ok("consume", "t", "-o", "-9", "-e").stdout.split()) == [
        "a0", "a1", "a2", "a3", "a4", "b0", "b1",
    ]  # fmt: skip
    assert ok("consume", "t", "-o", "end", "-e").stdout == ""


def test_missing_key_separator_names_the_line(streamgov_home: Path) -> None:
    ok("topics", "create", "t")
    result = run("produce", "t", "-K", ":", input="a:1\nno separator\n")
    assert result.exit_code == 1
    assert "line 2 has no key separator" in result.output
    assert ok("consume", "t", "--from-beginning", "-e").stdout == "1\n"


def test_consume_max_records(streamgov_home: Path) -> None:
    ok("topics", "create", "t")
    ok("produce", "t", input="".join(f"{i}\n" for i in range(10)))
    assert ok("consume", "t", "--from-beginning", "-n", "4").stdout.split() == ["0", "1", "2", "3"]


def test_group_consume_commits_and_reset(streamgov_home: Path) -> None:
    ok("topics", "create", "t")
    ok("produce", "t", input="a\nb\nc\n")
    assert read_as_group("readers") == ["a", "b", "c"]
    # The group resumes where it stopped: nothing new to read.
    ok("produce", "t", input="d\n")
    assert read_as_group("readers") == ["d"]

    listed = json.loads(ok("groups", "list", "--format", "json").stdout)
    assert {"group": "readers", "state": "Empty"} in listed
    described = json.loads(ok("groups", "describe", "readers", "--format", "json").stdout)
    assert described["offsets"] == [
        {
            "topic": "t",
            "partition": 0,
            "current_offset": 4,
            "log_end_offset": 4,
            "lag": 0,
            "member": None,
            "client": None,
        }
    ]

    dry = ok("groups", "reset", "readers", "--topic", "t", "--shift-by", "-2", "--format", "json")
    assert json.loads(dry.stdout)["partitions"] == [
        {"topic": "t", "partition": 0, "current_offset": 4, "new_offset": 2}
    ]
    assert "Dry run" in dry.stderr
    assert (
        json.loads(ok("groups", "describe", "readers", "--format", "json").stdout)["offsets"][0][
            "current_offset"
        ]
        == 4
    )

    ok("groups", "reset", "readers", "--to-offset", "1", "--execute")
    assert read_as_group("readers") == ["b", "c", "d"]

    ok("groups", "reset", "readers", "--to-datetime", "2000-01-01T00:00:00Z", "--execute")
    assert ok("consume", "t", "-e", "-g", "readers").stdout.split() == ["a", "b", "c", "d"]

    ok("groups", "delete", "readers")
    assert "readers" not in ok("groups", "list").stdout


def _streamgov(home: Path, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "STREAMGOV_HOME": str(home)}
    env.pop("STREAMGOV_BOOTSTRAP", None)
    return subprocess.run(
        [*STREAMGOV, *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_real_processes_produce_then_consume(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert _streamgov(home, "topics", "create", "lines", "--partitions", "4").returncode == 0
    payload = b"".join(b"key-%d\tvalue-%d\n" % (i % 7, i) for i in range(3000))
    produced = _streamgov(home, "produce", "lines", "-K", "\t", stdin=payload)
    assert produced.returncode == 0, produced.stderr
    consumed = _streamgov(home, "consume", "lines", "--from-beginning", "-e", "-K", "\t")
    assert consumed.returncode == 0, consumed.stderr
    assert sorted(consumed.stdout.splitlines()) == sorted(payload.splitlines())

    failed = _streamgov(home, "consume", "nope", "-e")
    assert failed.returncode == 1
    assert failed.stderr.decode().strip().splitlines() == ["Error: topic 'nope' does not exist"]


@pytest.mark.kafka
def test_commands_on_kafka(kafka_bootstrap: str, streamgov_home: Path) -> None:
    topic, group = f"cli-{uuid.uuid4().hex[:8]}", f"cli-group-{uuid.uuid4().hex[:8]}"
    kafka = ["--bootstrap", kafka_bootstrap]
    ok("topics", "create", topic, "--partitions", "2", *kafka)
    assert topic in ok("topics", "list", *kafka).stdout.split()
    # One record per call keeps the test broker's latest offsets exact (see docs/cli.md).
    for line in ("k1:one", "k2:two"):
        ok("produce", topic, "-K", ":", *kafka, input=line + "\n")
    out = ok(
        "consume", topic, "--from-beginning", "-e", "-g", group, "--format", "json", *kafka
    ).stdout
    assert sorted(json.loads(line)["value"] for line in out.splitlines()) == ["one", "two"]
    by_partition: dict[int, list[str]] = {}
    for record in map(json.loads, out.splitlines()):
        by_partition.setdefault(record["partition"], []).append(record["value"])
    for partition, values in by_partition.items():
        again = ok("consume", topic, "-p", str(partition), "-o", "0", "-e", *kafka).stdout
        assert again.split() == values
        assert (
            ok("consume", topic, "-p", str(partition), "-o", "-1", "-e", *kafka).stdout.split()
            == values[-1:]
        )
    described = json.loads(ok("topics", "describe", topic, "--format", "json", *kafka).stdout)
    assert described["size_bytes"] is None  # the Kafka backend cannot tell sizes
    assert "unknown" in ok("topics", "describe", topic, *kafka).stdout
    plan = json.loads(
        ok("groups", "reset", group, "--to-earliest", "--format", "json", *kafka).stdout
    )
    assert {row["new_offset"] for row in plan["partitions"]} == {0}
    ok("groups", "reset", group, "--to-earliest", "--execute", *kafka)
    assert {
        (o["topic"], o["current_offset"])
        for o in json.loads(ok("groups", "describe", group, "--format", "json", *kafka).stdout)[
            "offsets"
        ]
    } == {(topic, 0)}
    ok("topics", "delete", topic, *kafka)
    assert topic not in ok("topics", "list", *kafka).stdout.split()


@pytest.mark.parametrize(
    ("topic", "holds"),
    [
        ("_schemas", "every schema, subject and id"),
        ("_schemas-snapshots", "snapshots of the state in _schemas"),
        ("_catalog-snapshots", "snapshots of the state in _catalog"),
        ("_catalog_events", "the catalog's events"),
    ],
)
def test_internal_topics_change_only_with_internal(
    streamgov_home: Path, topic: str, holds: str
) -> None:
    ok("topics", "create", topic)
    for command in (
        ("topics", "delete", topic),
        ("topics", "alter", topic, "--partitions", "2"),
        ("topics", "alter", topic, "--config", "retention.ms=1000"),
    ):
        refused = run(*command)
        assert refused.exit_code == 1
        assert refused.output.count("\n") == 1 and "--internal" in refused.output
        assert holds in refused.output
    described = json.loads(ok("topics", "describe", topic, "--format", "json").stdout)
    assert len(described["partitions"]) == 1
    ok("topics", "alter", topic, "--config", "retention.ms=1000", "--internal")
    ok("topics", "delete", topic, "--internal")
    assert run("topics", "describe", topic).exit_code == 1
