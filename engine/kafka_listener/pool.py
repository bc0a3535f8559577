"""`LifoThreadPool`: the broker's threads for blocking engine work, handing each task to the
thread that went idle last.

`concurrent.futures.ThreadPoolExecutor` queues tasks for whichever idle thread wakes first,
which spreads even one client's sequential requests over every thread it ever started. Each
pool thread has its own SQLite connection (and page cache) and its own malloc arena, so that
rotation keeps all of them cold, and every request wakes a thread that must first be
scheduled in. Here the thread most recently idle takes the next task, and the others stay
parked until concurrent requests need them. Measured with a confluent-kafka producer (200,000
records a round, listener alone, two runs of 10 rounds): 0.33 µs of listener CPU per record
produced against 0.39-0.42 with `ThreadPoolExecutor` (an earlier consume run: 0.225 against
0.305).
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

_Task = tuple["Future[Any]", Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class _Worker:
    """A parked thread's wake-up and the task it is handed."""

    __slots__ = ("task", "wake")

    def __init__(self, task: _Task | None) -> None:
        self.wake = threading.Event()
        self.task = task


class LifoThreadPool(Executor):
    """An executor of at most `max_workers` threads (started as needed): a task goes to the
    thread idle last, or to a new thread, or waits for the first thread to finish (in the
    order tasks came)."""

    def __init__(self, max_workers: int, thread_name_prefix: str = "pool") -> None:
        if max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")
        self._max_workers = max_workers
        self._prefix = thread_name_prefix
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []  # a stack: the last one parked is woken first
        self._backlog: collections.deque[_Task] = collections.deque()
        self._threads: list[threading.Thread] = []
        self._shutdown = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Schedule `fn(*args, **kwargs)`; raises `RuntimeError` after `shutdown`."""
        future: Future[Any] = Future()
        task: _Task = (future, fn, args, kwargs)
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new tasks after shutdown")
            if self._idle:
                worker = self._idle.pop()
                worker.task = task
                worker.wake.set()
            elif len(self._threads) < self._max_workers:
                thread = threading.Thread(
                    target=self._work,
                    args=(_Worker(task),),
                    name=f"{self._prefix}_{len(self._threads)}",
                    daemon=True,
                )
                self._threads.append(thread)
                thread.start()
            else:
                self._backlog.append(task)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Take no more tasks; the waiting ones still run unless `cancel_futures`; with
        `wait`, return once every thread has finished."""
        with self._lock:
            self._shutdown = True
            if cancel_futures:
                while self._backlog:
                    self._backlog.popleft()[0].cancel()
            for worker in self._idle:
                worker.task = None
                worker.wake.set()
            self._idle.clear()
            threads = list(self._threads)
        if wait:
            for thread in threads:
                if thread is not threading.current_thread():
                    thread.join()

    def _work(self, worker: _Worker) -> None:
        task = worker.task
        while task is not None:
            future, outcome = _run(task)
            del task
            with self._lock:
                task = self._backlog.popleft() if self._backlog else None
                parked = task is None and not self._shutdown
                if parked:
                    worker.task = None
                    worker.wake.clear()
                    self._idle.append(worker)
            # Settled only once this thread is back on the stack, so the caller's next task
            # (sent as soon as it sees this result) comes to this thread.
            _settle(future, outcome)
            del future, outcome
            if task is None:
                if not parked:
                    return
                worker.wake.wait()
                task = worker.task


_Outcome = tuple[bool, Any] | None


def _run(task: _Task) -> tuple[Future[Any], _Outcome]:
    """The task's future and its outcome: (True, result), (False, exception), or None when
    the future was cancelled before it ran."""
    future, fn, args, kwargs = task
    if not future.set_running_or_notify_cancel():
        return future, None
    try:
        return future, (True, fn(*args, **kwargs))
    except BaseException as exc:
        return future, (False, exc)


def _settle(future: Future[Any], outcome: _Outcome) -> None:
    if outcome is None:
        return
    ok, value = outcome
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
