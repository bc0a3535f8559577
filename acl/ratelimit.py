"""Requests per principal: a token bucket each (`rate` per second, bursts up to `burst`).
Pure: the clock is injected."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Admits a principal's request when its bucket holds a token; else says how long until
    one is back (for `Retry-After`)."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_principals: int = 100_000,
    ) -> None:
        if rate <= 0:
            raise ValueError("the rate must be positive")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._clock = clock
        self._max = max_principals
        self._buckets: dict[str, tuple[float, float]] = {}  # principal -> (tokens, at)
        self._lock = threading.Lock()

    def admit(self, principal: str) -> float:
        """0 when admitted; else the seconds until the next token (a request refused takes
        no token)."""
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(principal, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if tokens >= 1.0:
                if len(self._buckets) >= self._max and principal not in self._buckets:
                    self._buckets.clear()
                self._buckets[principal] = (tokens - 1.0, now)
                return 0.0
            self._buckets[principal] = (tokens, now)
            return (1.0 - tokens) / self.rate

    @staticmethod
    def retry_after(wait: float) -> str:
        """`Retry-After` in whole seconds (at least 1)."""
        return str(max(1, math.ceil(wait)))
