"""Acknowledged end offsets: a damaged write-ahead log is noticed, writes to what it lost are
refused until an operator accepts the loss, and a clean close leaves the data in the `.db`.

The probe: a writer killed with SIGKILL leaves its records in the `-wal` file; damaging a frame
in the middle makes SQLite drop every later frame on the next open, silently.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.embedded import EmbeddedCluster
from engine.embedded.ends import EndOffsets, lost_ranges
from engine.errors import DataLossError
from engine.types import OffsetSpec, Record, TopicPartition
from tests.engine.embedded.test_multiprocess import spawn

#: SQLite's WAL layout: a 32-byte header, then frames of a 24-byte header and one page.
_WAL_HEADER = 32
_FRAME_HEADER = 24


def kill_after(args: tuple[object, ...], lines: int) -> list[str]:
    """Run a worker until it printed `lines` acknowledgements, then SIGKILL it."""
    child = spawn(*args)
    assert child.stdout is not None and child.stderr is not None
    acknowledged: list[str] = []
    deadline = time.monotonic() + 60
    while len(acknowledged) < lines and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        acknowledged.append(line.strip())
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    error = child.stderr.read()
    child.stdout.close()
    child.stderr.close()
    assert len(acknowledged) == lines, error
    return acknowledged


def damage_wal(db: Path, page_size: int, at: float = 0.5) -> None:
    """Flip bytes inside one frame of the database's WAL, `at` of the way through it."""
    wal = Path(f"{db}-wal")
    frame = _FRAME_HEADER + page_size
    frames = (wal.stat().st_size - _WAL_HEADER) // frame
    assert frames > 4, "the WAL holds too little to damage"
    target = _WAL_HEADER + int(frames * at) * frame + _FRAME_HEADER + 100
    with open(wal, "r+b") as handle:
        handle.seek(target)
        original = handle.read(16)
        handle.seek(target)
        handle.write(bytes(b ^ 0xFF for b in original))


def topic_db(cluster: EmbeddedCluster, topic: str) -> Path:
    return cluster.engine.topic_file(cluster.engine._meta(topic).topic_id)


def test_a_damaged_wal_is_noticed_and_writes_wait_for_recovery(tmp_path: Path) -> None:
    path = tmp_path / "c"
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        cluster.create_topic("t", 1)
        cluster.create_topic("other", 1)
        db = topic_db(cluster, "t")
    batch = 500
    acknowledged = kill_after(("produce_until_killed", path, "t", batch), 40)
    damage_wal(db, 16384)
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        end = cluster.list_offsets("t", OffsetSpec.LATEST)[0]
        assert end < len(acknowledged) * batch  # SQLite dropped acknowledged records
        with pytest.raises(DataLossError) as caught:
            cluster.produce("t", [Record(b"more")])
        error = caught.value
        assert error.topic == "t"
        assert error.file == str(db)
        assert error.lost[0][0] == end and error.lost[0][1] >= len(acknowledged) * batch
        assert error.records_lost == error.lost[0][1] - end
        message = str(error)
        assert str(db) in message and f"{db}-wal" in message and "streamgov recover" in message
        # Reads serve what is left; other topics are untouched.
        assert len(cluster.fetch("t", 0, 0, max_records=10**6, max_bytes=1 << 30)) == end
        cluster.produce("other", [Record(b"fine")])
        assert [str(e) for e in cluster.check_storage()] == [message]
    # Restarting does not make the loss go away.
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        with pytest.raises(DataLossError):
            cluster.produce("t", [Record(b"more")])
        (accepted,) = cluster.recover()
        assert accepted.lost == error.lost
        assert cluster.check_storage() == []
        (meta,) = cluster.produce("t", [Record(b"after recovery", partition=0)])
        # The lost offsets are never handed out again: the log goes on after them.
        assert meta.offset == error.lost[0][1]
        consumer = cluster.consumer(None, auto_offset_reset="earliest")
        consumer.assign([TopicPartition("t", 0)])
        seen = []
        while not seen or seen[-1].offset < meta.offset:
            seen.extend(consumer.poll(5))
        assert seen[-1].value == b"after recovery"
        assert len(seen) == end + 1  # the gap is skipped
        consumer.close()


def test_a_killed_writer_without_damage_is_not_taken_for_a_loss(tmp_path: Path) -> None:
    path = tmp_path / "c"
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        cluster.create_topic("t", 3)
    kill_after(("produce_until_killed", path, "t", 300), 20)
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        assert cluster.check_storage() == []
        cluster.produce("t", [Record(b"v")])


def test_a_damaged_registry_log_refuses_registrations(tmp_path: Path) -> None:
    """The schema registry's log loses acknowledged registrations: no new id is handed out
    (it could be one already given to a client) until the loss is accepted."""
    from registry.service import SchemaRegistry

    path = tmp_path / "c"
    ids = kill_after(("register_until_killed", path), 60)
    assert ids == [str(i) for i in range(1, 61)]
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        db = topic_db(cluster, "_schemas")
    damage_wal(db, 16384, at=0.3)
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        registry = SchemaRegistry(cluster).start()
        schema = '{"type": "record", "name": "New", "fields": []}'
        with pytest.raises(Exception) as caught:
            registry.register("new-subject", {"schema": schema})
        error = caught.value
        while not isinstance(error, DataLossError) and error.__cause__ is not None:
            error = error.__cause__  # type: ignore[assignment]
        assert isinstance(error, DataLossError), repr(caught.value)
        assert error.topic == "_schemas"
        # Accepting losses leaves the registry's log alone unless asked explicitly: the lost
        # registrations' ids could be handed out again.
        assert cluster.recover() == []
        assert [e.topic for e in cluster.check_storage()] == ["_schemas"]
        with pytest.raises(Exception, match="_schemas"):
            registry.register("new-subject", {"schema": schema})
        (accepted,) = cluster.recover(include_internal=True)
        assert accepted.topic == "_schemas"
        assert cluster.check_storage() == []
        registry.close()


def test_after_an_accepted_registry_loss_no_id_is_handed_out_twice(tmp_path: Path) -> None:
    """Accepting the loss of `_schemas` records (`recover --include-internal`) leaves their
    offsets as a gap; each lost registration may have handed out an id, so the registry's
    next ids come after every id the lost records could have taken: in the instance that
    was running across the recovery, in a restarted one, and in one starting from a
    snapshot written after the gap."""
    from registry.service import SchemaRegistry

    path = tmp_path / "c"
    handed_out = {int(i) for i in kill_after(("register_until_killed", path), 60)}
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        db = topic_db(cluster, "_schemas")
    damage_wal(db, 16384, at=0.3)

    def new_ids(registry: SchemaRegistry, numbers: range) -> set[int]:
        schema = '{"type": "record", "name": "After%d", "fields": []}'
        return {int(registry.register(f"after-{n}", {"schema": schema % n})["id"]) for n in numbers}

    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        running = SchemaRegistry(cluster).start()
        survivors = {s["id"] for s in running.list_schemas()}
        assert len(survivors) < len(handed_out)  # registrations were lost
        (accepted,) = cluster.recover(include_internal=True)
        first = new_ids(running, range(0, 3))
        assert not first & handed_out, sorted(first & handed_out)
        running.close()
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        restarted = SchemaRegistry(cluster).start()
        second = new_ids(restarted, range(3, 6))
        assert not second & (handed_out | first)
        assert restarted.snapshot() > accepted.lost[0][1]
        restarted.close()
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        from_snapshot = SchemaRegistry(cluster).start()
        assert from_snapshot._log.snapshot_offset > accepted.lost[0][1]  # loaded, not replayed
        third = new_ids(from_snapshot, range(6, 9))
        assert not third & (handed_out | first | second)
        from_snapshot.close()


def test_a_clean_close_checkpoints_the_wal_into_the_database(tmp_path: Path) -> None:
    with EmbeddedCluster(tmp_path / "c", maintenance_interval_s=None) as keeper:
        # Another open cluster on the same directory (another process) keeps the files open,
        # so SQLite's own checkpoint-on-last-close does not run.
        writer = EmbeddedCluster(tmp_path / "c", maintenance_interval_s=None)
        writer.create_topic("t")
        writer.produce("t", [Record(os.urandom(1000)) for _ in range(3000)])
        db = topic_db(writer, "t")
        keeper.describe_topic("t")
        writer.close()
        wal = Path(f"{db}-wal")
        assert not wal.exists() or wal.stat().st_size == 0
        assert db.stat().st_size > 3_000_000


# Every example fsyncs a file on close: on a loaded disk one can take longer than any deadline.
@settings(deadline=None)
@given(st.lists(st.dictionaries(st.integers(0, 5), st.integers(0, 10**12)), max_size=8))
def test_recorded_ends_only_grow(
    tmp_path_factory: pytest.TempPathFactory, writes: list[dict[int, int]]
) -> None:
    path = tmp_path_factory.mktemp("ends") / "t.ends"
    ends = EndOffsets(path)
    expected: dict[int, int] = {}
    for write in writes:
        if write:
            ends.raise_to(write)
        for part, end in write.items():
            expected[part] = max(expected.get(part, 0), end)
    ends.close()
    assert {p: e for p, e in EndOffsets(path).read().items() if e} == {
        p: e for p, e in expected.items() if e
    }
    assert lost_ranges(expected, expected) == {}
    assert lost_ranges(expected, {}) == {p: (0, e) for p, e in expected.items() if e > 0}
