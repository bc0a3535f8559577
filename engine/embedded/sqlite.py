"""SQLite plumbing for the embedded engine: connections in WAL mode and write transactions.

Every database is opened in WAL mode with `synchronous=NORMAL`: a committed transaction is in
the write-ahead log before `COMMIT` returns, so it survives the death of the process (SIGKILL);
only an operating-system crash or power loss can lose the last transactions. `durable=True`
switches to `synchronous=FULL` (an fsync per commit) for that stronger guarantee.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from engine.errors import (
    ClusterUnavailableError,
    DamagedFileError,
    EngineError,
    StorageError,
    StorageFullError,
)

#: How long a writer waits for another process's transaction before giving up.
BUSY_TIMEOUT_S = 30.0

#: WAL size at which a commit checkpoints it into the database.
WAL_CHECKPOINT_BYTES = 16 << 20

#: The same, for databases whose WAL a background thread checkpoints (`checkpoint.py`): the
#: commit path checkpoints only if that thread falls this far behind.
FALLBACK_CHECKPOINT_BYTES = 64 << 20


# Primary result codes (the low byte of an extended code) that say something about storage.
_SQLITE_IOERR = 10
_SQLITE_CORRUPT = 11
_SQLITE_FULL = 13
_SQLITE_NOTADB = 26


def storage_error(
    exc: sqlite3.Error, file: Path | str, directory: Path | str, topic: str | None = None
) -> EngineError | None:
    """The engine error an SQLite error on `file` stands for (a full disk, a damaged file, an
    I/O error), or None when it says nothing about storage (a bug, a lock: raise it as is)."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = -1 if code is None else code & 0xFF
    if primary == _SQLITE_FULL:
        return StorageFullError(str(directory), str(file))
    if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return DamagedFileError(str(file), str(exc), topic)
    if primary == _SQLITE_IOERR:
        if _nearly_full(directory):
            return StorageFullError(str(directory), str(file))
        return StorageError(f"I/O error on {file}: {exc}", str(file))
    return None


def _nearly_full(directory: Path | str) -> bool:
    try:
        return shutil.disk_usage(directory).free < (1 << 20)
    except OSError:
        return False


class Connection(sqlite3.Connection):
    """A connection that turns SQLite's storage errors into engine errors naming its file."""

    file: Path
    directory: Path
    topic: str | None
    #: Whether commits are fsynced (`synchronous=FULL`): files written beside the database
    #: (segment files) are then fsynced before the commit too.
    durable: bool

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        with self.guard:
            return _Cursor(self).execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        with self.guard:
            return super().executemany(sql, parameters)

    @property
    def guard(self) -> _Guard:
        """A context that re-raises storage errors as engine errors."""
        return _Guard(self)


class _Guard:
    """Turns an SQLite storage error on the connection's file into the engine error for it."""

    __slots__ = ("conn",)

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, sqlite3.DatabaseError):
            conn = self.conn
            error = storage_error(exc, conn.file, conn.directory, conn.topic)
            if error is not None:
                raise error from exc


class _Cursor(sqlite3.Cursor):
    """A cursor whose row reads turn storage errors into engine errors (a damaged page is
    often met only while stepping through the rows)."""

    connection: Connection

    def __next__(self) -> Any:
        with self.connection.guard:
            return super().__next__()

    def fetchone(self) -> Any:
        with self.connection.guard:
            return super().fetchone()

    def fetchall(self) -> list[Any]:
        with self.connection.guard:
            return super().fetchall()


def connect(
    path: Path,
    *,
    create: bool,
    durable: bool = False,
    page_size: int | None = None,
    directory: Path | None = None,
    topic: str | None = None,
    background_checkpoints: bool = False,
) -> Connection:
    """Open one database file in autocommit mode (transactions are explicit). `page_size`
    applies when the file is new (it is fixed once the first page is written). Storage
    errors name `path`, the data `directory` (default: the file's) and the `topic` it holds.
    With `background_checkpoints`, commits checkpoint the WAL only past
    `FALLBACK_CHECKPOINT_BYTES` (a `Checkpointer` does it sooner, off the commit path)."""
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
            factory=Connection,
        )
    except sqlite3.OperationalError as exc:
        error = storage_error(exc, path, directory or path.parent, topic) if create else None
        if error is not None:
            raise error from exc
        raise FileNotFoundError(f"cannot open {path}: {exc}") from exc
    assert isinstance(conn, Connection)
    conn.file = path
    conn.directory = directory or path.parent
    conn.topic = topic
    conn.durable = durable
    try:
        if page_size is not None:
            conn.execute(f"PRAGMA page_size={int(page_size)}")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        # Checkpoint about every 16 MiB of WAL (larger checkpoints amortise copying the WAL
        # back into the database) and cut the file back to that size afterwards.
        actual_page = int(conn.execute("PRAGMA page_size").fetchone()[0])
        limit = FALLBACK_CHECKPOINT_BYTES if background_checkpoints else WAL_CHECKPOINT_BYTES
        conn.execute(f"PRAGMA wal_autocheckpoint={max(1000, limit // actual_page)}")
        conn.execute(f"PRAGMA journal_size_limit={WAL_CHECKPOINT_BYTES}")
        conn.execute("PRAGMA cache_size=-16000")
    except StorageError:
        conn.close()
        raise
    except sqlite3.DatabaseError as exc:  # locked for too long
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
    try:
        conn.execute("COMMIT")
    except BaseException:
        # A COMMIT that failed (a full disk) leaves the transaction open, holding the lock.
        if conn.in_transaction:
            conn.rollback()
        raise


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
