"""`LifoThreadPool`: results and errors reach their futures; sequential tasks stay on one
thread; concurrent ones get threads up to the limit, and beyond it wait in order; shutdown
runs or cancels what waits; asyncio's run_in_executor drives it."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import CancelledError

import pytest

from engine.kafka_listener.pool import LifoThreadPool

TIMEOUT = 30


def test_results_and_errors_reach_their_futures() -> None:
    pool = LifoThreadPool(2)
    try:
        assert pool.submit(lambda a, b=0: a + b, 2, b=3).result(TIMEOUT) == 5
        failed = pool.submit(lambda: 1 // 0)
        with pytest.raises(ZeroDivisionError):
            failed.result(TIMEOUT)
        assert pool.submit(lambda: "still serving").result(TIMEOUT) == "still serving"
    finally:
        pool.shutdown()


def test_tasks_one_after_another_run_on_the_thread_idle_last() -> None:
    pool = LifoThreadPool(8)
    try:
        # Start several threads at once, then run tasks one at a time.
        gate = threading.Barrier(4)
        for f in [pool.submit(gate.wait, TIMEOUT) for _ in range(4)]:
            f.result(TIMEOUT)
        names = set()
        last = pool.submit(threading.current_thread).result(TIMEOUT)
        for _ in range(50):
            names.add(pool.submit(lambda: threading.current_thread().name).result(TIMEOUT))
        assert names == {last.name}
    finally:
        pool.shutdown()


def test_concurrent_tasks_get_threads_up_to_the_limit_then_wait() -> None:
    pool = LifoThreadPool(3)
    release = threading.Event()
    started = threading.Semaphore(0)

    def hold(i: int) -> int:
        started.release()
        release.wait(TIMEOUT)
        return i

    try:
        held = [pool.submit(hold, i) for i in range(3)]  # all three run at once ...
        for _ in range(3):
            assert started.acquire(timeout=TIMEOUT)
        waiting = [pool.submit(abs, -i) for i in range(3, 8)]  # ... these wait
        assert not any(f.done() for f in waiting)
        release.set()
        assert [f.result(TIMEOUT) for f in held + waiting] == list(range(8))
        assert len(pool._threads) == 3
    finally:
        release.set()
        pool.shutdown()


def test_waiting_tasks_run_in_the_order_they_came() -> None:
    pool = LifoThreadPool(1)
    release = threading.Event()
    order: list[int] = []
    try:
        pool.submit(release.wait, TIMEOUT)
        waiting = [pool.submit(order.append, i) for i in range(10)]
        release.set()
        for f in waiting:
            f.result(TIMEOUT)
        assert order == list(range(10))
    finally:
        release.set()
        pool.shutdown()


@pytest.mark.parametrize("cancel", [False, True])
def test_shutdown_runs_or_cancels_what_waits_and_refuses_more(cancel: bool) -> None:
    pool = LifoThreadPool(1)
    release = threading.Event()
    busy = pool.submit(release.wait, TIMEOUT)
    waiting = pool.submit(lambda: "ran")
    stopper = threading.Thread(target=pool.shutdown, kwargs={"cancel_futures": cancel})
    stopper.start()
    release.set()
    stopper.join(TIMEOUT)
    assert not stopper.is_alive()
    assert busy.result(TIMEOUT) is True
    if cancel:
        with pytest.raises(CancelledError):
            waiting.result(TIMEOUT)
    else:
        assert waiting.result(TIMEOUT) == "ran"
    with pytest.raises(RuntimeError, match="shutdown"):
        pool.submit(lambda: None)
    assert not any(t.is_alive() for t in pool._threads)


def test_run_in_executor() -> None:
    pool = LifoThreadPool(2)

    async def main() -> list[int]:
        loop = asyncio.get_running_loop()
        return list(await asyncio.gather(*(loop.run_in_executor(pool, abs, -i) for i in range(20))))

    try:
        assert asyncio.run(main()) == list(range(20))
    finally:
        pool.shutdown()


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_workers"):
        LifoThreadPool(0)
