"""Telling people about catalog events: the `_catalog_events` topic and an optional webhook.

The webhook URL is an operator setting (from `streamgov.yaml` or `streamgov catalog webhook`),
never something a request or a schema supplies. Delivery retries with backoff and a timeout,
and gives up with a log line: a failing receiver never blocks the catalog.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import httpx

from catalog.model import CatalogEvent, check_webhook_url, redact_url
from engine.cluster import Cluster
from engine.errors import TopicAlreadyExistsError
from engine.types import OffsetSpec, Record

logger = logging.getLogger(__name__)

EVENTS_TOPIC = "_catalog_events"
#: The events topic keeps a year of events.
EVENTS_TOPIC_CONFIG = {"retention.ms": str(365 * 24 * 3600 * 1000), "cleanup.policy": "delete"}
MAX_EVENTS_READ = 10_000


class Webhook(Protocol):
    """Something that delivers one event somewhere; returns whether it was accepted."""

    def deliver(self, event: CatalogEvent) -> bool:
        """Deliver the event; never raises."""
        ...


@dataclass
class HttpWebhook:
    """POSTs each event as JSON, retrying on errors and 5xx with exponential backoff."""

    url: str
    timeout_seconds: float = 5.0
    attempts: int = 4
    backoff_seconds: float = 0.5
    transport: httpx.BaseTransport | None = None
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        check_webhook_url(self.url)

    def deliver(self, event: CatalogEvent) -> bool:
        """POST the event; True once a 2xx answer arrives, False after the last attempt."""
        body = event.to_dict()
        with httpx.Client(
            timeout=self.timeout_seconds, transport=self.transport, follow_redirects=False
        ) as client:
            for attempt in range(self.attempts):
                try:
                    response = client.post(self.url, json=body)
                    if response.status_code < 300:
                        return True
                    reason = f"HTTP {response.status_code}"
                    if 400 <= response.status_code < 500 and response.status_code != 429:
                        break  # the receiver refuses this event; retrying will not help
                except httpx.HTTPError as exc:
                    reason = type(exc).__name__
                logger.warning(
                    "catalog webhook %s: attempt %d failed (%s)",
                    redact_url(self.url),
                    attempt + 1,
                    reason,
                )
                if attempt + 1 < self.attempts:
                    self.sleep(self.backoff_seconds * (2**attempt))
        logger.error("catalog webhook %s: gave up on %s event", redact_url(self.url), event.type)
        return False


class EventLog:
    """The `_catalog_events` topic: events appended as JSON records, read back in order."""

    def __init__(self, cluster: Cluster, topic: str = EVENTS_TOPIC) -> None:
        self._cluster = cluster
        self.topic = topic

    def ensure(self) -> None:
        """Create the events topic if it is missing."""
        if self.topic not in self._cluster.list_topics(include_internal=True):
            with contextlib.suppress(TopicAlreadyExistsError):
                self._cluster.create_topic(self.topic, 1, EVENTS_TOPIC_CONFIG)

    def append(self, event: CatalogEvent) -> None:
        """Write one event."""
        payload = json.dumps(event.to_dict(), sort_keys=True, separators=(",", ":")).encode()
        self._cluster.produce(self.topic, [Record(payload, key=event.topic.encode(), partition=0)])

    def read(self, limit: int = MAX_EVENTS_READ) -> list[dict[str, object]]:
        """The newest `limit` events, oldest first."""
        if self.topic not in self._cluster.list_topics(include_internal=True):
            return []
        end = self._cluster.list_offsets(self.topic, OffsetSpec.LATEST).get(0, 0)
        start = max(
            self._cluster.list_offsets(self.topic, OffsetSpec.EARLIEST).get(0, 0), end - limit
        )
        events: list[dict[str, object]] = []
        offset = start
        while offset < end:
            records = self._cluster.fetch(self.topic, 0, offset, 1000)
            if not records:
                break
            for record in records:
                try:
                    value = json.loads(record.value or b"")
                except ValueError:
                    continue
                if isinstance(value, dict):
                    events.append(value)
                offset = record.offset + 1
        return events
