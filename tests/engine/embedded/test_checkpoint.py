"""Background WAL checkpoints: a topic's log is checkpointed on the checkpointer's thread once
enough was appended, commits keep only a far higher automatic limit, a topic that is gone is
skipped, and a writer killed (SIGKILL) while checkpoints run loses no acknowledged record."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest

from engine.embedded import EmbeddedCluster, checkpoint, sqlite
from engine.embedded.checkpoint import CHECKPOINT_NICENESS, Checkpointer
from engine.types import OffsetSpec, Record
from tests.engine.embedded.test_durability import kill_after


def test_appends_past_the_threshold_are_checkpointed_on_another_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoint, "CHECKPOINT_BYTES", 64 << 10)
    with EmbeddedCluster(tmp_path / "c", maintenance_interval_s=None) as cluster:
        cluster.create_topic("t", 2)
        engine = cluster.engine
        threads: list[int] = []
        real_open = engine._open_for_checkpoint

        def spied_open(topic_id: str) -> sqlite3.Connection:
            threads.append(threading.get_ident())
            return real_open(topic_id)

        monkeypatch.setattr(engine, "_open_for_checkpoint", spied_open)
        engine._checkpointer._open_db = spied_open
        topic_id = engine._meta("t").topic_id
        for n in range(40):  # 40 appends of 4 KiB: 160 KiB, past the 64 KiB threshold
            cluster.produce("t", [Record(bytes([n]) * 4096, key=b"k%d" % n)])
        assert engine._checkpointer.wait_done(topic_id, 1, 30)
        assert threads and threading.get_ident() not in threads
        assert sum(cluster.list_offsets("t", OffsetSpec.LATEST).values()) == 40
        # commits themselves checkpoint only far later than the background thread does
        conn = engine._log(engine._meta("t"))
        (pages,) = conn.execute("PRAGMA wal_autocheckpoint").fetchone()
        assert pages * 16384 == sqlite.FALLBACK_CHECKPOINT_BYTES
        values = {r.value for p in (0, 1) for r in cluster.fetch("t", p, 0, max_bytes=1 << 30)}
        assert values == {bytes([n]) * 4096 for n in range(40)}


def test_a_topic_that_is_gone_is_skipped() -> None:
    opened: list[str] = []
    ready = threading.Event()

    def open_db(key: str) -> sqlite3.Connection:
        opened.append(key)
        if key == "gone":
            raise FileNotFoundError(key)
        ready.set()
        return sqlite3.connect(":memory:")

    checkpointer = Checkpointer(open_db, threshold=10)
    checkpointer.wrote("gone", 5)
    checkpointer.wrote("gone", 5)
    checkpointer.wrote("live", 10)
    assert checkpointer.wait_done("live", 1, 30)
    checkpointer.close()
    assert opened == ["gone", "live"]
    assert "gone" not in checkpointer.done


def test_below_the_threshold_no_thread_starts() -> None:
    checkpointer = Checkpointer(lambda key: sqlite3.connect(":memory:"), threshold=1 << 20)
    for _ in range(100):
        checkpointer.wrote("t", 1000)
    assert checkpointer._thread is None
    checkpointer.close()
    checkpointer.wrote("t", 1 << 20)  # after close: ignored, no thread
    assert checkpointer._thread is None


def test_a_writer_killed_while_checkpointing_loses_no_acknowledged_record(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c"
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        cluster.create_topic("t", 1)
    batch = 200
    acknowledged = kill_after(("produce_checkpointing_until_killed", path, "t", batch), 60)
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        end = cluster.list_offsets("t", OffsetSpec.LATEST)[0]
        assert end >= len(acknowledged) * batch
        values = [r.value for r in cluster.fetch("t", 0, 0, max_records=10**6, max_bytes=1 << 30)]
    assert len(values) == end
    for number in range(len(acknowledged)):
        for i in range(batch):
            assert values[number * batch + i] == f"{number}:{i}:{batch}".encode()


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc")
def test_the_checkpoint_thread_runs_below_the_process(tmp_path: Path) -> None:
    seen: list[int] = []

    def open_db(key: str) -> sqlite3.Connection:
        stat = Path(f"/proc/self/task/{threading.get_native_id()}/stat").read_text()
        seen.append(int(stat.rsplit(")", 1)[1].split()[16]))  # the nice value
        return sqlite3.connect(tmp_path / f"{key}.db", check_same_thread=False)

    checkpointer = Checkpointer(open_db, threshold=1)
    try:
        checkpointer.wrote("t", 10)
        assert checkpointer.wait_done("t", 1, timeout=60)
    finally:
        checkpointer.close()
    own = os.getpriority(os.PRIO_PROCESS, 0)
    assert seen and seen[0] == min(own + CHECKPOINT_NICENESS, 19)


def test_a_stream_of_small_appends_is_checkpointed_in_the_background(tmp_path: Path) -> None:
    # Each commit adds whole pages to the WAL, however small its records: 300 one-record
    # appends write about 10 MiB of WAL for 30 KB of records, past the 8 MiB threshold.
    with EmbeddedCluster(tmp_path / "c", maintenance_interval_s=None) as cluster:
        cluster.create_topic("t", 1)
        engine = cluster.engine
        topic_id = engine._meta("t").topic_id
        for n in range(300):
            cluster.produce("t", [Record(b"v%d" % n, key=b"k")])
        assert engine._checkpointer.wait_done(topic_id, 1, 60)
        assert len(cluster.fetch("t", 0, 0, max_records=1000)) == 300


def test_frames_appended_during_a_checkpoint_are_taken_so_the_wal_starts_over(
    tmp_path: Path,
) -> None:
    db = tmp_path / "t.db"
    writer = sqlite.connect(db, create=True, background_checkpoints=True)
    writer.execute("CREATE TABLE t (x BLOB)")
    for _ in range(50):
        writer.execute("INSERT INTO t VALUES (randomblob(5000))")
    passes = []

    class Racing(sqlite3.Connection):
        """The checkpointer's connection; an append lands right after its first pass."""

        def execute(self, sql: str, parameters: object = (), /) -> sqlite3.Cursor:
            cursor = super().execute(sql, parameters)  # type: ignore[arg-type]
            if "wal_checkpoint" in sql:
                passes.append(sql)
                if len(passes) == 1:
                    writer.execute("INSERT INTO t VALUES (randomblob(5000))")
            return cursor

    checkpointer = Checkpointer(lambda _key: sqlite3.connect(db, factory=Racing), threshold=1)
    checkpointer._checkpoint("t")
    assert len(passes) == 3  # the second took the racing append's frames, the third found none
    # Every frame was checkpointed, so the next append starts the WAL over: it holds only the
    # frames of that append, not the 50 before it.
    writer.execute("INSERT INTO t VALUES (randomblob(5000))")
    reader = sqlite3.connect(db)
    (_, frames, _) = reader.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert frames < 5
    reader.close()
    writer.close()
