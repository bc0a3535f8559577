"""Per-flow counters: records and bytes copied and replication latency per partition, and
errors, exported in Prometheus text with MM2's metric names. Pure."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class _PartitionMetrics:
    records: int = 0
    bytes: int = 0
    latency_ms: float = 0.0
    latency_max_ms: float = 0.0


@dataclass
class FlowMetrics:
    """What one flow did; thread-safe."""

    flow: str
    errors: int = 0
    last_error: str = ""
    _partitions: dict[tuple[str, int], _PartitionMetrics] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def copied(
        self, topic: str, partition: int, timestamps: Sequence[int], size: int, now_ms: float
    ) -> None:
        """Records of one partition (their timestamps, in order; `size` value bytes, MM2's
        byte-count) landed on the target at `now_ms`; replication latency is now minus a
        record's timestamp."""
        if not timestamps:
            return
        latest, worst = now_ms - timestamps[-1], now_ms - min(timestamps)
        with self._lock:
            m = self._partitions.setdefault((topic, partition), _PartitionMetrics())
            m.records += len(timestamps)
            m.bytes += size
            m.latency_ms = latest
            m.latency_max_ms = max(m.latency_max_ms, worst)

    def error(self, message: str) -> None:
        """Count an error and keep its message."""
        with self._lock:
            self.errors += 1
            self.last_error = message

    def snapshot(self) -> dict[tuple[str, int], tuple[int, int, float, float]]:
        """Per (remote topic, partition): records, bytes, last and max latency (ms)."""
        with self._lock:
            return {
                k: (m.records, m.bytes, m.latency_ms, m.latency_max_ms)
                for k, m in self._partitions.items()
            }
