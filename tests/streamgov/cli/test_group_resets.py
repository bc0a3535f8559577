"""`groups reset` with kafka-consumer-groups' scopes and targets: --all-groups, --all-topics,
--to-current, --by-duration, --export and --from-file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.embedded import EmbeddedCluster
from engine.types import OffsetAndMetadata, TopicPartition
from streamgov.cli import cli
from streamgov.cli.resetfile import (
    ResetFileError,
    format_reset_csv,
    parse_duration_ms,
    parse_reset_csv,
)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def ok(*args: str) -> Result:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture()
def cluster(streamgov_home: Path) -> EmbeddedCluster:
    opened = EmbeddedCluster(streamgov_home / "clusters" / "default", name="default")
    opened.create_topic("a", 2)
    opened.create_topic("b", 1)
    producer = opened.producer()
    for n in range(10):
        producer.send("a", b"%d" % n, None, partition=n % 2)
        producer.send("b", b"%d" % n, None)
    producer.flush()
    producer.close()
    opened.commit_offsets("g1", {TopicPartition("a", 0): OffsetAndMetadata(3)})
    opened.commit_offsets(
        "g2",
        {
            TopicPartition("a", 1): OffsetAndMetadata(4),
            TopicPartition("b", 0): OffsetAndMetadata(7),
        },
    )
    return opened


def committed(cluster: EmbeddedCluster, group: str) -> dict[tuple[str, int], int]:
    return {
        (tp.topic, tp.partition): o.offset for tp, o in cluster.committed_offsets(group).items()
    }


def test_to_current_exports_and_from_file_restores(
    cluster: EmbeddedCluster, tmp_path: Path
) -> None:
    exported = ok("groups", "reset", "g2", "--all-topics", "--to-current", "--export").stdout
    assert exported == "a,1,4\nb,0,7\n"
    saved = tmp_path / "g2.csv"
    saved.write_text(exported)
    ok("groups", "reset", "g2", "--to-earliest", "--execute")
    assert committed(cluster, "g2") == {("a", 1): 0, ("b", 0): 0}
    ok("groups", "reset", "g2", "--from-file", str(saved), "--execute")
    assert committed(cluster, "g2") == {("a", 1): 4, ("b", 0): 7}


def test_all_groups_reset_together_and_export_names_the_group(
    cluster: EmbeddedCluster, tmp_path: Path
) -> None:
    plan = json.loads(
        ok("groups", "reset", "--all-groups", "--to-latest", "--format", "json").stdout
    )
    assert [(p["group"], len(p["partitions"])) for p in plan] == [("g1", 1), ("g2", 2)]
    table = ok("groups", "reset", "--all-groups", "--to-latest").stdout.splitlines()
    assert table[0].split() == ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET"]
    exported = ok("groups", "reset", "--all-groups", "--to-earliest", "--export").stdout
    assert exported == "g1,a,0,0\ng2,a,1,0\ng2,b,0,0\n"
    saved = tmp_path / "all.csv"
    saved.write_text(exported)
    ok("groups", "reset", "--from-file", str(saved), "--execute")
    assert committed(cluster, "g1") == {("a", 0): 0}
    assert committed(cluster, "g2") == {("a", 1): 0, ("b", 0): 0}
    # A GROUP picks its rows out of a file of several groups.
    saved.write_text("g1,a,0,5\ng2,b,0,2\n")
    ok("groups", "reset", "g2", "--from-file", str(saved), "--execute")
    assert committed(cluster, "g2") == {("a", 1): 0, ("b", 0): 2}
    assert committed(cluster, "g1") == {("a", 0): 0}


def test_all_groups_execute_is_all_or_nothing(cluster: EmbeddedCluster) -> None:
    member = cluster.consumer("g2", client_id="live")
    member.subscribe(["b"])
    try:
        member.poll(timeout=1.0)
        result = run("groups", "reset", "--all-groups", "--to-earliest", "--execute")
        assert result.exit_code == 1
        assert "'g2' is active" in result.output
        assert committed(cluster, "g1") == {("a", 0): 3}  # untouched
    finally:
        member.close()


def test_by_duration_counts_back_from_now(cluster: EmbeddedCluster) -> None:
    day = json.loads(ok("groups", "reset", "g2", "--by-duration", "P1D", "--format", "json").stdout)
    assert [p["new_offset"] for p in day["partitions"]] == [0, 0]  # everything is recent
    now = json.loads(
        ok("groups", "reset", "g2", "--by-duration", "PT0S", "--format", "json").stdout
    )
    assert [p["new_offset"] for p in now["partitions"]] == [5, 10]  # nothing newer: the end


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["groups", "reset", "--to-earliest"], "give GROUP or --all-groups"),
        (["groups", "reset", "g1", "--all-groups", "--to-earliest"], "not both"),
        (["groups", "reset", "g1", "--topic", "a", "--all-topics", "--to-earliest"], "not both"),
        (["groups", "reset", "g1", "--to-current", "--to-latest"], "exactly one"),
        (["groups", "reset", "g1", "--by-duration", "1 day"], "not a duration"),
        (["groups", "reset", "g1", "--from-file", "/nonexistent.csv"], "cannot read"),
    ],
)
def test_reset_usage_errors_are_one_line(
    cluster: EmbeddedCluster, args: list[str], message: str
) -> None:
    result = run(*args)
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,0\n", "x.csv:1: expected TOPIC,PARTITION,OFFSET"),
        ("a,0,1\ng,a,1,1\n", "x.csv:2: expected"),
        ("a,-1,1\n", "x.csv:1: partition and offset must be whole numbers"),
        ("a,0,1\n\na,0,2\n", "x.csv:3: a partition 0 is repeated"),
        ("\n", "x.csv: no offsets"),
    ],
)
def test_bad_reset_files_name_the_line(text: str, message: str) -> None:
    with pytest.raises(ResetFileError, match=message):
        parse_reset_csv(text, "x.csv")


ROWS = st.lists(
    st.tuples(
        st.sampled_from(["g1", "g,2", 'g"3']),
        st.text(alphabet="abc._-", min_size=1, max_size=8),
        st.integers(0, 50),
        st.integers(0, 10**12),
    ),
    unique_by=lambda r: (r[0], r[1], r[2]),
    min_size=1,
    max_size=20,
)


@settings(max_examples=150, deadline=None)
@given(ROWS)
def test_export_and_from_file_round_trip(rows: list[tuple[str, str, int, int]]) -> None:
    parsed = parse_reset_csv(format_reset_csv(rows, with_group=True), "x.csv")
    expected: dict[str | None, dict[TopicPartition, int]] = {}
    for group, topic, partition, offset in rows:
        expected.setdefault(group, {})[TopicPartition(topic, partition)] = offset
    assert parsed == expected


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 400), st.integers(0, 23), st.integers(0, 59), st.integers(0, 59))
def test_durations_count_days_hours_minutes_seconds(d: int, h: int, m: int, s: int) -> None:
    text = f"P{d}DT{h}H{m}M{s}S"
    assert parse_duration_ms(text) == ((d * 24 + h) * 60 + m) * 60_000 + s * 1000
    assert parse_duration_ms("PT1.5S") == 1500
    for bad in ("P", "PT", "1D", "P1H", "P-1D"):
        with pytest.raises(ResetFileError):
            parse_duration_ms(bad)
