"""Segment files (`engine.embedded.segments`): Kafka batches written once, beside the topic
database that indexes them; rolled, dropped by retention, recovered by CRC, backed up."""

from __future__ import annotations

import sqlite3
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.embedded import EmbeddedCluster, log, segment_sync, segments
from engine.embedded.backup import backup, restore
from engine.embedded.chunks import KIND_SEGMENT, Chunk, StoredChunk
from engine.errors import DamagedFileError, DataLossError
from engine.kafka_listener.records import split_batches, stored_batch, write_batch
from engine.types import ConsumedRecord, Record
from tests.engine.embedded.test_durability import kill_after, topic_db

VALUE = b"v" * 100
NOW_MS = int(time.time() * 1000)


def batch_of(tag: str, count: int) -> bytes:
    """A Kafka batch (offsets from 0, as a client sends it) of `count` keyed records."""
    return write_batch(
        [
            ConsumedRecord("t", 0, i, NOW_MS + i, f"{tag}-{i}".encode(), VALUE, ())
            for i in range(count)
        ]
    )


def put(cluster: EmbeddedCluster, topic: str, batch: bytes, part: int = 0) -> int:
    """Append one produced batch as the Kafka listener does; returns its first offset."""
    [(header, raw)] = split_batches(batch)
    stored = stored_batch(header, raw)
    assert stored is not None
    chunk, largest, keyless = stored
    per_partition: dict[int, list[Chunk | StoredChunk]] = {part: [chunk]}
    return cluster.engine.append_packed(topic, per_partition, largest, keyless)[part]


def keys(cluster: EmbeddedCluster, topic: str, part: int = 0) -> list[tuple[int, bytes | None]]:
    start = cluster.engine.partition_bounds(topic)[part][0]
    return [(r.offset, r.key) for r in cluster.fetch(topic, part, start, max_records=100_000)]


def segment_files(cluster: EmbeddedCluster, topic: str) -> list[str]:
    folder = segments.directory(topic_db(cluster, topic))
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def recorded_segments(cluster: EmbeddedCluster, topic: str) -> list[tuple[int, int, int]]:
    conn = sqlite3.connect(topic_db(cluster, topic))
    try:
        return segments.extents(conn)
    finally:
        conn.close()


#: Segments that roll after 2 KiB, so that a test sees several.
SMALL = {"segment.bytes": "2048"}


def test_a_batch_is_written_once_to_a_segment_file_with_its_offsets(
    cluster: EmbeddedCluster,
) -> None:
    cluster.create_topic("t", 1)
    first, second = batch_of("a", 3), batch_of("b", 50)
    assert put(cluster, "t", first) == 0 and put(cluster, "t", second) == 3
    [name] = segment_files(cluster, "t")
    data = (segments.directory(topic_db(cluster, "t")) / name).read_bytes()
    # The file is a Kafka log segment: the batches as produced, with their real base offsets.
    assert data[: len(first)] == first
    assert struct.unpack_from(">q", data, len(first))[0] == 3
    assert data[len(first) + 8 : len(first) + len(second)] == second[8:]
    conn = sqlite3.connect(topic_db(cluster, "t"))
    rows = conn.execute("SELECT base, kind, length(data) FROM p0").fetchall()
    conn.close()
    assert rows == [(0, KIND_SEGMENT, 24), (3, KIND_SEGMENT, 24)]  # places, not bytes
    assert keys(cluster, "t") == [(i, f"a-{i}".encode()) for i in range(3)] + [
        (3 + i, f"b-{i}".encode()) for i in range(50)
    ]
    chunks, _, end = cluster.engine.fetch_chunks("t", 0, 0, 1 << 20)
    assert end == 53 and [bytes(c[3])[8:] for c in chunks] == [first[8:], second[8:]]


def test_segments_roll_and_retention_deletes_whole_files(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 1, {"retention.bytes": "3000", **SMALL})
    for n in range(16):
        put(cluster, "t", batch_of(f"r{n}", 5))
    files = segment_files(cluster, "t")
    assert len(files) >= 4
    cluster.run_maintenance()
    left = segment_files(cluster, "t")
    assert 0 < len(left) < len(files) and left == files[-len(left) :]
    assert sorted(f"0-{b:020d}.log" for _, b, _ in recorded_segments(cluster, "t")) == left
    start, end = cluster.engine.partition_bounds("t")[0]
    assert end == 80 and start > 0
    assert [o for o, _ in keys(cluster, "t")] == list(range(start, 80))


def test_the_active_segment_stays_when_every_record_is_deleted(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 1, SMALL)
    for n in range(8):
        put(cluster, "t", batch_of(f"d{n}", 5))
    assert cluster.engine.delete_records("t", 0, None) == 40
    assert len(recorded_segments(cluster, "t")) == 1 == len(segment_files(cluster, "t"))
    assert put(cluster, "t", batch_of("after", 2)) == 40
    assert keys(cluster, "t") == [(40, b"after-0"), (41, b"after-1")]


def test_compaction_and_record_removal_free_segments(cluster: EmbeddedCluster) -> None:
    cluster.create_topic(
        "t", 1, {"cleanup.policy": "compact", "min.compaction.lag.ms": "0", **SMALL}
    )
    for _ in range(8):  # the same five keys again and again
        put(cluster, "t", batch_of("same", 5))
    before = len(segment_files(cluster, "t"))
    cluster.run_maintenance(NOW_MS + 10_000)
    assert keys(cluster, "t") == [(35 + i, f"same-{i}".encode()) for i in range(5)]
    assert len(segment_files(cluster, "t")) < before
    assert cluster.engine.remove_records("t", 0, [(36, 37)]) == 2
    assert [o for o, _ in keys(cluster, "t")] == [35, 38, 39]


def test_deleting_a_topic_removes_its_segment_files(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 2)
    put(cluster, "t", batch_of("x", 3), part=1)
    folder = segments.directory(topic_db(cluster, "t"))
    assert folder.is_dir()
    cluster.delete_topic("t")
    assert not folder.exists()


def test_bytes_a_dead_writer_left_past_the_recorded_size_are_overwritten(
    cluster: EmbeddedCluster,
) -> None:
    cluster.create_topic("t", 1)
    put(cluster, "t", batch_of("a", 2))
    [(_, _, size)] = recorded_segments(cluster, "t")
    [name] = segment_files(cluster, "t")
    with open(segments.directory(topic_db(cluster, "t")) / name, "ab") as handle:
        handle.write(b"\xff" * 5000)  # written, never committed
    assert put(cluster, "t", batch_of("b", 2)) == 2
    assert [k for _, k in keys(cluster, "t")] == [b"a-0", b"a-1", b"b-0", b"b-1"]
    assert recorded_segments(cluster, "t")[0][2] > size


def damage(cluster: EmbeddedCluster, topic: str, position_from_end: int) -> Path:
    """Zero 16 bytes of the (only) segment file; returns the topic's database."""
    [name] = segment_files(cluster, topic)
    [(_, _, size)] = recorded_segments(cluster, topic)
    db = topic_db(cluster, topic)
    with open(segments.directory(db) / name, "r+b") as handle:
        handle.seek(size - position_from_end)
        handle.write(b"\x00" * 16)
    return db


def test_a_damaged_batch_not_yet_synced_cuts_the_log_on_the_next_open(
    make_cluster: Callable[..., EmbeddedCluster],
) -> None:
    cluster = make_cluster("c")
    cluster.create_topic("t", 1)
    for n in range(4):
        put(cluster, "t", batch_of(f"p{n}", 3))
    db = damage(cluster, "t", 100)  # inside the last batch (offsets 9-11)
    cluster.close()
    # A clean close records the files as synced; forget that, as a power loss would have
    # kept it from being recorded, so that the next open checks the batches.
    conn = sqlite3.connect(db)
    conn.execute("DELETE FROM segment_sync")
    conn.commit()
    conn.close()
    reopened = make_cluster("c")
    assert reopened.engine.partition_bounds("t")[0] == (0, 9)
    assert [o for o, _ in keys(reopened, "t")] == list(range(9))
    with pytest.raises(DataLossError, match="t"):
        put(reopened, "t", batch_of("after", 1))


def test_synced_batches_are_not_checked_again(
    make_cluster: Callable[..., EmbeddedCluster],
) -> None:
    cluster = make_cluster("c")
    cluster.create_topic("t", 1)
    for n in range(4):
        put(cluster, "t", batch_of(f"s{n}", 3))
    cluster.run_maintenance()  # fsyncs the files and records it
    damage(cluster, "t", 100)
    cluster.close()
    reopened = make_cluster("c")
    assert reopened.engine.partition_bounds("t")[0] == (0, 12)


def test_a_durable_cluster_records_each_batch_as_synced(
    make_cluster: Callable[..., EmbeddedCluster],
) -> None:
    cluster = make_cluster("d", durable=True)
    cluster.create_topic("t", 1)
    put(cluster, "t", batch_of("a", 7))
    conn = sqlite3.connect(topic_db(cluster, "t"))
    assert conn.execute("SELECT part, synced FROM segment_sync").fetchall() == [(0, 7)]
    conn.close()


def test_a_reader_reads_again_when_retention_deleted_its_segment() -> None:
    calls = []

    def read() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise segments.SegmentGoneError("gone")
        return "fresh"

    assert log._reading(read)() == "fresh" and len(calls) == 3


def test_a_database_from_before_segments_is_upgraded(
    make_cluster: Callable[..., EmbeddedCluster],
) -> None:
    cluster = make_cluster("u")
    cluster.create_topic("t", 1)
    cluster.produce("t", [Record(b"old", b"k", partition=0)])
    path = topic_db(cluster, "t")
    cluster.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TABLE segments")
    conn.execute("DROP TABLE segment_sync")
    conn.execute("ALTER TABLE partitions DROP COLUMN seg_end")
    conn.close()
    reopened = make_cluster("u")
    assert put(reopened, "t", batch_of("new", 2)) == 1
    assert [k for _, k in keys(reopened, "t")] == [b"k", b"new-0", b"new-1"]


def test_backup_and_restore_carry_segment_files(tmp_path: Path) -> None:
    with EmbeddedCluster(tmp_path / "c", maintenance_interval_s=None) as cluster:
        cluster.create_topic("t", 1, SMALL)
        for n in range(6):
            put(cluster, "t", batch_of(f"b{n}", 4))
        expected = keys(cluster, "t")
        # Bytes past the recorded size belong to no row: the backup leaves them out.
        [*_, (_, base, size)] = recorded_segments(cluster, "t")
        active = segments.directory(topic_db(cluster, "t")) / segments.file_name(0, base)
        with open(active, "ab") as handle:
            handle.write(b"\xff" * 100)
        report = backup(tmp_path / "c", tmp_path / "b")
    assert report.topics == {"t": {0: 24}}
    [copied] = (tmp_path / "b" / "topics").glob("*.segments")
    assert (copied / active.name).stat().st_size == size
    restore(tmp_path / "b", tmp_path / "r")
    with EmbeddedCluster(tmp_path / "r", maintenance_interval_s=None) as restored:
        assert keys(restored, "t") == expected
        assert put(restored, "t", batch_of("more", 1)) == 24


def test_restore_refuses_a_backup_with_a_damaged_batch(tmp_path: Path) -> None:
    with EmbeddedCluster(tmp_path / "c", maintenance_interval_s=None) as cluster:
        cluster.create_topic("t", 1, SMALL)
        for n in range(6):
            put(cluster, "t", batch_of(f"b{n}", 4))
    backup(tmp_path / "c", tmp_path / "b")
    [folder] = (tmp_path / "b" / "topics").glob("*.segments")
    first = sorted(folder.iterdir())[0]
    data = bytearray(first.read_bytes())
    data[60] ^= 0xFF
    first.write_bytes(bytes(data))
    with pytest.raises(DamagedFileError, match="partition 0: the batch at offset 0"):
        restore(tmp_path / "b", tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_batches_acknowledged_before_a_sigkill_are_all_there(tmp_path: Path) -> None:
    path = tmp_path / "k"
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        cluster.create_topic("t", 1, {"segment.bytes": "16384"})
    # The writer records nothing as on disk: opening the topic again checks every batch's CRC.
    acknowledged = kill_after(("append_batches_until_killed", path, "t", 20), 60)
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        got = keys(cluster, "t")
        numbers = sorted({int(key.split(b"-")[0][1:]) for _, key in got if key})
        assert numbers[: len(acknowledged)] == [int(a) for a in acknowledged]
        assert [o for o, _ in got] == list(range(len(got))) and len(got) % 20 == 0
        assert put(cluster, "t", batch_of("x", 1)) == len(got)
        cluster.run_maintenance()  # removes a segment file the kill left uncommitted, if any
        files = segment_files(cluster, "t")
        assert len(files) > 1
        assert sorted(f"0-{b:020d}.log" for _, b, _ in recorded_segments(cluster, "t")) == files


@st.composite
def operations(draw: st.DrawFn) -> list[tuple[str, int]]:
    return draw(
        st.lists(
            st.one_of(
                st.tuples(st.just("append"), st.integers(1, 12)),
                st.tuples(st.just("delete_before"), st.integers(0, 100)),
                st.tuples(st.just("remove"), st.integers(0, 100)),
                st.tuples(st.just("retain"), st.integers(0, 4000)),
            ),
            max_size=25,
        )
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=operations())
def test_the_log_and_its_files_match_a_model(tmp_path: Path, ops: list[tuple[str, int]]) -> None:
    # Any mix of appends, deletions and retention: reads give the model's records, and the
    # segment files on disk are exactly the segments the database records.
    folder = tmp_path / str(len(list(tmp_path.iterdir())))
    with EmbeddedCluster(folder, maintenance_interval_s=None) as cluster:
        cluster.create_topic("t", 1, {"segment.bytes": "1500"})
        model: dict[int, bytes] = {}
        end = 0
        for number, (op, n) in enumerate(ops):
            if op == "append":
                assert put(cluster, "t", batch_of(f"m{number}", n)) == end
                model.update({end + i: f"m{number}-{i}".encode() for i in range(n)})
                end += n
            elif op == "delete_before":
                start = cluster.engine.partition_bounds("t")[0][0]
                target = max(start, min(n, end))
                cluster.engine.delete_records("t", 0, target)
                model = {o: k for o, k in model.items() if o >= target}
            elif op == "remove":
                cluster.engine.remove_records("t", 0, [(n, n + 2)])
                model = {o: k for o, k in model.items() if not n <= o <= n + 2}
            else:
                conn = cluster.engine._log(cluster.engine._meta("t"))
                log.enforce_retention_bytes(conn, 0, n)
                start = cluster.engine.partition_bounds("t")[0][0]
                model = {o: k for o, k in model.items() if o >= start}
            assert keys(cluster, "t") == sorted(model.items())
            recorded = sorted(f"0-{b:020d}.log" for _, b, _ in recorded_segments(cluster, "t"))
            assert segment_files(cluster, "t") == recorded


def test_appended_batches_are_synced_in_the_background(
    make_cluster: Callable[..., EmbeddedCluster], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(segment_sync, "SYNC_INTERVAL_S", 0.05)
    cluster = make_cluster("s")
    cluster.create_topic("t", 2)
    put(cluster, "t", batch_of("a", 4), part=1)
    assert cluster.engine._segment_syncer.wait_done(cluster.engine._meta("t").topic_id, 1, 30)
    conn = sqlite3.connect(topic_db(cluster, "t"))
    assert dict(conn.execute("SELECT part, synced FROM segment_sync").fetchall())[1] == 4
    conn.close()


def test_a_sync_fsyncs_only_the_segments_written_since_the_last(
    cluster: EmbeddedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster.create_topic("t", 1, SMALL)
    for n in range(10):
        put(cluster, "t", batch_of(f"f{n}", 5))
    fsynced: list[str] = []
    real = segments._fsync_file
    monkeypatch.setattr(
        segments, "_fsync_file", lambda path: (fsynced.append(path.name), real(path))
    )
    conn = cluster.engine._log(cluster.engine._meta("t"))
    log.sync_segments(conn)
    assert fsynced == segment_files(cluster, "t")  # all of them, the first time
    fsynced.clear()
    put(cluster, "t", batch_of("last", 1))
    log.sync_segments(conn)
    assert fsynced == segment_files(cluster, "t")[-1:]
    fsynced.clear()
    log.sync_segments(conn)  # nothing new
    assert fsynced == []


def test_a_process_checks_a_topics_segments_once_whatever_its_threads(
    make_cluster: Callable[..., EmbeddedCluster], monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster = make_cluster("o")
    cluster.create_topic("t", 1)
    put(cluster, "t", batch_of("a", 2))
    cluster.close()
    checks: list[int] = []
    real = log.recover_segments
    monkeypatch.setattr(log, "recover_segments", lambda conn: (checks.append(1), real(conn))[1])
    reopened = make_cluster("o")
    threads = [threading.Thread(target=keys, args=(reopened, "t")) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    keys(reopened, "t")
    assert checks == [1]


def test_a_segment_file_no_row_names_is_removed_by_maintenance(
    make_cluster: Callable[..., EmbeddedCluster],
) -> None:
    # What a writer killed between starting a new segment and committing leaves behind.
    cluster = make_cluster("r")
    cluster.create_topic("t", 1)
    put(cluster, "t", batch_of("a", 2))
    folder = segments.directory(topic_db(cluster, "t"))
    cluster.close()
    (folder / segments.file_name(0, 2)).write_bytes(b"\x00" * 300)
    reopened = make_cluster("r")
    assert [k for _, k in keys(reopened, "t")] == [b"a-0", b"a-1"]
    reopened.run_maintenance()
    assert sorted(p.name for p in folder.iterdir()) == [segments.file_name(0, 0)]


def test_without_positioned_io_writes_and_reads_seek_their_own_descriptor(
    cluster: EmbeddedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Windows has neither pwritev nor pread: the same files come out of seeks and writes.
    monkeypatch.setattr(segments, "_PWRITEV", None)
    monkeypatch.setattr(segments, "_PREAD", None)
    monkeypatch.setattr(segments, "_WRITE_BYTES", 100)  # many pieces per batch
    cluster.create_topic("t", 1, SMALL)
    for n in range(6):
        put(cluster, "t", batch_of(f"w{n}", 4))
    assert [k for _, k in keys(cluster, "t")] == [
        f"w{n}-{i}".encode() for n in range(6) for i in range(4)
    ]
    conn = sqlite3.connect(topic_db(cluster, "t"))
    with segments.Reader(segments.directory(topic_db(cluster, "t"))) as reader:
        assert log.damaged_batches(conn, reader, unsynced_only=False) == {}
    conn.close()
