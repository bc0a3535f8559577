"""`first_write_without_waiting`: the first write transaction refuses to wait for a write lock
held elsewhere (and writes nothing); the flag lasts for that one transaction only."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from engine.embedded import sqlite
from engine.embedded.sqlite import (
    WriteWouldWaitError,
    connect,
    first_write_without_waiting,
    write_tx,
)


def test_the_first_write_refuses_to_wait_and_writes_nothing(tmp_path: Path) -> None:
    conn = connect(tmp_path / "t.db", create=True)
    conn.execute("CREATE TABLE t (x INTEGER)")
    blocker = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    with first_write_without_waiting(), pytest.raises(WriteWouldWaitError), write_tx(conn):
        conn.execute("INSERT INTO t VALUES (1)")
    assert not conn.in_transaction
    blocker.execute("ROLLBACK")
    with first_write_without_waiting():
        with write_tx(conn):
            conn.execute("INSERT INTO t VALUES (2)")
        with write_tx(conn):  # later transactions in the same block are ordinary
            conn.execute("INSERT INTO t VALUES (3)")
    assert [r[0] for r in conn.execute("SELECT x FROM t ORDER BY x")] == [2, 3]
    blocker.close()
    conn.close()


def test_the_flag_does_not_outlive_its_block(tmp_path: Path) -> None:
    with first_write_without_waiting():
        pass  # no write inside: the next write elsewhere must still wait as usual
    assert sqlite._no_wait.first is False
    conn = connect(tmp_path / "t.db", create=True)
    with first_write_without_waiting():
        with write_tx(conn):
            conn.execute("CREATE TABLE t (x INTEGER)")
        assert sqlite._no_wait.first is False  # spent by the first transaction
    conn.close()
