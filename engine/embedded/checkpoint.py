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


class BackgroundWork:
    """A thread of its own (started on first use, below the request threads' priority) doing
    work on the databases named by key, each time on a fresh connection from `open_db(key)`
    (FileNotFoundError when it is gone, e.g. the topic was deleted). Subclasses say what is
    due and what the work is (`_run`); `done` counts what completed, per key."""

    def __init__(self, open_db: Callable[[str], sqlite3.Connection], name: str) -> None:
        self._open_db = open_db
        self._name = name
        self._cond = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None
        #: how many background runs completed, per key
        self.done: dict[str, int] = {}

    def _start(self) -> None:
        """Start the thread if it is not running (called with the condition held)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        lower_priority()
        self._run()

    def _run(self) -> None:
        raise NotImplementedError

    def _work(self, key: str, job: Callable[[sqlite3.Connection], None], what: str) -> None:
        """Run `job` on a fresh connection to `key`'s database and count it once it ran to
        the end; a database that is gone, or a job that fails, is only logged: the work is
        done again later (by the commits' own fallback, maintenance, a clean close)."""
        try:
            conn = self._open_db(key)
        except (FileNotFoundError, EngineError, sqlite3.Error) as exc:
            logger.debug("no background %s of %s: %s", what, key, exc)
            return
        try:
            job(conn)
        except (EngineError, sqlite3.Error, OSError) as exc:
            logger.debug("background %s of %s failed: %s", what, key, exc)
            return
        finally:
            conn.close()
        with self._cond:
            self.done[key] = self.done.get(key, 0) + 1
            self._cond.notify_all()

    def wait_done(self, key: str, count: int, timeout: float) -> bool:
        """Wait until `count` background runs for `key` completed; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self.done.get(key, 0) >= count, timeout)

    def close(self) -> None:
        """Stop the thread (after the run under way); what is still due is left to the
        caller's own work on close."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)


class Checkpointer(BackgroundWork):
    """Background PASSIVE checkpoints of the databases named by key, once `threshold` bytes
    were written to one since its last."""

    def __init__(
        self,
        open_db: Callable[[str], sqlite3.Connection],
        *,
        threshold: int | None = None,
        name: str = "streamgov-checkpoint",
    ) -> None:
        super().__init__(open_db, name)
        self._threshold = CHECKPOINT_BYTES if threshold is None else threshold
        self._pending: dict[str, int] = {}

    def wrote(self, key: str, nbytes: int) -> None:
        """Note that a committed append wrote about `nbytes` to the database `key`."""
        with self._cond:
            if self._stopped:
                return
            total = self._pending.get(key, 0) + max(nbytes, 1)
            self._pending[key] = total
            if total >= self._threshold:
                self._start()
                self._cond.notify_all()

    def _due(self) -> list[str]:
        """Keys to checkpoint now (called with the condition held); their tallies restart."""
        due = [k for k, n in self._pending.items() if n >= self._threshold]
        for key in due:
            del self._pending[key]
        return due

    def _run(self) -> None:
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
        self._work(key, _catch_up, "checkpoint")


def _catch_up(conn: sqlite3.Connection) -> None:
    """Checkpoint the WAL, then the frames appended meanwhile. A writer starts the WAL over
    only once every frame in it is checkpointed. Under a steady stream of appends some always
    land during a pass, so without the short passes that follow (until one finds no new frame)
    the WAL grew until the commits' own fallback checkpoint ran inside a producer's commit."""
    seen = -1
    for _ in range(CATCH_UP_PASSES):
        (_, frames, _) = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if frames == seen:
            break
        seen = frames


def lower_priority() -> None:
    """Run the calling thread below the threads that serve requests: checkpoints (and the
    engine's other background work) should take the CPU the others leave on a busy machine."""
    with contextlib.suppress(OSError, AttributeError):
        thread = threading.get_native_id()
        niceness = os.getpriority(os.PRIO_PROCESS, thread) + CHECKPOINT_NICENESS
        os.setpriority(os.PRIO_PROCESS, thread, min(niceness, 19))
