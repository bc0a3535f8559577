"""Audit events: every denied request and every allowed change, as CloudEvents 1.0 JSON (in
the shape of Confluent's audit log records) in the `_audit` topic.

`authorization_event` and `management_event` build the events (pure); `AuditLog` appends them
from a background thread so a request never waits on the write, and reads them back. When
events come faster than they can be written the queue stays bounded and the excess is counted
in `dropped`, never blocking the caller.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from engine.cluster import Cluster
from engine.errors import EngineError, TopicAlreadyExistsError
from engine.types import OffsetSpec, Record

logger = logging.getLogger(__name__)

AUDIT_TOPIC = "_audit"
AUTHORIZATION = "io.streamgov.authorization"
MANAGEMENT = "io.streamgov.management"
_QUEUE_MAX = 10_000
_BATCH = 500


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _event(kind: str, source: str, subject: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": source,
        "type": kind,
        "datacontenttype": "application/json",
        "subject": subject,
        "time": _now(),
        "data": data,
    }


def authorization_event(
    cluster: str,
    principal: str,
    operation: str,
    resource_type: str,
    resource_name: str,
    granted: bool,
    *,
    method: str,
    client_address: str | None = None,
    decided_by: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An authorization decision (`method`: `kafka.Produce`, `rest.POST /subjects/...`)."""
    info: dict[str, Any] = {
        "granted": granted,
        "operation": operation,
        "resourceType": resource_type,
        "resourceName": resource_name,
    }
    if decided_by is not None:
        info["aclAuthorization"] = decided_by
    return _event(
        AUTHORIZATION,
        f"streamgov://{cluster}",
        f"{resource_type}:{resource_name}",
        {
            "serviceName": f"streamgov://{cluster}",
            "methodName": method,
            "resourceName": resource_name,
            "authenticationInfo": {"principal": principal},
            "authorizationInfo": info,
            "requestMetadata": {"clientAddress": client_address},
        },
    )


def management_event(
    cluster: str,
    principal: str,
    method: str,
    resource: str,
    status: int | None = None,
    *,
    client_address: str | None = None,
) -> dict[str, Any]:
    """An allowed change (a registry write, a topic deleted, an ACL added, ...)."""
    return _event(
        MANAGEMENT,
        f"streamgov://{cluster}",
        resource,
        {
            "serviceName": f"streamgov://{cluster}",
            "methodName": method,
            "resourceName": resource,
            "authenticationInfo": {"principal": principal},
            "result": {"status": status},
            "requestMetadata": {"clientAddress": client_address},
        },
    )


class AuditLog:
    """The `_audit` topic: events appended in the background, read back in order."""

    def __init__(self, cluster: Cluster, topic: str = AUDIT_TOPIC) -> None:
        self.cluster = cluster
        self.topic = topic
        self.dropped = 0
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(_QUEUE_MAX)
        self._thread: threading.Thread | None = None

    def ensure(self) -> AuditLog:
        """Create the topic if missing (1 partition, so events keep their order)."""
        if self.topic not in self.cluster.list_topics(include_internal=True):
            with contextlib.suppress(TopicAlreadyExistsError):
                self.cluster.create_topic(self.topic, 1, {"retention.ms": str(90 * 86_400_000)})
        return self

    def start(self) -> AuditLog:
        """Create the topic and start the writer."""
        self.ensure()
        self._thread = threading.Thread(target=self._write_loop, name="audit", daemon=True)
        self._thread.start()
        return self

    def emit(self, event: dict[str, Any]) -> None:
        """Queue an event (never blocks; counted in `dropped` when the queue is full)."""
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self.dropped += 1

    def write(self, events: list[dict[str, Any]]) -> None:
        """Append events now."""
        records = [Record(json.dumps(e, separators=(",", ":")).encode()) for e in events]
        self.cluster.produce(self.topic, records)

    def _write_loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < _BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._flush(batch)
                    return
                batch.append(item)
            self._flush(batch)

    def _flush(self, batch: list[dict[str, Any]]) -> None:
        try:
            self.write(batch)
        except EngineError:
            self.dropped += len(batch)
            logger.exception("audit: %d events could not be written", len(batch))

    def close(self) -> None:
        """Write what is queued, then stop."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def read(self, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """The events from the oldest kept (or the newest `limit`), in order."""
        if self.topic not in self.cluster.list_topics(include_internal=True):
            return
        start = self.cluster.list_offsets(self.topic, OffsetSpec.EARLIEST).get(0, 0)
        end = self.cluster.list_offsets(self.topic, OffsetSpec.LATEST).get(0, 0)
        if limit is not None:
            start = max(start, end - limit)
        for _, event in self._between(start, end):
            yield event

    def page(
        self,
        keep: Callable[[dict[str, Any]], bool],
        limit: int,
        before: int | None = None,
        scan_max: int = 100_000,
    ) -> tuple[list[dict[str, Any]], int | None]:
        """The newest `limit` events `keep` accepts among those before offset `before` (the
        end without it), newest first, and the offset to ask before for the next page (None
        when the oldest kept event was reached). At most `scan_max` events are looked at per
        call, so a filter matching little answers with fewer events and a next offset."""
        if self.topic not in self.cluster.list_topics(include_internal=True):
            return [], None
        start = self.cluster.list_offsets(self.topic, OffsetSpec.EARLIEST).get(0, 0)
        end = self.cluster.list_offsets(self.topic, OffsetSpec.LATEST).get(0, 0)
        high = end if before is None else max(start, min(before, end))
        found: list[dict[str, Any]] = []
        scanned = 0
        while high > start and len(found) < limit and scanned < scan_max:
            low = max(start, high - _BATCH)
            chunk = list(self._between(low, high))
            scanned += high - low
            for offset, event in reversed(chunk):
                if keep(event):
                    found.append(event)
                    if len(found) == limit:
                        return found, offset if offset > start else None
            high = low
        return found, high if high > start else None

    def _between(self, low: int, high: int) -> Iterator[tuple[int, dict[str, Any]]]:
        offset = low
        while offset < high:
            records = self.cluster.fetch(self.topic, 0, offset)
            if not records:
                return
            for record in records:
                if record.offset >= high:
                    return
                offset = record.offset + 1
                if record.value is None:
                    continue
                with contextlib.suppress(ValueError):
                    event = json.loads(record.value)
                    if isinstance(event, dict):
                        yield record.offset, event
