"""Segment files: the Kafka record batches of a topic's partitions, in append-only files beside
the topic database, which keeps only where each batch lies.

A batch produced through the Kafka listener is written once, at the end of its partition's
active segment `topics/<topic id>.segments/<partition>-<first offset>.log`, and the chunk row
that indexes it holds its place (`chunks.KIND_SEGMENT`: segment, position, length) instead of
its bytes. Kept in SQLite, the bytes would be written twice more: to the WAL, then by the
checkpoint into the database. A segment file is a Kafka log segment: the batches as the
client produced them, each carrying its real base offset.

Writes happen inside the append's write transaction, before its commit, at the end the
partition's row records for its active segment (kept there, in the row every append rewrites
anyway, so that an append adds no page to the WAL): a writer that dies before committing
leaves bytes past that end, which the next append overwrites, and no reader looks past a
committed row. A `durable` cluster fsyncs the file before the commit. Otherwise a background
thread (`segment_sync`) 30 s after an append, each maintenance pass and a clean close fsync
the files and record, per partition, the offset below which every batch is on disk
(`synced`); when a process first opens a topic, the batches above it are checked against their
CRCs and the log is cut at the first one that fails (after a power loss a commit can reach the
disk without the bytes it points at), so that the end-offset file reports those offsets as
lost, as it does for a damaged WAL.

A segment rolls at `SEGMENT_BYTES`. Retention, compaction and record removal delete or rewrite
chunk rows; a segment that no row points into any more (the active one excepted) is dropped in
the same transaction, and its file deleted after the commit (`unlink`). A reader whose snapshot
still points into a deleted file gets `SegmentGoneError` and reads again. A file no row names
(a writer killed between starting a segment and committing it) is removed by maintenance
(`remove_orphans`).
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import sqlite3
import struct
from collections.abc import Iterable, Sequence
from pathlib import Path

from crc32c import crc32c

from engine.embedded.sqlite import write_tx
from engine.errors import DamagedFileError, StorageError, StorageFullError

#: A segment rolls once it holds this many bytes, unless its topic's segment.bytes says
#: otherwise (the default of that config; Kafka's is 1 GiB: smaller segments let retention
#: free space sooner on a laptop's disk).
SEGMENT_BYTES = 64 << 20

#: Where a batch lies: its segment's base offset, its position in the file, its length.
_REF = struct.Struct("<qqq")
_BASE_OFFSET = struct.Struct(">q")

#: Kafka batch header: base offset (8), length (4), leader epoch (4), magic (1), crc (4); the
#: CRC covers everything after it.
_HEADER_BYTES = 21
_LENGTH = struct.Struct(">i")
_CRC = struct.Struct(">I")

#: Positioned I/O where the platform has it (not on Windows: each descriptor here belongs to one
#: call, so seeking it first is as good).
_PWRITEV = getattr(os, "pwritev", None)
_PREAD = getattr(os, "pread", None)
_BINARY = getattr(os, "O_BINARY", 0)

#: Bytes per write call. The page cache takes a write's length as a hint for the size of
#: the folios it allocates: from 128 KiB on, they come from large free blocks, which a
#: virtual machine's host has often reclaimed, and writing a fresh 24 MiB took 20 times as
#: long as in 64 KiB pieces (160-215 ms against 7-8 ms here).
_WRITE_BYTES = 64 << 10

#: The segments of each partition by first offset, with the size of each rolled one (the active
#: one's, which every append moves, is in the partition's row: see `write`).
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS segments (
        part INTEGER NOT NULL,
        base INTEGER NOT NULL,
        size INTEGER NOT NULL,
        PRIMARY KEY (part, base)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS segment_sync (
        part INTEGER PRIMARY KEY,
        synced INTEGER NOT NULL
    )""",
)


class SegmentGoneError(StorageError):
    """A segment file was deleted (by retention) after the reader's snapshot was taken: read
    again with a fresh snapshot."""

    def __init__(self, path: str) -> None:
        super().__init__(f"the segment file {path} was deleted while it was being read", path)


def directory(topic_file: Path) -> Path:
    """The folder holding the segment files of the topic database `topic_file`."""
    return topic_file.with_suffix(".segments")


def file_name(part: int, base: int) -> str:
    """The file name of partition `part`'s segment whose first offset is `base`."""
    return f"{int(part)}-{int(base):020d}.log"


def _dir(conn: sqlite3.Connection) -> Path:
    return directory(conn.file)  # type: ignore[attr-defined]


def _os_error(exc: OSError, path: Path, conn: sqlite3.Connection) -> StorageError:
    if exc.errno == errno.ENOSPC:
        return StorageFullError(str(conn.directory), str(path))  # type: ignore[attr-defined]
    return StorageError(f"cannot write {path}: {exc.strerror or exc}", str(path))


def write(
    conn: sqlite3.Connection,
    part: int,
    end: int,
    batches: Sequence[tuple[int, bytes | memoryview]],
    limit: int = SEGMENT_BYTES,
) -> tuple[list[bytes], int]:
    """Write Kafka `batches` (base offset, batch) of partition `part`, in offset order, from
    `end` (the size the partition's row records for its active segment) on, or at the start
    of a new segment when there is none or it holds `limit` bytes already. Returns each
    batch's place, to store in its chunk row, and the active segment's new end, to record in
    the partition's row. Runs inside the caller's write transaction, which must commit both
    for the bytes to count."""
    row = conn.execute(
        "SELECT base FROM segments WHERE part = ? ORDER BY base DESC LIMIT 1", (part,)
    ).fetchone()
    new = row is None or end >= limit
    if new:
        if row is not None:  # roll: the full one keeps its size in its own row
            conn.execute(
                "UPDATE segments SET size = ? WHERE part = ? AND base = ?", (end, part, row[0])
            )
        segment, position = batches[0][0], 0
        conn.execute("INSERT OR REPLACE INTO segments VALUES (?, ?, 0)", (part, segment))
    else:
        segment, position = int(row[0]), end
    folder = _dir(conn)
    path = folder / file_name(part, segment)
    buffers: list[bytes | memoryview] = []
    places = []
    end = position
    for base, batch in batches:
        buffers.append(_BASE_OFFSET.pack(base))
        buffers.append(batch[8:] if isinstance(batch, memoryview) else memoryview(batch)[8:])
        places.append(_REF.pack(segment, end, len(batch)))
        end += len(batch)
    durable = conn.durable  # type: ignore[attr-defined]
    try:
        if new:
            folder.mkdir(exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | _BINARY, 0o644)
        try:
            _write_all(fd, buffers, position)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        if new and durable:
            _fsync_dir(folder)
    except OSError as exc:
        raise _os_error(exc, path, conn) from exc
    if durable:
        conn.execute("INSERT OR REPLACE INTO segment_sync VALUES (?, ?)", (part, _end_of(batches)))
    return places, end


def _end_of(batches: Sequence[tuple[int, bytes | memoryview]]) -> int:
    base, batch = batches[-1]
    return base + _count(batch)


def _count(batch: bytes | memoryview) -> int:
    """Records in a Kafka batch (last offset delta + 1)."""
    return int.from_bytes(batch[23:27], "big") + 1


def _write_all(fd: int, buffers: list[bytes | memoryview], position: int) -> None:
    """Write `buffers` one after the other from `position`, at most `_WRITE_BYTES` per call."""
    group: list[bytes | memoryview] = []
    size = 0
    for buffer in buffers:
        view = memoryview(buffer)
        while view:
            piece = view[: _WRITE_BYTES - size]
            group.append(piece)
            size += len(piece)
            view = view[len(piece) :]
            if size == _WRITE_BYTES:
                position = _write_group(fd, group, position)
                group, size = [], 0
    if group:
        _write_group(fd, group, position)


def _write_group(fd: int, group: list[bytes | memoryview], position: int) -> int:
    """Write one group of buffers at `position` (finishing a short write); returns the end."""
    total = sum(len(b) for b in group)
    written = _PWRITEV(fd, group, position) if _PWRITEV is not None else 0
    if written < total:
        rest = memoryview(b"".join(group))[written:]
        if _PWRITEV is None:  # no positioned writes (Windows): this descriptor is ours alone
            os.lseek(fd, position + written, os.SEEK_SET)
        while rest:
            done = (
                os.write(fd, rest) if _PWRITEV is None else os.pwrite(fd, rest, position + written)
            )
            written += done
            rest = rest[done:]
    return position + total


def _pread(fd: int, length: int, position: int) -> bytes:
    """Up to `length` bytes at `position` (fewer only at the end of the file)."""
    if _PREAD is not None:
        return _PREAD(fd, length, position)
    os.lseek(fd, position, os.SEEK_SET)  # no positioned reads (Windows): the descriptor is ours
    pieces = []
    while length:
        piece = os.read(fd, length)
        if not piece:
            break
        pieces.append(piece)
        length -= len(piece)
    return b"".join(pieces)


def _fsync_dir(folder: Path) -> None:
    """Make a new file's entry in `folder` durable (POSIX; Windows has no directory handle to
    fsync, and its file system records the entry with the file)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Reader:
    """Reads batches from the segment files in `folder`, opening each file once (a context
    manager: the files are closed on exit)."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._fds: dict[tuple[int, int], int] = {}

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the files opened so far."""
        fds, self._fds = self._fds, {}
        for fd in fds.values():
            os.close(fd)

    def batch(self, part: int, place: bytes) -> bytes:
        """The batch stored at `place` (a chunk row's blob). `SegmentGoneError` when its file was
        deleted meanwhile; `DamagedFileError` when the file ends before it."""
        segment, position, length = _REF.unpack(place)
        key = (part, segment)
        fd = self._fds.get(key)
        path = self._folder / file_name(part, segment)
        if fd is None:
            try:
                fd = self._fds[key] = os.open(path, os.O_RDONLY | _BINARY)
            except FileNotFoundError:
                raise SegmentGoneError(str(path)) from None
        data = _pread(fd, length, position)
        if len(data) != length:
            raise DamagedFileError(
                str(path), f"it ends before the batch of {length} bytes at position {position}"
            )
        return data


def reader(conn: sqlite3.Connection) -> Reader:
    """A `Reader` of the segment files of the topic database `conn` is connected to."""
    return Reader(_dir(conn))


def sync(conn: sqlite3.Connection, ends: dict[int, int]) -> None:
    """Make every batch below each partition's end in `ends` (read before this call) safe on
    disk, then record so: fsync the segment files, one write transaction."""
    folder = _dir(conn)
    synced = dict(conn.execute("SELECT part, synced FROM segment_sync").fetchall())
    pending = {p: e for p, e in ends.items() if e > synced.get(p, 0)}
    if not pending:
        return
    bases: dict[int, list[int]] = {}
    for part, base in conn.execute("SELECT part, base FROM segments ORDER BY part, base"):
        if part in pending:
            bases.setdefault(part, []).append(int(base))
    for part, listed in bases.items():
        # The segment holding the first offset not yet synced, and every later one.
        since = synced.get(part, 0)
        first = max((i for i, base in enumerate(listed) if base <= since), default=0)
        for base in listed[first:]:
            _fsync_file(folder / file_name(part, base))
    with write_tx(conn):
        conn.executemany(
            "INSERT INTO segment_sync VALUES (?, ?) "
            "ON CONFLICT (part) DO UPDATE SET synced = max(synced, excluded.synced)",
            list(pending.items()),
        )


def _fsync_file(path: Path) -> None:
    """fsync `path` if it is still there (retention may have dropped it meanwhile)."""
    with contextlib.suppress(FileNotFoundError):
        fd = os.open(path, os.O_RDWR | _BINARY)  # Windows flushes only a writable handle
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def unsynced(conn: sqlite3.Connection, part: int) -> int:
    """The offset from which partition `part`'s batches are not known to be on disk."""
    row = conn.execute("SELECT synced FROM segment_sync WHERE part = ?", (part,)).fetchone()
    return 0 if row is None else int(row[0])


def check(reader: Reader, part: int, base: int, place: bytes) -> str | None:
    """What is wrong with the batch at `place`, which should hold offset `base` on: None when
    its length, base offset and CRC are right."""
    try:
        data = reader.batch(part, place)
    except (DamagedFileError, SegmentGoneError) as exc:
        return str(exc)
    if len(data) < _HEADER_BYTES + 6 or _LENGTH.unpack_from(data, 8)[0] != len(data) - 12:
        return "its length field does not match the index"
    if _BASE_OFFSET.unpack_from(data)[0] != base:
        return f"its base offset is not {base}"
    if crc32c(data[_HEADER_BYTES:]) != _CRC.unpack_from(data, 17)[0]:
        return "its CRC does not match"
    return None


def drop_unreferenced(conn: sqlite3.Connection, part: int, table: str, kind: int) -> list[Path]:
    """Inside the caller's write transaction: forget partition `part`'s segments (except the
    active one) that no row of its chunk `table` of this `kind` points into any more; returns
    their files, to `unlink` once the transaction has committed."""
    bases = [
        int(b)
        for (b,) in conn.execute("SELECT base FROM segments WHERE part = ? ORDER BY base", (part,))
    ]
    dead = []
    for base, following in itertools.pairwise(bases):
        used = conn.execute(
            f"SELECT 1 FROM {table} WHERE base >= ? AND base < ? AND kind = ? LIMIT 1",
            (base, following, kind),
        ).fetchone()
        if used is None:
            conn.execute("DELETE FROM segments WHERE part = ? AND base = ?", (part, base))
            dead.append(base)
    folder = _dir(conn)
    return [folder / file_name(part, base) for base in dead]


def drop_after(conn: sqlite3.Connection, part: int, offset: int) -> list[Path]:
    """Inside the caller's write transaction: forget partition `part`'s segments that begin
    at or after `offset` (the log was cut there); returns their files to `unlink`."""
    bases = [
        int(b)
        for (b,) in conn.execute(
            "SELECT base FROM segments WHERE part = ? AND base >= ?", (part, offset)
        )
    ]
    conn.execute("DELETE FROM segments WHERE part = ? AND base >= ?", (part, offset))
    folder = _dir(conn)
    return [folder / file_name(part, base) for base in bases]


def remove_orphans(conn: sqlite3.Connection) -> list[str]:
    """Inside the caller's write transaction (so that no append is between writing a new
    segment and committing it): delete the files of the topic's segment folder that no segment
    row names, which a writer killed after starting a new segment leaves; returns their names."""
    folder = _dir(conn)
    try:
        present = {entry.name for entry in os.scandir(folder) if entry.name.endswith(".log")}
    except FileNotFoundError:
        return []
    recorded = {file_name(p, b) for p, b in conn.execute("SELECT part, base FROM segments")}
    orphans = sorted(present - recorded)
    unlink(folder / name for name in orphans)
    return orphans


def position(place: bytes) -> int:
    """Where in its segment file the batch at `place` begins."""
    return int(_REF.unpack(place)[1])


def unlink(paths: Iterable[Path]) -> None:
    """Delete segment files whose rows are gone (best effort: a file left behind holds no
    batch any row points to, and maintenance removes it later; on Windows one still open
    cannot go yet)."""
    for path in paths:
        with contextlib.suppress(OSError):
            os.unlink(path)


def recorded(conn: sqlite3.Connection) -> bool:
    """Whether the topic database `conn` has segment tables (one from before segment files,
    such as an old backup, has none until the engine opens it)."""
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'segments'")
    return row.fetchone() is not None


def extents(conn: sqlite3.Connection) -> list[tuple[int, int, int]]:
    """Every segment of the topic database `conn` (partition, first offset, size), in order;
    none for a database from before segment files."""
    if not recorded(conn):
        return []
    return [
        (int(p), int(b), int(n))
        for p, b, n in conn.execute(
            "SELECT s.part, s.base, CASE WHEN s.base = (SELECT max(base) FROM segments "
            "WHERE part = s.part) THEN p.seg_end ELSE s.size END "
            "FROM segments AS s JOIN partitions AS p ON p.part = s.part ORDER BY s.part, s.base"
        )
    ]


def copy(conn: sqlite3.Connection, source: Path, target: Path) -> int:
    """Copy, from the segment folder `source` into `target`, the segment files the topic
    database `conn` (a copy) records, each up to its recorded size: bytes past it belong to no
    committed row. Returns the bytes copied. `SegmentGoneError` when a file was deleted since the
    copy's snapshot; `DamagedFileError` when one is shorter than recorded."""
    copied = 0
    for part, base, size in extents(conn):
        name = file_name(part, base)
        target.mkdir(parents=True, exist_ok=True)
        try:
            src = open(source / name, "rb")  # noqa: SIM115 - closed below, with dst
        except FileNotFoundError:
            raise SegmentGoneError(str(source / name)) from None
        with src, open(target / name, "wb") as dst:
            left = int(size)
            while left:
                data = src.read(min(left, 1 << 20))
                if not data:
                    raise DamagedFileError(
                        str(source / name), f"it holds fewer than the {size} bytes recorded"
                    )
                dst.write(data)
                left -= len(data)
        copied += int(size)
    return copied
