"""The catalog service: the fold over `_catalog` kept current, reads that see the latest
writes, writes validated before they reach the log, consumer observation and the deprecation
workflow. The REST router and the CLI are thin layers over this class.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from catalog import state as commands
from catalog.consumers import (
    DEFAULT_HORIZON_SECONDS,
    ConsumerView,
    DeprecationStatus,
    GroupObservation,
    activity_updates,
    consumers_of,
    deprecation_statuses,
)
from catalog.drift import SINGLE_WRITER_VIOLATION, Drift, stream_drift
from catalog.fields import FieldInfo, SchemaSource, stream_fields
from catalog.model import CatalogError, CatalogEvent, ConflictError, Lifecycle, Service, Stream
from catalog.notify import EVENTS_TOPIC, EventLog, HttpWebhook, Webhook
from catalog.observer import observe_groups
from catalog.search import SearchDocument, SearchHit, SearchIndex, split_words
from catalog.state import CatalogState
from engine.cluster import Cluster
from engine.errors import EngineError, UnknownTopicOrPartitionError
from engine.statelog import CommandError, CommandTooLargeError, StateLog
from engine.topics import internal_topic_risk

logger = logging.getLogger(__name__)

CATALOG_TOPIC = "_catalog"
#: How often queued producer sightings are recorded.
SIGHTINGS_INTERVAL_S = 1.0
MAX_QUEUED_SIGHTINGS = 100_000
NO_CONSUMERS_LEFT = "no_consumers_left"


@dataclass
class CatalogSettings:
    """Where the catalog keeps its state and how often it looks at the cluster."""

    topic: str = CATALOG_TOPIC
    events_topic: str = EVENTS_TOPIC
    #: how often a server observes consumers and evaluates deprecations
    interval_seconds: float = 30.0
    #: an active consumer is recorded at most this often
    activity_refresh_seconds: float = 60.0
    #: a producer identity is recorded at most this often
    producer_refresh_seconds: float = 60.0
    readonly: bool = False


@dataclass(frozen=True, slots=True)
class StreamDetail:
    """Everything `catalog describe` shows about one stream."""

    stream: Stream
    consumers: tuple[ConsumerView, ...]
    producers: tuple[dict[str, Any], ...]
    fields: tuple[FieldInfo, ...]
    drift: tuple[Drift, ...]
    exists: bool

    def to_dict(self) -> dict[str, Any]:
        """The shape of `catalog describe --format json` and `GET /catalog/streams/{topic}`."""
        return {
            **self.stream.to_dict(),
            "exists": self.exists,
            "consumers": [view.group for view in self.consumers if view.observed or view.declared],
            "consumer_details": [view.to_dict() for view in self.consumers],
            "producers": list(self.producers),
            "fields": [field.to_dict() for field in self.fields],
            "drift": [item.to_dict() for item in self.drift],
        }


class Catalog:
    """The stream catalog over one cluster (see the module docstring)."""

    def __init__(
        self,
        cluster: Cluster,
        settings: CatalogSettings | None = None,
        *,
        schemas: SchemaSource | None = None,
        clock: Callable[[], float] = time.time,
        webhook_factory: Callable[[str], Webhook] = HttpWebhook,
    ) -> None:
        self.cluster = cluster
        self.settings = settings or CatalogSettings()
        self._schemas = schemas
        self._clock = clock
        self._webhook_factory = webhook_factory
        self._log: StateLog[CatalogState] = StateLog(cluster, self.settings.topic, commands.FOLD)
        self.events = EventLog(cluster, self.settings.events_topic)
        self._search = SearchIndex()
        self._search_revision = -1
        self._search_lock = threading.Lock()
        self._previous: dict[str, GroupObservation] = {}
        self._producers_seen: dict[tuple[str, str, str], float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: producer sightings from the Kafka listener, recorded by the background loop
        self._sightings: collections.deque[tuple[str, str, str]] = collections.deque(
            maxlen=MAX_QUEUED_SIGHTINGS
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Catalog:
        """Create the topics if missing and read the log."""
        self._log.start()
        if not self.settings.readonly:
            self.events.ensure()
        return self

    def run_in_background(self) -> None:
        """Observe consumers and evaluate deprecations every `interval_seconds`."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="catalog", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the background loop and the log."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._log.close()

    def _loop(self) -> None:
        next_evaluation = time.monotonic() + self.settings.interval_seconds
        while not self._stop.wait(min(SIGHTINGS_INTERVAL_S, self.settings.interval_seconds)):
            try:
                self.record_sightings()
                if time.monotonic() >= next_evaluation:
                    next_evaluation = time.monotonic() + self.settings.interval_seconds
                    self.evaluate()
            except Exception:  # the loop must survive a bad cycle; the next one retries
                logger.exception("catalog: evaluation cycle failed")

    def observe_produce(self, principal: str, client_id: str, topic: str) -> None:
        """Queue a producer sighting (the Kafka listener calls this on every produce, so it
        only appends to a bounded queue); the background loop records them."""
        self._sightings.append((topic, principal, client_id))

    def record_sightings(self) -> int:
        """Record the queued producer sightings; returns how many were taken."""
        taken = 0
        while self._sightings:
            topic, principal, client_id = self._sightings.popleft()
            self.record_produce(topic, principal, client_id)
            taken += 1
        return taken

    # -- reads -------------------------------------------------------------------------------

    def state(self) -> CatalogState:
        """A copy of the state caught up with the log, safe to read while others write."""
        with self._log.read() as state:
            return state.copy()

    def _current(self) -> CatalogState:
        """A copy of the local state without catching up (no I/O)."""
        with self._log.current() as state:
            return state.copy()

    def streams(self) -> list[Stream]:
        """Every stream in the catalog, by topic."""
        return [stream for _, stream in sorted(self.state().streams.items())]

    def stream(self, topic: str) -> Stream:
        """One stream's entry (NotFoundError when the catalog does not know it)."""
        return self.state().stream(topic)

    def services(self) -> list[Service]:
        """Every service, by name."""
        return [service for _, service in sorted(self.state().services.items())]

    def service(self, name: str) -> Service:
        """One service (NotFoundError when unknown)."""
        return self.state().service(name)

    def describe(
        self, topic: str, observations: Mapping[str, GroupObservation] | None = None
    ) -> StreamDetail:
        """A stream with its consumers, producers, fields and drift. A topic that exists on the
        cluster but not in the catalog is described as an unowned active stream."""
        state = self.state()
        exists = topic in self.cluster.list_topics(include_internal=True)
        stream = state.streams.get(topic)
        if stream is None:
            if not exists:
                state.stream(topic)  # raises NotFoundError
            stream = Stream(topic)
        observed = self.observe() if observations is None else observations
        consumers = consumers_of(state, topic, observed, self._clock(), self.horizon_seconds())
        producers = tuple(
            {
                "principal": seen.principal,
                "client_id": seen.client_id,
                "first_seen": seen.first_seen,
                "last_seen": seen.last_seen,
                "owner": state.service_of_producer(seen.principal, seen.client_id) == stream.owner,
            }
            for seen in sorted(
                state.producers.get(topic, {}).values(), key=lambda s: (s.principal, s.client_id)
            )
        )
        return StreamDetail(
            stream=stream,
            consumers=tuple(consumers),
            producers=producers,
            fields=tuple(self.fields(stream)),
            drift=tuple(stream_drift(state, topic, consumers)),
            exists=exists,
        )

    def fields(self, stream: Stream) -> list[FieldInfo]:
        """The stream's schema fields with their schema and catalog tags."""
        try:
            return stream_fields(stream, self._schemas)
        except Exception as exc:  # a schema the catalog cannot read must not hide the stream
            logger.info("catalog: fields of %s could not be read: %s", stream.topic, exc)
            return stream_fields(stream, None)

    def fields_with_tag(self, tag: str) -> list[dict[str, Any]]:
        """Streams carrying `tag` on the stream itself or on any field, with those fields."""
        found = []
        for stream in self.streams():
            fields = [
                f.to_dict() for f in self.fields(stream) if any(t.name == tag for t in f.tags)
            ]
            if fields or stream.has_tag(tag):
                found.append(
                    {"topic": stream.topic, "stream_tag": stream.has_tag(tag), "fields": fields}
                )
        return found

    def schema_text(self, subject: str) -> tuple[str, str] | None:
        """(schemaType, text) of the subject's latest schema, for exports."""
        parsed = self._schemas.latest(subject) if self._schemas is not None else None
        return (parsed.schema_type.value, parsed.raw) if parsed is not None else None

    def horizon_seconds(self) -> float:
        """How long an idle consumer keeps counting (a catalog setting, default 7 days)."""
        with self._log.current() as state:
            value = state.settings.get("consumer_horizon_seconds")
        return float(value) if value is not None else DEFAULT_HORIZON_SECONDS

    def search(self, text: str, limit: int = 20) -> list[SearchHit]:
        """Ranked full-text search over streams (see `catalog.search`)."""
        state = self.state()
        with self._search_lock:
            if self._search_revision != state.revision:
                self._search.rebuild(self._documents(state))
                self._search_revision = state.revision
            return self._search.search(text, limit)

    def _documents(self, state: CatalogState) -> Iterable[SearchDocument]:
        known = set(state.streams)
        topics = sorted(known | set(self._cluster_topics()))
        for topic in topics:
            stream = state.streams.get(topic) or Stream(topic)
            fields = self.fields(stream) if topic in known else []
            field_words = " ".join(
                split_words(f.path) + " " + " ".join(str(t) for t in f.tags) for f in fields
            )
            yield SearchDocument(
                topic=topic,
                owner=stream.owner or "",
                namespace=stream.namespace or "",
                description=stream.description or "",
                tags=" ".join(str(tag) for tag in stream.tags),
                fields=field_words,
            )

    def _cluster_topics(self) -> list[str]:
        try:
            return self.cluster.list_topics()
        except EngineError:
            return []

    # -- writes ------------------------------------------------------------------------------

    def write(self, command: Mapping[str, Any]) -> Any:
        """Validate `command` against the current state, then append it and return its
        outcome. Bad commands raise CatalogError and never reach the log; a command that
        would change nothing is answered without being appended."""
        if self.settings.readonly:
            raise CatalogError("the catalog is read-only on this server")
        try:
            return self._log.write(command)
        except CommandError as exc:
            raise CatalogError(str(exc)) from None
        except CommandTooLargeError as exc:
            raise CatalogError(f"the change is too large to store: {exc}") from None

    def tag(
        self,
        topic: str,
        *,
        owner: str | None = None,
        namespace: str | None = None,
        description: str | None = None,
        key_subject: str | None = None,
        value_subject: str | None = None,
        add_tags: Iterable[str] = (),
        remove_tags: Iterable[str] = (),
        field_tags: Mapping[str, Iterable[str]] | None = None,
    ) -> Stream:
        """Create or update a stream's entry; only the given fields change."""
        given = {
            "owner": owner,
            "namespace": namespace,
            "description": description,
            "key_subject": key_subject,
            "value_subject": value_subject,
        }
        fields = {name: value for name, value in given.items() if value is not None}
        result: Stream = self.write(
            commands.upsert_stream(
                topic,
                fields=fields,
                add_tags=add_tags,
                remove_tags=remove_tags,
                field_tags=field_tags,
            )
        )
        return result

    def deprecate(
        self,
        topic: str,
        *,
        replacement: str | None = None,
        sunset: str | None = None,
        reason: str | None = None,
        since: str | None = None,
    ) -> Stream:
        """Deprecate a stream (its entry is created if the topic exists but is not catalogued)."""
        state = self.state()
        if topic not in state.streams:
            if topic not in self.cluster.list_topics(include_internal=True):
                state.stream(topic)  # NotFoundError, naming the stream
            self.write(commands.upsert_stream(topic))
        today = dt.datetime.fromtimestamp(self._clock(), dt.UTC).date().isoformat()
        result: Stream = self.write(
            commands.deprecate_stream(
                topic, since=since or today, replacement=replacement, sunset=sunset, reason=reason
            )
        )
        return result

    def undeprecate(self, topic: str) -> Stream:
        """Make a deprecated stream active again."""
        result: Stream = self.write(commands.undeprecate_stream(topic))
        return result

    def put_service(self, name: str, **fields: Any) -> Service:
        """Create or update a service; only the given fields change."""
        result: Service = self.write(commands.upsert_service(name, fields))
        return result

    def delete_service(self, name: str) -> Service:
        """Forget a service."""
        result: Service = self.write(commands.delete_service(name))
        return result

    def set_settings(self, **values: Any) -> dict[str, Any]:
        """Change operator settings (`webhook_url`, `consumer_horizon_seconds`)."""
        result: dict[str, Any] = self.write(commands.set_settings(values))
        return result

    def retire(self, topic: str, *, force: bool = False) -> dict[str, Any]:
        """Delete a stream's topic and mark its entry retired. Only a deprecated stream that is
        safe to delete may go, unless `force`, which names the consumers it breaks. Internal
        topics are never retired (`streamgov topics delete --internal` deletes them)."""
        risk = internal_topic_risk(topic, "delete")
        if risk is not None:
            raise ConflictError(
                f"{risk}; the catalog does not retire internal topics (`streamgov topics "
                "delete --internal` deletes one)"
            )
        status = self.deprecation(topic)
        breaks = status.counting if status else self._counting_consumers(topic)
        if not force:
            if status is None:
                raise ConflictError(
                    f"stream {topic!r} is not deprecated: deprecate it first, or use --force"
                )
            if breaks:
                raise ConflictError(
                    f"stream {topic!r} still has consumers ({', '.join(breaks)}): it is not safe "
                    "to delete; wait for them to move, or use --force"
                )
        with contextlib.suppress(UnknownTopicOrPartitionError):
            self.cluster.delete_topic(topic)
        self.write(commands.retire_stream(topic, self._clock()))
        return {"topic": topic, "retired": True, "forced": force, "broken_consumers": breaks}

    def _counting_consumers(self, topic: str) -> list[str]:
        views = consumers_of(
            self.state(), topic, self.observe(), self._clock(), self.horizon_seconds()
        )
        return [view.group for view in views if view.counts]

    # -- observation and the deprecation workflow --------------------------------------------

    def observe(self) -> dict[str, GroupObservation]:
        """Read consumer groups off the cluster and record which are active on which stream."""
        observations = observe_groups(self.cluster)
        if self.settings.readonly:
            return observations
        now = self._clock()
        record, forget = activity_updates(
            self.state(), observations, self._previous, now, self.settings.activity_refresh_seconds
        )
        for topic, group in record:
            self._log.write(commands.observe_consumer(topic, group, now))
        for topic, group in forget:
            self._log.write(commands.forget_consumer(topic, group))
        self._previous = observations
        return observations

    def deprecation(self, topic: str) -> DeprecationStatus | None:
        """The deprecation status of one stream (None when it is not deprecated)."""
        for status in self.deprecations(notify=False):
            if status.stream.topic == topic:
                return status
        return None

    def deprecations(self, *, notify: bool = True) -> list[DeprecationStatus]:
        """Every deprecated stream with the consumers that still count; with `notify`, the
        owner of each stream that became safe to delete is told once (event and webhook)."""
        observations = self.observe()
        state = self.state()
        statuses = deprecation_statuses(state, observations, self._clock(), self.horizon_seconds())
        if notify and not self.settings.readonly:
            for status in statuses:
                if status.safe_to_delete and status.stream.deprecation is not None:
                    self._notify_safe(status)
        return statuses

    evaluate = deprecations

    def _notify_safe(self, status: DeprecationStatus) -> None:
        stream = status.stream
        assert stream.deprecation is not None
        key = (NO_CONSUMERS_LEFT, stream.topic, stream.deprecation.serial)
        with self._log.current() as state:
            if key in state.claimed:
                return
        won = self._log.write(
            commands.claim_notification(NO_CONSUMERS_LEFT, stream.topic, stream.deprecation.serial)
        )
        if not won:
            return  # another instance told the owner
        event = CatalogEvent(
            NO_CONSUMERS_LEFT,
            stream.topic,
            self._clock(),
            {
                "owner": stream.owner,
                "replacement": stream.deprecation.replacement,
                "message": f"no consumer is left on deprecated stream {stream.topic}; "
                "it is safe to delete",
            },
        )
        self._emit(event)

    def _emit(self, event: CatalogEvent) -> None:
        self.events.append(event)
        with self._log.current() as state:
            url = state.settings.get("webhook_url")
        if url:
            self._webhook_factory(str(url)).deliver(event)

    def record_produce(self, topic: str, principal: str, client_id: str) -> None:
        """Note that a producer identity wrote `topic` (called by the Kafka listener). A new
        identity that is not the stream's owner is a single-writer violation: an event."""
        now = self._clock()
        key = (topic, principal, client_id)
        if (
            now - self._producers_seen.get(key, float("-inf"))
            < self.settings.producer_refresh_seconds
        ):
            return
        self._producers_seen[key] = now
        if self.settings.readonly or topic.startswith("_"):
            return
        violation = self._log.write(commands.observe_producer(topic, principal, client_id, now))
        if violation:
            stream = self._current().streams.get(topic)
            self._emit(
                CatalogEvent(
                    SINGLE_WRITER_VIOLATION,
                    topic,
                    now,
                    {
                        "owner": stream.owner if stream else None,
                        "principal": principal,
                        "client_id": client_id,
                        "message": f"{principal} wrote to {topic}, but only its owner may",
                    },
                )
            )

    def lifecycle_counts(self) -> dict[str, int]:
        """How many streams are in each lifecycle state (for metrics and the TUI)."""
        counts = {lifecycle.value: 0 for lifecycle in Lifecycle}
        for stream in self.state().streams.values():
            counts[stream.lifecycle.value] += 1
        return counts
