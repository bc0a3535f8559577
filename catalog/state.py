"""The catalog's state and the fold that builds it from the `_catalog` log. Pure: no I/O.

Every instance reads the same commands in the same order, so every instance holds the same
catalog. Decisions that must be taken once across instances are taken here, by log order:
the first `claim` of a notification wins, so the owner of a deprecated stream is told exactly
once however many servers evaluate deprecations.

`validate(state, command)` runs every check without changing anything; writers call it before
appending so bad input never reaches the log. Command constructors sit next to the fold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from catalog.model import (
    CatalogError,
    ConflictError,
    Deprecation,
    Lifecycle,
    NotFoundError,
    ObservedProducer,
    Service,
    Stream,
    Tag,
    check_date,
    check_field_path,
    check_names,
    check_service,
    check_tags,
    check_text,
    check_topic,
    check_webhook_url,
    with_field_tags,
    with_tags,
)
from engine.statelog import Command, CommandError, Fold, SnapshotCodec, Unchanged, command

Json = Any

#: Fields of a stream that `stream.upsert` may set (None clears an optional one).
STREAM_FIELDS = ("owner", "namespace", "description", "key_subject", "value_subject")
#: Fields of a service that `service.upsert` may set.
SERVICE_FIELDS = ("team", "description", "contacts", "inputs", "outputs", "groups", "principals")
#: How many producer identities are remembered per stream (the oldest seen is forgotten).
MAX_PRODUCERS_PER_STREAM = 100
MAX_FIELD_TAGS = 1_000


@dataclass
class CatalogState:
    """Everything the catalog knows; built only by `apply`."""

    streams: dict[str, Stream] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    #: topic -> group -> last time the group was seen active on the stream (epoch seconds)
    consumers: dict[str, dict[str, float]] = field(default_factory=dict)
    #: topic -> (principal, client id) -> what was seen
    producers: dict[str, dict[tuple[str, str], ObservedProducer]] = field(default_factory=dict)
    #: notifications already claimed: (kind, topic, deprecation serial)
    claimed: set[tuple[str, str, int]] = field(default_factory=set)
    #: topic -> how many times it was deprecated (a deprecation's serial)
    deprecations: dict[str, int] = field(default_factory=dict)
    #: operator settings kept in the log so every instance (server or CLI) uses the same ones
    settings: dict[str, Json] = field(default_factory=dict)
    #: bumped on every change, so readers can cache derived views (search index, exports)
    revision: int = 0

    def copy(self) -> CatalogState:
        """A copy that later commands do not change (entries are immutable; the containers
        are copied), for readers that work outside the log's lock."""
        return CatalogState(
            streams=dict(self.streams),
            services=dict(self.services),
            consumers={topic: dict(groups) for topic, groups in self.consumers.items()},
            producers={topic: dict(seen) for topic, seen in self.producers.items()},
            claimed=set(self.claimed),
            deprecations=dict(self.deprecations),
            settings=dict(self.settings),
            revision=self.revision,
        )

    def stream(self, topic: str) -> Stream:
        """The stream's entry, or NotFoundError."""
        try:
            return self.streams[topic]
        except KeyError:
            raise NotFoundError(f"stream {topic!r} is not in the catalog") from None

    def service(self, name: str) -> Service:
        """The service's entry, or NotFoundError."""
        try:
            return self.services[name]
        except KeyError:
            raise NotFoundError(f"service {name!r} is not in the catalog") from None

    def owned_by(self, service: str) -> list[Stream]:
        """Streams whose owner is `service`, by topic."""
        return sorted((s for s in self.streams.values() if s.owner == service), key=_topic)

    def readers_of(self, topic: str) -> list[Service]:
        """Services that declare `topic` as an input, by name."""
        return sorted((s for s in self.services.values() if topic in s.inputs), key=_name)

    def writers_of(self, topic: str) -> list[Service]:
        """Services that declare `topic` as an output, by name."""
        return sorted((s for s in self.services.values() if topic in s.outputs), key=_name)

    def service_of_group(self, group: str) -> str | None:
        """The service a consumer group belongs to, if any service claims it."""
        for service in self.services.values():
            if group in service.group_ids():
                return service.name
        return None

    def service_of_producer(self, principal: str | None, client_id: str | None) -> str | None:
        """The service a producer identity belongs to, if any."""
        for service in sorted(self.services.values(), key=_name):
            if service.is_identity(principal, client_id):
                return service.name
        return None


def _topic(stream: Stream) -> str:
    return stream.topic


def _name(service: Service) -> str:
    return service.name


def initial_state() -> CatalogState:
    """The state of an empty log."""
    return CatalogState()


# -- commands -------------------------------------------------------------------------------------


def upsert_stream(
    topic: str,
    *,
    fields: Mapping[str, str | None] | None = None,
    add_tags: Iterable[str] = (),
    remove_tags: Iterable[str] = (),
    field_tags: Mapping[str, Iterable[str]] | None = None,
) -> Command:
    """Create the stream's entry if missing, set the given fields, add and remove tags, and
    set the catalog's tags of schema fields (an empty list removes a field's tags)."""
    built = command(
        "stream.upsert",
        topic=topic,
        fields=dict(fields or {}),
        add_tags=[str(tag) for tag in add_tags],
        remove_tags=list(remove_tags),
    )
    if field_tags:
        built["field_tags"] = {path: [str(t) for t in tags] for path, tags in field_tags.items()}
    return built


def deprecate_stream(
    topic: str,
    *,
    since: str,
    replacement: str | None = None,
    sunset: str | None = None,
    reason: str | None = None,
) -> Command:
    """Mark the stream deprecated (or change its deprecation), since an ISO date."""
    return command(
        "stream.deprecate",
        topic=topic,
        since=since,
        replacement=replacement,
        sunset=sunset,
        reason=reason,
    )


def undeprecate_stream(topic: str) -> Command:
    """Make a deprecated stream active again."""
    return command("stream.undeprecate", topic=topic)


def retire_stream(topic: str, at: float) -> Command:
    """Record that the stream's topic was deleted: its entry stays, marked retired."""
    return command("stream.retire", topic=topic, at=at)


def delete_stream(topic: str) -> Command:
    """Forget the stream's entry (its topic is untouched)."""
    return command("stream.delete", topic=topic)


def upsert_service(name: str, fields: Mapping[str, Json] | None = None) -> Command:
    """Create the service if missing and set the given fields."""
    return command("service.upsert", name=name, fields=dict(fields or {}))


def delete_service(name: str) -> Command:
    """Forget a service; streams it owns keep the owner's name."""
    return command("service.delete", name=name)


def observe_consumer(topic: str, group: str, at: float) -> Command:
    """Record that `group` was active on `topic` at `at` (epoch seconds)."""
    return command("consumer.observe", topic=topic, group=group, at=at)


def forget_consumer(topic: str, group: str) -> Command:
    """Forget an observed consumer (its group no longer has offsets on the stream)."""
    return command("consumer.forget", topic=topic, group=group)


def observe_producer(topic: str, principal: str, client_id: str, at: float) -> Command:
    """Record that a producer identity wrote `topic` at `at`. The outcome is True when this
    identity is new on the stream and is not its owner (a single-writer violation)."""
    return command("producer.observe", topic=topic, principal=principal, client_id=client_id, at=at)


def claim_notification(kind: str, topic: str, serial: int) -> Command:
    """Claim the right to send notification `kind` about the topic's deprecation `serial`.
    The outcome is True for the first claim in log order and False for every later one."""
    return command("notification.claim", kind=kind, topic=topic, serial=serial)


def set_settings(values: Mapping[str, Json]) -> Command:
    """Set operator settings (`webhook_url`, `consumer_horizon_seconds`); None removes one."""
    return command("settings.set", values=dict(values))


# -- the fold -------------------------------------------------------------------------------------


def apply(state: CatalogState, command: Mapping[str, Json]) -> Json:
    """Fold one command into the state and return its outcome (raises CatalogError). The state
    is untouched when this raises: every check runs before any change."""
    try:
        return FOLD.apply(state, command)
    except CommandError as exc:
        raise CatalogError(str(exc)) from None


def validate(state: CatalogState, command: Mapping[str, Json]) -> Json:
    """Run every check `apply` would run, change nothing, and return the would-be outcome."""
    try:
        outcome = FOLD.validate(state, command)
    except CommandError as exc:
        raise CatalogError(str(exc)) from None
    return outcome.value if isinstance(outcome, Unchanged) else outcome


Handler = Callable[[CatalogState, Mapping[str, Json], bool], Json]


def _counted(handler: Handler) -> Handler:
    """The handler, bumping `revision` when it commits a change."""

    def run(state: CatalogState, command: Mapping[str, Json], commit: bool) -> Json:
        outcome = handler(state, command, commit)
        if commit and not isinstance(outcome, Unchanged):
            state.revision += 1
        return outcome

    return run


def _stream_fields(raw: Mapping[str, Json]) -> dict[str, str | None]:
    fields: dict[str, str | None] = {}
    for name, value in raw.items():
        if name not in STREAM_FIELDS:
            raise CatalogError(
                f"unknown stream field {name!r}: use one of {', '.join(STREAM_FIELDS)}"
            )
        if value is None:
            fields[name] = None
        elif name == "owner":
            fields[name] = check_service(value, "owner")
        elif name in {"namespace", "key_subject", "value_subject"}:
            fields[name] = check_text(value, name, 255)
        else:
            fields[name] = check_text(value, name)
    return fields


def _upsert_stream(state: CatalogState, command: Mapping[str, Json], commit: bool) -> Json:
    topic = check_topic(command["topic"])
    fields = _stream_fields(command.get("fields") or {})
    add = check_tags(command.get("add_tags") or [], "tags to add")
    remove = tuple(tag.name for tag in check_tags(command.get("remove_tags") or [], "tags"))
    raw_field_tags = command.get("field_tags") or {}
    if not isinstance(raw_field_tags, Mapping) or len(raw_field_tags) > MAX_FIELD_TAGS:
        raise CatalogError(f"field_tags must map at most {MAX_FIELD_TAGS} field paths to tags")
    field_updates = {
        check_field_path(path): check_tags(tags, f"tags of field {path}")
        for path, tags in raw_field_tags.items()
    }
    current = state.streams.get(topic) or Stream(topic)
    updated = with_tags(replace(current, **fields), add, remove)  # type: ignore[arg-type]
    if field_updates:
        updated = with_field_tags(updated, field_updates)
    if state.streams.get(topic) == updated:
        return Unchanged(updated)
    if commit:
        state.streams[topic] = updated
    return updated


def _deprecate_stream(state: CatalogState, command: Mapping[str, Json], commit: bool) -> Json:
    topic = check_topic(command["topic"])
    stream = state.stream(topic)
    if stream.lifecycle is Lifecycle.RETIRED:
        raise ConflictError(f"stream {topic!r} is retired; it cannot be deprecated")
    replacement = command.get("replacement")
    if replacement is not None:
        check_topic(replacement, "replacement")
        if replacement == topic:
            raise CatalogError(f"stream {topic!r} cannot be its own replacement")
    since = check_date(command.get("since"), "since")
    if since is None:
        raise CatalogError("a deprecation needs the date it starts ('since')")
    sunset = check_date(command.get("sunset"), "sunset")
    if sunset is not None and sunset < since:
        raise CatalogError(f"the sunset date {sunset} is before the deprecation date {since}")
    reason = check_text(command.get("reason"), "reason")
    previous = stream.deprecation
    # Changing the details of a running deprecation keeps its serial (and its notification);
    # deprecating again after an undeprecation starts a new one.
    serial = previous.serial if previous else state.deprecations.get(topic, 0) + 1
    deprecation = Deprecation(since, replacement, sunset, reason, serial)
    updated = replace(stream, lifecycle=Lifecycle.DEPRECATED, deprecation=deprecation)
    if commit:
        state.streams[topic] = updated
        state.deprecations[topic] = serial
    return updated


def _undeprecate_stream(state: CatalogState, command: Mapping[str, Json], commit: bool) -> Json:
    topic = check_topic(command["topic"])
    stream = state.stream(topic)
    if stream.lifecycle is not Lifecycle.DEPRECATED:
        raise ConflictError(f"stream {topic!r} is not deprecated")
    updated = replace(stream, lifecycle=Lifecycle.ACTIVE, deprecation=None)
    if commit:
        state.streams[topic] = updated
    return updated


def _retire_stream(state: CatalogState, command: Mapping[str, Json], commit: bool) -> Json:
    topic = check_topic(command["topic"])
    float(command["at"])  # must be a time; the log keeps it, the state only the lifecycle
    stream = state.streams.get(topic) or Stream(topic)
    updated = replace(stream, lifecycle=Lifecycle.RETIRED)
    if commit:
        state.streams[topic] = updated
        state.consumers.pop(topic, None)
        state.producers.pop(topic, None)
    return updated


def _delete_stream(state: CatalogState, command: Mapping[str, Json], commit: bool) -> Json:
    topic = check_topic(command["topic"])
    stream = state.stream(topic)
    if commit:
        del state.streams[topic]
        state.consumers.pop(topic, None)
        state.producers.pop(topic, None)
    return stream


def _service_fields(raw: Mapping[str, Json]) -> dict[str, Json]:
    fields: dict[str, Json] = {}
    for name, value in raw.items():
        if name not in SERVICE_FIELDS:
            raise CatalogError(
                f"unknown service field {name!r}: use one of {', '.join(SERVICE_FIELDS)}"
            )
        if name in {"team", "description"}:
            fields[name] = check_text(value, name)
        elif name == "contacts":
            fields[name] = tuple(
                sorted({check_text(item, "contact", 255) or "" for item in value or ()} - {""})
            )
        elif name in {"inputs", "outputs"}:
            fields[name] = check_names(value or [], name, check_topic)
        elif name == "groups":
            fields[name] = check_names(value or [], name, _check_group)
        else:
            fields[name] = check_names(value or [], name, _check_principal)
    return fields


def _check_group(value: object, what: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 255:
        raise CatalogError(f"{what}: consumer group {value!r} must be 1-255 characters")
    return value


def _check_principal(value: object, what: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 255:
        raise CatalogError(f"{what}: {value!r} must be 1-255 characters")
    return value


def _upsert_service(state: CatalogState, command: Mapping[str, Json], commit: bool) -> Json:
    name = check_service(command["name"])
    fields = _service_fields(command.get("fields") or {})
    updated = replace(state.services.get(name) or Service(name), **fields)
    if state.services.get(name) == updated:
        return Unchanged(updated)
    for group in updated.groups:
        other = state.service_of_group(group)
        if other is not None and other != name:
            raise ConflictError(f"consumer group {group!r} already belongs to service {other!r}")
    if commit:
        state.services[name] = updated
    return updated


def _delete_service(state: CatalogState, command: Mapping[str, Json], commit: bool) -> Json:
    name = check_service(command["name"])
    service = state.service(name)
    if commit:
        del state.services[name]
    return service


def _observe_consumer(state: CatalogState, command: Mapping[str, Json], commit: bool) -> Json:
    topic = check_topic(command["topic"])
    group = _check_group(command["group"], "group")
    at = float(command["at"])
    if commit:
        seen = state.consumers.setdefault(topic, {})
        seen[group] = max(at, seen.get(group, at))
    return None


def _forget_consumer(state: CatalogState, command: Mapping[str, Json], commit: bool) -> Json:
    topic = check_topic(command["topic"])
    group = _check_group(command["group"], "group")
    if commit:
        seen = state.consumers.get(topic, {})
        seen.pop(group, None)
        if not seen:
            state.consumers.pop(topic, None)
    return None


def _observe_producer(state: CatalogState, command: Mapping[str, Json], commit: bool) -> Json:
    topic = check_topic(command["topic"])
    principal = _check_principal(command["principal"], "principal")
    client_id = str(command.get("client_id") or "")[:255]
    at = float(command["at"])
    seen = state.producers.get(topic, {})
    key = (principal, client_id)
    known = seen.get(key)
    stream = state.streams.get(topic)
    violation = (
        known is None
        and stream is not None
        and stream.owner is not None
        and state.service_of_producer(principal, client_id) != stream.owner
    )
    if commit:
        seen = state.producers.setdefault(topic, {})
        first = known.first_seen if known else at
        seen[key] = ObservedProducer(
            principal, client_id, first, max(at, known.last_seen if known else at)
        )
        if len(seen) > MAX_PRODUCERS_PER_STREAM:
            oldest = min(seen, key=lambda k: seen[k].last_seen)
            del seen[oldest]
    return violation


def _claim_notification(state: CatalogState, command: Mapping[str, Json], commit: bool) -> Json:
    kind = str(command["kind"])
    topic = check_topic(command["topic"])
    serial = int(command["serial"])
    key = (kind, topic, serial)
    first = key not in state.claimed
    if commit and first:
        state.claimed.add(key)
    return first


#: setting -> its check; a setting set to None goes back to its default
SETTINGS: dict[str, Callable[[Json], Json]] = {
    "webhook_url": lambda value: _check_url(value),
    "consumer_horizon_seconds": lambda value: _check_seconds(value),
}


def _check_url(value: Json) -> str:
    if not isinstance(value, str) or len(value) > 2048:
        raise CatalogError("webhook_url must be an http(s) URL of at most 2048 characters")
    return check_webhook_url(value)


def _check_seconds(value: Json) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 <= value <= 10 * 365 * 86400
    ):
        raise CatalogError(
            "consumer_horizon_seconds must be a number of seconds from 0 to 10 years"
        )
    return float(value)


def _set_settings(state: CatalogState, command: Mapping[str, Json], commit: bool) -> Json:
    values = command["values"]
    if not isinstance(values, Mapping):
        raise CatalogError("settings must be an object")
    checked: dict[str, Json] = {}
    for name, value in values.items():
        if name not in SETTINGS:
            raise CatalogError(
                f"unknown catalog setting {name!r}: use one of {', '.join(SETTINGS)}"
            )
        checked[name] = None if value is None else SETTINGS[name](value)
    if commit:
        for name, value in checked.items():
            if value is None:
                state.settings.pop(name, None)
            else:
                state.settings[name] = value
    return dict(state.settings) | checked


_HANDLERS: dict[str, Handler] = {
    "settings.set": _set_settings,
    "stream.upsert": _upsert_stream,
    "stream.deprecate": _deprecate_stream,
    "stream.undeprecate": _undeprecate_stream,
    "stream.retire": _retire_stream,
    "stream.delete": _delete_stream,
    "service.upsert": _upsert_service,
    "service.delete": _delete_service,
    "consumer.observe": _observe_consumer,
    "consumer.forget": _forget_consumer,
    "producer.observe": _observe_producer,
    "notification.claim": _claim_notification,
}

# -- snapshots ------------------------------------------------------------------------------------


def _stream_piece(stream: Stream) -> dict[str, Json]:
    deprecation = stream.deprecation
    return {
        "k": "stream",
        "topic": stream.topic,
        "owner": stream.owner,
        "namespace": stream.namespace,
        "description": stream.description,
        "tags": [str(tag) for tag in stream.tags],
        "lifecycle": stream.lifecycle.value,
        "deprecation": None
        if deprecation is None
        else {**deprecation.to_dict(), "serial": deprecation.serial},
        "key_subject": stream.key_subject,
        "value_subject": stream.value_subject,
        "field_tags": [[path, [str(t) for t in tags]] for path, tags in stream.field_tags],
    }


def _stream_from(piece: Mapping[str, Json]) -> Stream:
    raw = piece["deprecation"]
    return Stream(
        topic=piece["topic"],
        owner=piece["owner"],
        namespace=piece["namespace"],
        description=piece["description"],
        tags=tuple(Tag.parse(tag) for tag in piece["tags"]),
        lifecycle=Lifecycle(piece["lifecycle"]),
        deprecation=None if raw is None else Deprecation(**raw),
        key_subject=piece["key_subject"],
        value_subject=piece["value_subject"],
        field_tags=tuple(
            (path, tuple(Tag.parse(tag) for tag in tags)) for path, tags in piece["field_tags"]
        ),
    )


def dump_state(state: CatalogState) -> Iterator[Json]:
    """The state as JSON pieces for a snapshot (see `load_state`)."""
    for stream in state.streams.values():
        yield _stream_piece(stream)
    for service in state.services.values():
        yield {"k": "service", **service.to_dict(), "groups": list(service.groups)}
    for topic, groups in state.consumers.items():
        yield {"k": "consumers", "topic": topic, "groups": groups}
    for topic, seen in state.producers.items():
        yield {
            "k": "producers",
            "topic": topic,
            "seen": [[p.principal, p.client_id, p.first_seen, p.last_seen] for p in seen.values()],
        }
    yield {
        "k": "rest",
        "claimed": sorted(list(key) for key in state.claimed),
        "deprecations": state.deprecations,
        "settings": state.settings,
        "revision": state.revision,
    }


def load_state(pieces: Iterator[Json]) -> CatalogState:
    """Rebuild the state from `dump_state`'s pieces."""
    state = CatalogState()
    for piece in pieces:
        kind = piece["k"]
        if kind == "stream":
            stream = _stream_from(piece)
            state.streams[stream.topic] = stream
        elif kind == "service":
            fields = {key: piece[key] for key in ("team", "description")}
            lists = ("contacts", "inputs", "outputs", "groups", "principals")
            fields |= {key: tuple(piece[key]) for key in lists}
            state.services[piece["name"]] = Service(piece["name"], **fields)
        elif kind == "consumers":
            state.consumers[piece["topic"]] = {g: float(at) for g, at in piece["groups"].items()}
        elif kind == "producers":
            state.producers[piece["topic"]] = {
                (p, c): ObservedProducer(p, c, float(first), float(last))
                for p, c, first, last in piece["seen"]
            }
        elif kind == "rest":
            state.claimed = {(k, t, int(n)) for k, t, n in piece["claimed"]}
            state.deprecations = {t: int(n) for t, n in piece["deprecations"].items()}
            state.settings = dict(piece["settings"])
            state.revision = int(piece["revision"])
        else:
            raise ValueError(f"unknown snapshot piece {kind!r}")
    return state


FOLD: Fold[CatalogState] = Fold(
    initial_state,
    {op: _counted(handler) for op, handler in _HANDLERS.items()},
    snapshot=SnapshotCodec("catalog-1", dump_state, load_state),
)

__all__ = ["FOLD", "CatalogState", "Tag", "apply", "initial_state", "validate"]
