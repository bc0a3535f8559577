"""The running lag monitor: samples a cluster every interval in a background thread, keeps the
tracker up to date, and appends every status and recommendation change to `_lag_signals`."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.cluster import Cluster
from engine.errors import EngineError, TopicAlreadyExistsError
from engine.types import Record
from lagmonitor import metrics, reports
from lagmonitor.sampler import GroupFilter, Sampler, TimestampMode
from lagmonitor.schemas import GroupDetail, GroupList, KedaMetric
from lagmonitor.tracker import LagEvent, LagTracker, TrackerConfig

log = logging.getLogger("streamgov.lag")

EVENTS_TOPIC = "_lag_signals"
MIN_INTERVAL_SECONDS = 0.05
MAX_INTERVAL_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class MonitorConfig:
    """What the monitor watches and how often; `events_topic=None` disables events."""

    interval_seconds: float = 10.0
    include: tuple[str, ...] = (".*",)
    exclude: tuple[str, ...] = ()
    timestamps: TimestampMode = "auto"
    events_topic: str | None = EVENTS_TOPIC
    tracker: TrackerConfig = field(default_factory=TrackerConfig)

    def __post_init__(self) -> None:
        if not MIN_INTERVAL_SECONDS <= self.interval_seconds <= MAX_INTERVAL_SECONDS:
            raise ValueError(
                f"lag interval must be between {MIN_INTERVAL_SECONDS:g} and "
                f"{MAX_INTERVAL_SECONDS:g} seconds, got {self.interval_seconds:g}"
            )


class LagMonitor:
    """Samples, evaluates and publishes; the REST routes and the CLI read from it."""

    def __init__(
        self,
        cluster: Cluster,
        config: MonitorConfig | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cluster = cluster
        self.config = config or MonitorConfig()
        self.sampler = Sampler(
            cluster,
            GroupFilter(self.config.include, self.config.exclude),
            timestamps=self.config.timestamps,
            clock=clock,
        )
        self.tracker = LagTracker(self.config.tracker)
        self.last_error: str | None = None
        self.cycles = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._events_topic_ready = False

    # -- the cycle -------------------------------------------------------------------------
    def run_once(self, only_group: str | None = None) -> list[LagEvent]:
        """Sample, evaluate and publish once; returns the events of this cycle."""
        sample = self.sampler.sample(only_group)
        with self._lock:
            events = self.tracker.record(sample, only_group)
            self.cycles += 1
        self.last_error = "; ".join(sample.errors) or None
        if self.last_error:
            log.warning("lag sampling: %s", self.last_error)
        if events and self.config.events_topic:
            self._publish(events)
        return events

    def _publish(self, events: list[LagEvent]) -> None:
        topic = self.config.events_topic
        assert topic is not None
        records = [
            Record(
                value=json.dumps(event.to_json(), sort_keys=True).encode(),
                key=event.group.encode(),
                timestamp_ms=int(event.at * 1000),
            )
            for event in events
        ]
        try:
            if not self._events_topic_ready:
                with contextlib.suppress(TopicAlreadyExistsError):
                    self.cluster.create_topic(topic, partitions=1)
                self._events_topic_ready = True
            self.cluster.produce(topic, records)
        except EngineError as exc:
            self.last_error = f"appending {len(records)} events to {topic} failed: {exc}"
            log.warning("%s", self.last_error)

    # -- background loop -------------------------------------------------------------------
    def start(self) -> None:
        """Take the first sample now (so the groups that exist are shown, with a verdict or
        PENDING, from the first request on), then run a cycle every interval in a daemon
        thread until `stop`."""
        if self._thread is not None:
            return
        self._stop.clear()
        started = time.monotonic()
        self._cycle()
        self._thread = threading.Thread(
            target=self._loop, args=(started,), name="streamgov-lag", daemon=True
        )
        self._thread.start()

    def _cycle(self) -> None:
        try:
            self.run_once()
        except Exception as exc:  # the loop must outlive any one bad cycle
            self.last_error = f"lag cycle failed: {exc}"
            log.exception("lag cycle failed")

    def _loop(self, started: float) -> None:
        interval = self.config.interval_seconds
        while not self._stop.wait(max(0.0, interval - (time.monotonic() - started))):
            started = time.monotonic()
            self._cycle()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the background loop and wait for the current cycle to end."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    # -- views -----------------------------------------------------------------------------
    def group_list(self) -> GroupList:
        """Every monitored group with status, totals and recommendation."""
        with self._lock:
            return reports.group_list(self.tracker, self.config.interval_seconds)

    def group_detail(self, group: str) -> GroupDetail | None:
        """One group's partitions and recommendation history (None: not monitored)."""
        with self._lock:
            return reports.find_detail(self.tracker, group)

    def keda(self, group: str) -> KedaMetric | None:
        """The KEDA metrics-api value of a group (None: not monitored)."""
        with self._lock:
            return reports.keda_metric(self.tracker, group)

    def metrics_text(self) -> str:
        """Prometheus exposition text."""
        with self._lock:
            return metrics.render(self.tracker, self.cluster.name)
