"""`SegmentSyncer`: fsyncs the segment files of the topics written to, on a thread of its own,
`SYNC_INTERVAL_S` after an append, and records how far each partition is on disk.

When a process first opens a topic, the batches not yet recorded as on disk are checked
against their CRCs (see `engine.embedded.segments`). Syncing only in maintenance passes (every
five minutes by default) would leave minutes of batches to check whenever a process crashed
or another opened the topic; a clean close syncs everything. The interval matches the
kernel's own writeback of dirty pages (`vm.dirty_expire_centisecs`, 30 s by default), so the
fsync mostly finds the data written back already and costs little: syncing within a second
made the listener's process do that writeback itself, 0.05-0.1 µs of CPU per record produced.
Like the checkpointer, the thread runs below the threads that serve requests.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

from engine.embedded.checkpoint import BackgroundWork

#: Longest time a batch waits before its segment file is fsynced and recorded as on disk.
SYNC_INTERVAL_S = 30.0


class SegmentSyncer(BackgroundWork):
    """Background syncs of the topics named by key: `sync(conn)` fsyncs and records, within
    `interval` (default `SYNC_INTERVAL_S`) of the first append since the last."""

    def __init__(
        self,
        open_db: Callable[[str], sqlite3.Connection],
        sync: Callable[[sqlite3.Connection], None],
        *,
        interval: float | None = None,
        name: str = "streamgov-segment-sync",
    ) -> None:
        super().__init__(open_db, name)
        self._sync = sync
        self._interval = SYNC_INTERVAL_S if interval is None else interval
        self._due: dict[str, float] = {}  # key -> when it should be synced

    def wrote(self, key: str) -> None:
        """Note that an append wrote segment files of the database `key`."""
        with self._cond:
            if self._stopped or key in self._due:
                return
            self._due[key] = time.monotonic() + self._interval
            self._start()
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped:
                    now = time.monotonic()
                    ready = [k for k, at in self._due.items() if at <= now]
                    if ready:
                        break
                    self._cond.wait(min(self._due.values(), default=now + 3600) - now)
                if self._stopped:
                    return
                for key in ready:
                    del self._due[key]
            for key in ready:
                self._work(key, self._sync, "segment sync")
