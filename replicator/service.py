"""Running flows in the background (inside `streamgov up`), and what they report: per-flow
state, per-partition lag, and Prometheus text with MM2's metric names."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.cluster import Cluster
from engine.errors import EngineError
from replicator.flow import Flow
from replicator.worker import Replicator

logger = logging.getLogger(__name__)

Opener = Callable[[], Cluster]


@dataclass
class RunningFlow:
    """One flow's worker thread and its state."""

    flow: Flow
    open_source: Opener
    open_target: Opener
    state: str = "starting"
    error: str = ""
    replicator: Replicator | None = None
    thread: threading.Thread | None = None
    clusters: list[Cluster] = field(default_factory=list)

    def run(self, stop: threading.Event, retry_s: float) -> None:
        """Open both clusters and follow until `stop`; retry after a failure to start."""
        while not stop.is_set():
            try:
                if self.replicator is None:
                    self.clusters = [self.open_source(), self.open_target()]
                    self.replicator = Replicator(self.flow, *self.clusters).start()
                self.state = "running"
                self.replicator.run(stop)
            except (EngineError, OSError, ValueError) as exc:
                self.state, self.error = "failed", str(exc)
                logger.warning("replication flow %s: %s", self.flow.name, exc)
                stop.wait(retry_s)
        self.state = "stopped"


class ReplicationService:
    """The flows `streamgov up` runs, each in its own thread."""

    def __init__(self, flows: list[RunningFlow], retry_s: float = 5.0) -> None:
        self.flows = flows
        self._stop = threading.Event()
        self._retry_s = retry_s

    def start(self) -> ReplicationService:
        """Start every flow's thread."""
        for running in self.flows:
            running.thread = threading.Thread(
                target=running.run,
                args=(self._stop, self._retry_s),
                name=f"replicate-{running.flow.name}",
                daemon=True,
            )
            running.thread.start()
        return self

    def close(self) -> None:
        """Stop the flows and close their clusters."""
        self._stop.set()
        for running in self.flows:
            if running.thread is not None:
                running.thread.join(timeout=30)
            if running.replicator is not None:
                running.replicator.close()
            for cluster in running.clusters:
                cluster.close()

    def find(self, name: str) -> RunningFlow | None:
        """The flow named `source->target`."""
        return next((f for f in self.flows if f.flow.name == name), None)

    def describe(self, running: RunningFlow) -> dict[str, Any]:
        """A flow's settings, state, totals and per-partition lag."""
        partitions = running.replicator.status() if running.replicator is not None else []
        metrics = running.replicator.metrics if running.replicator is not None else None
        copied = metrics.snapshot() if metrics is not None else {}
        return {
            "name": running.flow.name,
            "source": running.flow.source,
            "target": running.flow.target,
            "topics": running.flow.topics,
            "groups": running.flow.groups,
            "policy": running.flow.policy,
            "state": running.state,
            "error": running.error,
            "records": sum(v[0] for v in copied.values()),
            "bytes": sum(v[1] for v in copied.values()),
            "errors": metrics.errors if metrics is not None else 0,
            "lag_records": sum(int(str(p["lag_records"])) for p in partitions),
            "partitions": partitions,
        }

    def metrics_text(self) -> str:
        """Prometheus text: MM2's source-connector metrics per remote partition, plus lag."""
        lines: list[str] = []
        families = {
            "kafka_connect_mirror_source_connector_record_count": (
                "counter",
                "Records replicated to the target.",
            ),
            "kafka_connect_mirror_source_connector_byte_count": (
                "counter",
                "Value bytes replicated to the target.",
            ),
            "kafka_connect_mirror_source_connector_replication_latency_ms": (
                "gauge",
                "Time from the record's timestamp to its acknowledgement by the target.",
            ),
            "kafka_connect_mirror_source_connector_replication_latency_ms_max": (
                "gauge",
                "Largest replication latency seen.",
            ),
            "streamgov_replication_lag_records": (
                "gauge",
                "Source records not yet copied.",
            ),
            "streamgov_replication_lag_ms": (
                "gauge",
                "Age of the newest copied record while the partition is behind.",
            ),
            "streamgov_replication_errors": ("counter", "Errors met by the flow."),
        }
        samples: dict[str, list[str]] = {name: [] for name in families}
        for running in self.flows:
            flow = running.flow
            base = f'source="{flow.source}",target="{flow.target}"'
            r = running.replicator
            if r is None:
                samples["streamgov_replication_errors"].append(f"{{{base}}} 0")
                continue
            for (topic, partition), (records, size, latency, latest) in sorted(
                r.metrics.snapshot().items()
            ):
                labels = f'{{{base},topic="{topic}",partition="{partition}"}}'
                samples["kafka_connect_mirror_source_connector_record_count"].append(
                    f"{labels} {records}"
                )
                samples["kafka_connect_mirror_source_connector_byte_count"].append(
                    f"{labels} {size}"
                )
                samples["kafka_connect_mirror_source_connector_replication_latency_ms"].append(
                    f"{labels} {latency:.0f}"
                )
                samples["kafka_connect_mirror_source_connector_replication_latency_ms_max"].append(
                    f"{labels} {latest:.0f}"
                )
            for row in r.status():
                labels = f'{{{base},topic="{row["remote_topic"]}",partition="{row["partition"]}"}}'
                samples["streamgov_replication_lag_records"].append(
                    f"{labels} {row['lag_records']}"
                )
                samples["streamgov_replication_lag_ms"].append(f"{labels} {row['lag_ms']}")
            samples["streamgov_replication_errors"].append(f"{{{base}}} {r.metrics.errors}")
        for name, (kind, text) in families.items():
            if not samples[name]:
                continue
            lines.append(f"# HELP {name} {text}")
            lines.append(f"# TYPE {name} {kind}")
            lines.extend(f"{name}{sample}" for sample in samples[name])
        return "\n".join(lines) + ("\n" if lines else "")


def wait_running(service: ReplicationService, timeout: float = 30.0) -> bool:
    """Whether every flow reached `running` within `timeout` seconds (for callers that must
    know the flows started)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(f.state == "running" for f in service.flows):
            return True
        time.sleep(0.02)
    return False
