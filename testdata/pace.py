"""Holding a rate: how long to wait before the next record, against an injectable clock."""

from __future__ import annotations

import time
from collections.abc import Callable


class Pacer:
    """Spaces records `1/rate` seconds apart on average, measured from the first one, so a
    slow moment is caught up and the long-run rate is the one asked for. No rate: no wait."""

    def __init__(
        self,
        rate: float | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("the rate must be positive")
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._start: float | None = None

    def delay(self, sent: int) -> float:
        """Seconds until record number `sent` (counting from 0) is due; 0 when it is due."""
        now = self._clock()
        if self._start is None:
            self._start = now
        if self.rate is None:
            return 0.0
        return max(0.0, self._start + sent / self.rate - now)

    def wait(self, delay: float) -> None:
        """Sleep for a delay `delay()` returned."""
        if delay > 0:
            self._sleep(delay)
