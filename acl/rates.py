"""Kafka's windowed rate and the throttle time it gives a client over its quota. Pure: the
caller passes the time (milliseconds), so tests drive a clock of their own.

A rate is kept in `samples` windows of `window_ms` each (`quota.window.num` 11 and
`quota.window.size.seconds` 1 by default). Recording adds to the current window, starting the
next one when it is a full window old; windows older than all of them together are reset.
The rate is the total over the windows divided by the time they span, which counts as at
least `samples - 1` whole windows, so a new client cannot burst past its quota over the first
seconds. A client over its quota is throttled for (rate - quota) / quota x span: the time
after which, sending nothing, it would be back at its quota.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_SAMPLES = 11
DEFAULT_WINDOW_MS = 1000


@dataclass(slots=True)
class _Sample:
    start_ms: float
    value: float = 0.0

    def reset(self, now_ms: float) -> None:
        self.start_ms = now_ms
        self.value = 0.0


class WindowedRate:
    """A rate over sampled windows, as Kafka's `Rate` over a `SampledTotal`."""

    def __init__(self, samples: int = DEFAULT_SAMPLES, window_ms: float = DEFAULT_WINDOW_MS):
        if samples < 2 or window_ms <= 0:
            raise ValueError("a windowed rate needs at least 2 samples of a positive length")
        self.samples = samples
        self.window_ms = window_ms
        self._windows: list[_Sample] = []
        self._current = 0
        #: when something was last recorded (for forgetting idle rates)
        self.last_ms = 0.0

    def record(self, value: float, now_ms: float) -> None:
        """Add `value` at `now_ms`."""
        if not self._windows:
            self._windows.append(_Sample(now_ms))
        sample = self._windows[self._current]
        if now_ms - sample.start_ms >= self.window_ms:
            self._current = (self._current + 1) % self.samples
            if self._current >= len(self._windows):
                sample = _Sample(now_ms)
                self._windows.append(sample)
            else:
                sample = self._windows[self._current]
                sample.reset(now_ms)
        sample.value += value
        self.last_ms = now_ms

    def _purge(self, now_ms: float) -> None:
        expiry = self.samples * self.window_ms
        for sample in self._windows:
            if now_ms - sample.start_ms >= expiry:
                sample.reset(now_ms)

    def span_ms(self, now_ms: float) -> float:
        """The time the windows span, counted as at least `samples - 1` whole windows."""
        self._purge(now_ms)
        if not self._windows:
            self._windows.append(_Sample(now_ms))
        elapsed = now_ms - min(s.start_ms for s in self._windows)
        full = int(elapsed // self.window_ms)
        if full < self.samples - 1:
            elapsed += (self.samples - 1 - full) * self.window_ms
        return elapsed

    def rate(self, now_ms: float) -> float:
        """The recorded total per second."""
        span = self.span_ms(now_ms)
        return sum(s.value for s in self._windows) / (span / 1000.0)


def throttle_ms(rate: WindowedRate, quota: float, now_ms: float) -> int:
    """How long a client measured by `rate` must wait to be back at `quota` (0 when within
    it), as Kafka's `QuotaUtils.throttleTime` rounds it."""
    value = rate.rate(now_ms)
    if value <= quota:
        return 0
    return round((value - quota) / quota * rate.span_ms(now_ms))


def record_and_throttle(
    rate: WindowedRate, value: float, quota: float, now_ms: float, bound_ms: int | None = None
) -> int:
    """Record `value`, then the throttle time the quota asks for (at most `bound_ms`)."""
    rate.record(value, now_ms)
    wait = throttle_ms(rate, quota, now_ms)
    return wait if bound_ms is None else min(wait, bound_ms)
