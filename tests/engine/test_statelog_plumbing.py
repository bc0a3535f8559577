"""The state-log plumbing a component builds on: dispatch, validate-then-append writes,
fresh reads, record limits, and snapshots that are only ever an optimisation."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from engine import statelog_snapshot
from engine.embedded import EmbeddedCluster
from engine.statelog import (
    Command,
    CommandError,
    CommandTooLargeError,
    Fold,
    SnapshotCodec,
    StateLog,
    Unchanged,
    command,
)
from engine.types import OffsetSpec, Record


# -- a toy component: a counter per name ------------------------------------------------------
class UnknownNameError(Exception):
    """The name was never added."""


@dataclass
class Counters:
    counts: dict[str, int] = field(default_factory=dict)
    applied: int = 0  # how many commands this state folded (not part of the snapshot)


def add(name: str) -> Command:
    return command("add", name=name)


def bump(name: str, by: int = 1) -> Command:
    return command("bump", name=name, by=by)


def _add(state: Counters, cmd: Mapping[str, Any], commit: bool) -> Any:
    name = str(cmd["name"])
    if name in state.counts:
        return Unchanged(0)
    if commit:
        state.counts[name] = 0
        state.applied += 1
    return 0


def _bump(state: Counters, cmd: Mapping[str, Any], commit: bool) -> int:
    name, by = cmd["name"], cmd["by"]
    if not isinstance(by, int):
        raise TypeError("by must be an integer")
    if name not in state.counts:
        raise UnknownNameError(name)
    if commit:
        state.counts[name] += by
        state.applied += 1
    return state.counts[name] + (0 if commit else by)


def _dump(state: Counters) -> Iterable[Any]:
    for name, count in state.counts.items():
        yield [name, count]


def _load(pieces: Iterator[Any]) -> Counters:
    return Counters({str(name): int(count) for name, count in pieces})


CODEC = SnapshotCodec("counters-1", _dump, _load)
FOLD: Fold[Counters] = Fold(Counters, {"add": _add, "bump": _bump}, snapshot=CODEC)
TOPIC = "_counters"


def open_log(cluster: EmbeddedCluster, fold: Fold[Counters] = FOLD, every: int = 5) -> Any:
    return StateLog(cluster, TOPIC, fold, snapshot_every=every).start()


def end(cluster: EmbeddedCluster, topic: str = TOPIC) -> int:
    return cluster.list_offsets(topic, OffsetSpec.LATEST)[0]


# -- dispatch ---------------------------------------------------------------------------------
def test_dispatch_turns_unreadable_commands_into_one_error() -> None:
    state = Counters()
    FOLD.apply(state, add("a"))
    for bad in ({"op": "nope"}, {"name": "a"}, {"op": "bump"}, bump("a", "x")):  # type: ignore[arg-type]
        with pytest.raises(CommandError):
            FOLD.apply(state, bad)
        with pytest.raises(CommandError):
            FOLD.validate(state, bad)
    with pytest.raises(UnknownNameError):  # a refusal is the component's own error
        FOLD.validate(state, bump("b"))
    assert FOLD.validate(state, add("a")) == Unchanged(0)
    assert FOLD.apply(state, add("a")) == 0
    assert state.counts == {"a": 0}


# -- writes -----------------------------------------------------------------------------------
def test_write_validates_before_appending(cluster: EmbeddedCluster) -> None:
    log = open_log(cluster)
    assert log.write(add("a")) == 0
    assert log.write(bump("a", 2)) == 2
    with pytest.raises(UnknownNameError):
        log.write(bump("b"))
    with pytest.raises(CommandError):
        log.write({"op": "explode"})
    assert log.write(add("a")) == 0  # unchanged: answered without appending
    assert end(cluster) == 2
    with log.read() as state:
        assert state.counts == {"a": 2}


def test_write_catches_up_before_refusing(cluster: EmbeddedCluster) -> None:
    one, two = open_log(cluster), open_log(cluster)
    one.write(add("a"))
    # `two` has not seen "a": its local state refuses, so it catches up and decides again.
    assert two.write(bump("a")) == 1
    # A builder is called with the state as it is, again after a catch-up.
    seen: list[dict[str, int]] = []

    def build(state: Counters) -> Command:
        seen.append(dict(state.counts))
        return bump("a", 10)

    assert one.write(build) == 11
    assert seen == [{"a": 0}]  # validated on the local state, then folded after "a"+1


def test_the_fold_has_the_last_word_on_a_command_written_from_stale_state(
    cluster: EmbeddedCluster,
) -> None:
    one, two = open_log(cluster), open_log(cluster)
    two.write(add("a"))
    assert one.write(add("a")) == 0  # looked new locally; the fold found it unchanged
    assert end(cluster) == 2
    assert one.write(add("a")) == 0  # now unchanged locally too (after a catch-up): no append
    assert end(cluster) == 2


def test_a_command_over_the_record_limit_is_refused_before_it_is_written(
    cluster: EmbeddedCluster,
) -> None:
    cluster.create_topic(TOPIC, 1, {"max.message.bytes": "1000", "retention.ms": "-1"})
    log = open_log(cluster)
    limit = log.record_limit()
    assert limit < 1000
    log.write(add("x" * (limit - len('{"name":"","op":"add"}'))))
    with pytest.raises(CommandTooLargeError) as excinfo:
        log.write(add("y" * limit))
    assert excinfo.value.limit == limit
    assert str(limit) in str(excinfo.value)
    assert end(cluster) == 1


def test_reads_see_other_instances_writes(cluster: EmbeddedCluster) -> None:
    one, two = open_log(cluster), open_log(cluster)
    one.write(add("a"))
    with two.current() as state:
        assert state.counts == {}
    with two.read() as state:
        assert state.counts == {"a": 0}


# -- snapshots --------------------------------------------------------------------------------
def fill(log: Any, names: int) -> None:
    for i in range(names):
        log.write(add(f"n{i}"))
        log.write(bump(f"n{i}", i))


def test_restart_loads_the_snapshot_and_replays_only_the_tail(cluster: EmbeddedCluster) -> None:
    first = open_log(cluster)
    fill(first, 10)
    first.close()  # 20 records since the last snapshot (none): one is written
    assert first.snapshot_offset == 20
    first_state = first.state.counts

    tail = open_log(cluster)
    tail.write(add("late"))
    tail.close()  # 1 record: no new snapshot is due
    assert tail.snapshot_offset == 20

    again = open_log(cluster)
    assert again.snapshot_offset == 20
    assert again.state.applied == 1  # only the record after the snapshot was folded
    assert again.state.counts == {**first_state, "late": 0}
    assert again.applied_offset == 21


def test_start_writes_a_snapshot_after_a_long_replay(cluster: EmbeddedCluster) -> None:
    log = StateLog(cluster, TOPIC, FOLD, snapshot_every=1000).start()
    fill(log, 5)  # never closed: as after a crash
    replayed = open_log(cluster, every=5)
    assert replayed.state.applied == 10
    assert replayed.snapshot_offset == 10  # written at start
    assert open_log(cluster).state.applied == 0


def snapshot_records(cluster: EmbeddedCluster) -> list[Any]:
    topic = statelog_snapshot.topic_for(TOPIC)
    return cluster.fetch(topic, 0, 0, 1000)


def test_a_damaged_snapshot_falls_back_to_replay(cluster: EmbeddedCluster) -> None:
    log = open_log(cluster)
    fill(log, 10)
    log.close()
    topic = statelog_snapshot.topic_for(TOPIC)
    # A newer manifest whose chunk is garbage: its checksum cannot match.
    (chunk,) = cluster.produce(topic, [Record(b"garbage", key=b"chunk", partition=0)])
    manifest = snapshot_records(cluster)[-2].value.replace(
        b'"chunks": [[0,', f'"chunks": [[{chunk.offset},'.encode()
    )
    cluster.produce(topic, [Record(manifest, key=b"manifest", partition=0)])
    again = open_log(cluster, every=1000)
    assert again.snapshot_offset == 0
    assert again.state.applied == 20
    assert again.state.counts == log.state.counts


def test_a_snapshot_of_another_log_or_codec_is_not_used(cluster: EmbeddedCluster) -> None:
    log = open_log(cluster)
    fill(log, 10)
    log.close()
    other = Fold(Counters, FOLD.handlers, snapshot=SnapshotCodec("counters-2", _dump, _load))
    assert open_log(cluster, other, every=1000).state.applied == 20
    # The log recreated with other records: the fingerprint of its record below the
    # snapshot's offset no longer matches, so the snapshot is stale.
    cluster.delete_topic(TOPIC)
    recreated = StateLog(cluster, TOPIC, FOLD, snapshot_every=1000).start()
    for i in range(10):
        recreated.write(add(f"other{i}"))
        recreated.write(bump(f"other{i}"))
    fresh = open_log(cluster, every=1000)
    assert fresh.snapshot_offset == 0
    assert sorted(fresh.state.counts) == sorted(f"other{i}" for i in range(10))


def test_a_codec_that_cannot_read_the_snapshot_falls_back(cluster: EmbeddedCluster) -> None:
    log = open_log(cluster)
    fill(log, 10)
    log.close()

    def broken(pieces: Iterator[Any]) -> Counters:
        raise KeyError("bad piece")

    fold = Fold(Counters, FOLD.handlers, snapshot=SnapshotCodec("counters-1", _dump, broken))
    assert open_log(cluster, fold, every=1000).state.counts == log.state.counts


def test_large_snapshots_span_several_chunks(cluster: EmbeddedCluster) -> None:
    log = StateLog(cluster, TOPIC, FOLD, snapshot_every=10**9).start()
    import os

    # incompressible names, so the snapshot needs several chunk records
    for i in range(300):
        log.write(add(os.urandom(1500).hex() + str(i)))
    assert log.snapshot() == 300
    chunks = [r for r in snapshot_records(cluster) if r.key == b"chunk"]
    assert len(chunks) >= 3
    again = open_log(cluster)
    assert again.state.applied == 0
    assert again.state.counts == log.state.counts


def test_the_documented_toy_component_works(
    cluster: EmbeddedCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "architecture.md").read_text()
    section = doc[doc.index("A toy component, whole:") :]
    code = section[section.index("```python") + len("```python") : section.index("```\n\n")]
    exec(compile(code, "architecture.md", "exec"), {"cluster": cluster})
    assert capsys.readouterr().out == "team-a\n"


def test_text_pieces_round_trip_whatever_they_hold(cluster: EmbeddedCluster) -> None:
    texts = ["plain", "two\nlines\n", "", "t12\nj[1]\n", "naïve ✓ \x00", '"quoted"', "x" * 300_000]

    def dump(state: Counters) -> Iterable[Any]:
        yield [len(texts)]
        yield from texts
        yield {"end": True}

    seen: list[Any] = []

    def load(pieces: Iterator[Any]) -> Counters:
        seen.extend(pieces)
        return Counters()

    fold = Fold(Counters, FOLD.handlers, snapshot=SnapshotCodec("texts", dump, load))
    log = StateLog(cluster, TOPIC, fold, snapshot_every=10**9).start()
    log.write(add("a"))
    log.snapshot()
    StateLog(cluster, TOPIC, fold).start()
    assert seen == [[len(texts)], *texts, {"end": True}]


# -- offsets without records ------------------------------------------------------------------
def _history(state: list[Any], cmd: Mapping[str, Any], commit: bool) -> int:
    if commit:
        state.append(cmd["value"])
    return len(state)


def _gone(state: list[Any], first: int, count: int) -> None:
    state.append(["gone", first, count])


#: A fold that records, in log order, each command's value and each gap it was told of.
HISTORY: Fold[list[Any]] = Fold(list, {"note": _history}, skipped=_gone)


def note(value: int) -> Command:
    return command("note", value=value)


def lose_tail(make_cluster: Any, fold: Fold[list[Any]], written: int, keep: int) -> Any:
    """Write `written` commands, then do what a damaged write-ahead log does: the topic's file
    goes back to holding only the records below `keep` (each write is a chunk of its own).
    Returns the reopened cluster, with the loss accepted, and the loss."""
    import sqlite3

    from tests.engine.embedded.test_durability import topic_db

    cluster = make_cluster("lossy")
    log = StateLog(cluster, "_history", fold).start()
    for value in range(written):
        log.write(note(value))
    log.close()
    db = topic_db(cluster, "_history")
    cluster.close()
    with sqlite3.connect(db) as conn:
        straddling = "SELECT count(*) FROM p0 WHERE base < ? AND last >= ?"
        assert conn.execute(straddling, (keep, keep)).fetchone() == (0,)
        conn.execute("DELETE FROM p0 WHERE base >= ?", (keep,))
        conn.execute("UPDATE partitions SET next_offset = ? WHERE part = 0", (keep,))
    conn.close()
    cluster = make_cluster("lossy")
    (accepted,) = cluster.recover(include_internal=True)
    return cluster, accepted


def test_lost_commands_are_folded_as_a_gap_in_log_order(make_cluster: Any) -> None:
    cluster, accepted = lose_tail(make_cluster, HISTORY, written=10, keep=6)
    assert accepted.lost == {0: (6, 10)}
    # Nothing after the gap yet: the catch-up steps over the lost offsets to the end.
    after_loss = StateLog(cluster, "_history", HISTORY).start()
    assert after_loss.state == [0, 1, 2, 3, 4, 5, ["gone", 6, 4]]
    assert after_loss.write(note(10)) == 8
    after_loss.close()
    # Records after the gap: an instance replaying later folds the same state.
    later = StateLog(make_cluster("lossy"), "_history", HISTORY).start()
    assert later.state == [0, 1, 2, 3, 4, 5, ["gone", 6, 4], 10]
    later.close()


def test_commands_deleted_before_they_were_applied_are_a_gap(cluster: EmbeddedCluster) -> None:
    log = StateLog(cluster, "_history", HISTORY).start()
    for value in range(5):
        log.write(note(value))
    cluster.engine.delete_records("_history", 0, 3)
    assert log.write(note(5)) == 6  # this instance had applied them
    late = StateLog(cluster, "_history", HISTORY).start()
    assert late.state == [["gone", 0, 3], 3, 4, 5]
    for each in (log, late):
        each.close()


def test_a_fold_without_a_gap_handler_steps_over_lost_commands(make_cluster: Any) -> None:
    plain: Fold[list[Any]] = Fold(list, {"note": _history})
    cluster, _ = lose_tail(make_cluster, plain, written=4, keep=2)
    again = StateLog(cluster, "_history", plain).start()
    assert again.state == [0, 1]
    assert again.write(note(4)) == 3
    again.close()
