"""Acknowledged end offsets, kept beside each topic's log in `topics/<topic id>.ends`.

SQLite drops every write-ahead-log frame after a damaged one when it opens a database, without
an error: a `-wal` file damaged after a crash silently takes the newest acknowledged records
with it. To notice, each produce records the end offset it acknowledged, per partition, in a
small file that does not depend on the log: one little-endian int64 per partition (the next
offset), only ever raised. A log that ends before its recorded end lost records.

The file is written after every commit (so it survives the death of the process as the log
does) and fsynced after every write on a `durable` cluster, like the log. Otherwise a background
timer fsyncs it within a second of a write, off the committing thread: an fsync under disk
contention can take hundreds of milliseconds, which must not hold up an acknowledgement that
does not wait for one (the log's own commits do not fsync either).
Writers of several processes and threads serialize on an exclusive `flock` and keep the
larger value, so a slow writer never lowers an end another one raised.
"""

from __future__ import annotations

import contextlib
import logging
import os
import struct
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: the engine's threads still serialize
    fcntl = None  # type: ignore[assignment]

_SLOT = struct.Struct("<q")

#: Longest time an acknowledged end waits for its fsync on a cluster that is not `durable`.
SYNC_INTERVAL_S = 1.0

logger = logging.getLogger(__name__)


def ends_path(topic_file: Path) -> Path:
    """The end-offset file of the topic database `topic_file`."""
    return topic_file.with_suffix(".ends")


def parse(data: bytes) -> dict[int, int]:
    """Partition -> recorded end offset (a trailing partial slot is ignored)."""
    count = len(data) // _SLOT.size
    return {p: _SLOT.unpack_from(data, p * _SLOT.size)[0] for p in range(count)}


def lost_ranges(
    recorded: Mapping[int, int], log_ends: Mapping[int, int]
) -> dict[int, tuple[int, int]]:
    """The lost offsets [log end, recorded end) of each partition whose log ends early."""
    return {
        part: (log_ends.get(part, 0), end)
        for part, end in recorded.items()
        if end > log_ends.get(part, 0)
    }


class EndOffsets:
    """The end-offset file of one topic, open for the life of the engine."""

    def __init__(self, path: Path, *, durable: bool = False) -> None:
        self.path = path
        self._durable = durable
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._dirty = False
        self._synced = time.monotonic()
        self._timer: threading.Timer | None = None

    def _open(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        return self._fd

    @contextlib.contextmanager
    def _locked(self) -> Iterator[int]:
        with self._lock:
            fd = self._open()
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield fd
            finally:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)

    def read(self) -> dict[int, int]:
        """Partition -> recorded end offset (empty when nothing was recorded yet)."""
        try:
            with open(self.path, "rb") as handle:
                return parse(handle.read())
        except FileNotFoundError:
            return {}

    def raise_to(self, ends: Mapping[int, int]) -> None:
        """Record that every partition in `ends` holds records up to (not including) its value;
        recorded ends only grow."""
        with self._locked() as fd:
            width = (max(ends) + 1) * _SLOT.size
            current = os.pread(fd, width, 0)
            known = parse(current)
            for part, end in ends.items():
                if end > known.get(part, 0):
                    os.pwrite(fd, _SLOT.pack(end), part * _SLOT.size)
                    # Slots below a new partition's slot read as zero (a sparse hole).
            if self._durable:
                self._sync(fd)
                return
            self._dirty = True
        self._schedule_sync()

    def _schedule_sync(self) -> None:
        """Have the background timer fsync within SYNC_INTERVAL_S of the last fsync."""
        with self._lock:
            if self._timer is not None or self._fd is None:
                return
            delay = max(0.0, SYNC_INTERVAL_S - (time.monotonic() - self._synced))
            timer = self._timer = threading.Timer(delay, self._background_sync)
            timer.daemon = True
            timer.start()

    def _background_sync(self) -> None:
        # fsync a duplicate of the descriptor outside the lock, so that writers never wait
        # for the disk; a write made meanwhile marks the file dirty again and schedules anew.
        with self._lock:
            self._timer = None
            if self._fd is None or not self._dirty:
                return
            fd = os.dup(self._fd)
            self._dirty = False
        started = time.monotonic()
        try:
            os.fsync(fd)
        except OSError as exc:
            logger.warning("cannot fsync the end offsets %s: %s", self.path, exc)
            with self._lock:
                self._dirty = True
        finally:
            os.close(fd)
        self._synced = started

    def lower_to(self, ends: Mapping[int, int]) -> None:
        """Set recorded ends to exactly these values (restore writes the ends of a copy)."""
        with self._locked() as fd:
            for part, end in ends.items():
                os.pwrite(fd, _SLOT.pack(end), part * _SLOT.size)
            self._sync(fd)

    def _sync(self, fd: int) -> None:
        os.fsync(fd)
        self._dirty = False
        self._synced = time.monotonic()

    def close(self) -> None:
        """Flush what is not yet synced and close the file."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._fd is None:
                return
            with contextlib.suppress(OSError):
                if self._dirty:
                    os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None
