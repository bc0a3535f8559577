"""SQLite plumbing for the embedded engine: connections in WAL mode and write transactions.

Every database is opened in WAL mode with `synchronous=NORMAL`: a committed transaction is in
the write-ahead log before `COMMIT` returns, so it survives the death of the process (SIGKILL);
only an operating-system crash or power loss can lose the last transactions. `durable=True`
switches to `synchronous=FULL` (an fsync per commit) for that stronger guarantee.
"""

from __future__ import annotations

import contextlib
import random
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from engine.errors import ClusterUnavailableError

#: How long a writer waits for another process's transaction before giving up.
BUSY_TIMEOUT_S = 30.0

#: WAL size at which a commit checkpoints it into the database.
WAL_CHECKPOINT_BYTES = 16 << 20


def connect(
    path: Path, *, create: bool, durable: bool = False, page_size: int | None = None
) -> sqlite3.Connection:
    """Open one database file in autocommit mode (transactions are explicit). `page_size`
    applies when the file is new (it is fixed once the first page is written)."""
    mode = "rwc" if create else "rw"
    uri = f"file:{quote(str(path))}?mode={mode}"
    try:
        conn = sqlite3.connect(
            uri,
            uri=True,
            timeout=BUSY_TIMEOUT_S,
            isolation_level=None,
            check_same_thread=False,
            cached_statements=256,
        )
    except sqlite3.OperationalError as exc:
        raise FileNotFoundError(f"cannot open {path}: {exc}") from exc
    try:
        if page_size is not None:
            conn.execute(f"PRAGMA page_size={int(page_size)}")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        # Checkpoint about every 16 MiB of WAL (larger checkpoints amortise copying the WAL
        # back into the database) and cut the file back to that size afterwards.
        actual_page = int(conn.execute("PRAGMA page_size").fetchone()[0])
        conn.execute(f"PRAGMA wal_autocheckpoint={max(1000, WAL_CHECKPOINT_BYTES // actual_page)}")
        conn.execute(f"PRAGMA journal_size_limit={WAL_CHECKPOINT_BYTES}")
        conn.execute("PRAGMA cache_size=-16000")
    except sqlite3.DatabaseError as exc:  # locked for too long, or not a database at all
        conn.close()
        raise ClusterUnavailableError(f"cannot use database {path}: {exc}") from exc
    return conn


@contextlib.contextmanager
def write_tx(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """An IMMEDIATE transaction: takes the write lock up front (waiting for other writers), so
    reads inside it see the latest committed state and the commit cannot fail on a lock."""
    _begin_immediate(conn)
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise
    else:
        conn.execute("COMMIT")


def _begin_immediate(conn: sqlite3.Connection) -> None:
    """Take the write lock, retrying every millisecond or two while another process holds it.

    SQLite's own busy handler backs off to 100 ms sleeps, which under steady contention lets
    one writer wait that long for a lock that is free again within a millisecond."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    delay = 0.0002
    conn.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
                if time.monotonic() > deadline:
                    raise ClusterUnavailableError(
                        f"database is locked by another writer for over {BUSY_TIMEOUT_S:.0f}s"
                    ) from exc
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.002)
    finally:
        # Other statements keep SQLite's own busy handler (readers rarely meet a lock).
        conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    message = str(exc)
    return "locked" in message or "busy" in message


@contextlib.contextmanager
def read_tx(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A read transaction: every query inside it sees one consistent snapshot."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")


def data_version(conn: sqlite3.Connection) -> int:
    """Changes whenever another connection committed to the database (cheap cache check)."""
    row = conn.execute("PRAGMA data_version").fetchone()
    return int(row[0])
