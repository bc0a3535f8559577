"""`Checkpointer`: copies topic logs' write-ahead logs back into their databases on a thread
of its own, so that appends never wait for a checkpoint.

SQLite's automatic checkpoint runs inside the `COMMIT` that pushes the WAL past its limit: that
commit copies megabytes and fsyncs twice while every producer of the topic waits. Here the
engine reports how many bytes each append wrote; once a topic has written `threshold` bytes
since its last checkpoint, this thread runs a PASSIVE checkpoint on a connection of its own.
PASSIVE never takes the write lock and never waits for readers, so writers and readers carry
on meanwhile. A checkpoint is SQLite's own crash-safe operation whoever runs it: a process
killed in the middle of one loses nothing (the WAL still holds every committed frame). Topic
connections keep an automatic checkpoint at a higher limit
(`sqlite.FALLBACK_CHECKPOINT_BYTES`) in case this thread falls behind.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable

from engine.errors import EngineError

logger = logging.getLogger(__name__)

#: Bytes appended to one topic after which its WAL is checkpointed in the background.
CHECKPOINT_BYTES = 8 << 20

#: Checkpoint passes run back to back at most, each taking the frames the one before missed.
CATCH_UP_PASSES = 4

#: How much lower than the rest of the process the checkpoint thread runs (Linux thread nice).
CHECKPOINT_NICENESS = 10


class Checkpointer:
    """Background PASSIVE checkpoints of the databases named by key. `open_db(key)` opens a
    fresh connection to the key's database (FileNotFoundError when it is gone, e.g. the topic
    was deleted); the checkpointer closes it after each checkpoint."""

    def __init__(
        self,
        open_db: Callable[[str], sqlite3.Connection],
        *,
        threshold: int | None = None,
        name: str = "streamgov-checkpoint",
    ) -> None:
        self._open_db = open_db
        self._threshold = CHECKPOINT_BYTES if threshold is None else threshold
        self._name = name
        self._pending: dict[str, int] = {}
        self._cond = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None
        #: how many background checkpoints completed, per key
        self.done: dict[str, int] = {}

    def wrote(self, key: str, nbytes: int) -> None:
        """Note that a committed append wrote about `nbytes` to the database `key`."""
        with self._cond:
            if self._stopped:
                return
            total = self._pending.get(key, 0) + max(nbytes, 1)
            self._pending[key] = total
            if total >= self._threshold:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                    self._thread.start()
                self._cond.notify_all()

    def close(self) -> None:
        """Stop the thread (after any checkpoint under way); bytes still outstanding are left
        to the caller's own checkpoint on close."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)

    def wait_done(self, key: str, count: int, timeout: float) -> bool:
        """Wait until `count` background checkpoints of `key` completed; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self.done.get(key, 0) >= count, timeout)

    def _due(self) -> list[str]:
        """Keys to checkpoint now (called with the condition held); their tallies restart."""
        due = [k for k, n in self._pending.items() if n >= self._threshold]
        for key in due:
            del self._pending[key]
        return due

    def _run(self) -> None:
        _lower_priority()
        while True:
            with self._cond:
                due = self._due()
                while not due and not self._stopped:
                    self._cond.wait()
                    due = self._due()
                if self._stopped:
                    return
            for key in due:
                self._checkpoint(key)

    def _checkpoint(self, key: str) -> None:
        try:
            conn = self._open_db(key)
        except (FileNotFoundError, EngineError, sqlite3.Error) as exc:
            logger.debug("no background checkpoint of %s: %s", key, exc)
            return
        try:
            # A writer starts the WAL over only once every frame in it is checkpointed. Under a
            # steady stream of appends some always land during a pass, so without the short
            # passes that follow (until one finds no new frame) the WAL grew until the commits'
            # own fallback checkpoint ran inside a producer's commit.
            seen = -1
            for _ in range(CATCH_UP_PASSES):
                (_, frames, _) = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if frames == seen:
                    break
                seen = frames
            with self._cond:
                self.done[key] = self.done.get(key, 0) + 1
                self._cond.notify_all()
        except (EngineError, sqlite3.Error) as exc:  # the fallback autocheckpoint remains
            logger.debug("background checkpoint of %s failed: %s", key, exc)
        finally:
            conn.close()


def _lower_priority() -> None:
    """Run the calling thread below the threads that serve requests: checkpoints are
    background work, and on a busy machine they should take the CPU the others leave."""
    with contextlib.suppress(OSError, AttributeError):
        thread = threading.get_native_id()
        niceness = os.getpriority(os.PRIO_PROCESS, thread) + CHECKPOINT_NICENESS
        os.setpriority(os.PRIO_PROCESS, thread, min(niceness, 19))
