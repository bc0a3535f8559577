"""What the catalog knows about streams and services: plain, immutable values. Pure: no I/O.

A stream is a topic with an owner (the one service allowed to write it: the single-writer
principle), a namespace, tags, a lifecycle and the subjects that describe its keys and values.
A service is a named piece of software with a team, contacts and its declared inputs and
outputs. Names and tags are validated here so every entry point refuses the same bad values
with the same words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

Json = Any

#: Tags that mean something to governance (masking, access reviews); any other is custom.
PII = "pii"
FINANCIAL = "financial"

MAX_NAME = 249  # Kafka's topic-name limit; also used for services and namespaces
MAX_TEXT = 4_096
MAX_TAGS = 64
MAX_LIST = 1_000

_TAG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
_SERVICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,248}$")
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class CatalogError(Exception):
    """A catalog command or value is not valid; the message names what and why."""

    #: a short machine-readable kind: ``invalid``, ``not_found``, ``conflict``, ``refused``
    kind = "invalid"


class NotFoundError(CatalogError):
    """The stream or service named does not exist in the catalog."""

    kind = "not_found"


class ConflictError(CatalogError):
    """The command contradicts the catalog's current state (for example a second owner)."""

    kind = "conflict"


class Lifecycle(StrEnum):
    """Where a stream is in its life: in use, on its way out, or gone."""

    ACTIVE = "active"
    DEPRECATED = "deprecated"
    RETIRED = "retired"


@dataclass(frozen=True, slots=True, order=True)
class Tag:
    """A tag on a stream or field: a bare name (`pii`) or `name=value` (`retention=legal`)."""

    name: str
    value: str | None = None

    @classmethod
    def parse(cls, text: object) -> Tag:
        """Parse `name` or `name=value`; names are case-insensitive and kept lower-case."""
        if not isinstance(text, str):
            raise CatalogError(f"a tag must be a string like 'pii' or 'name=value', not {text!r}")
        name, sep, value = text.strip().partition("=")
        name = name.strip().lower()
        if not _TAG_NAME.match(name):
            raise CatalogError(
                f"tag {text!r}: a tag name is 1-64 letters, digits, '_', '.', ':' or '-', "
                "starting with a letter or digit"
            )
        if sep and (not value.strip() or len(value) > 256):
            raise CatalogError(f"tag {text!r}: the value after '=' must be 1-256 characters")
        return cls(name, value.strip() if sep else None)

    def __str__(self) -> str:
        return self.name if self.value is None else f"{self.name}={self.value}"


@dataclass(frozen=True, slots=True)
class Deprecation:
    """Why and since when a stream is deprecated, and what replaces it."""

    since: str
    replacement: str | None = None
    sunset: str | None = None
    reason: str | None = None
    #: counts deprecations of this stream, so a notification belongs to one of them
    serial: int = 1

    def to_dict(self) -> dict[str, Json]:
        """JSON form used by the REST API and the CLI."""
        return {
            "since": self.since,
            "replacement": self.replacement,
            "sunset": self.sunset,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Stream:
    """A stream's catalog entry."""

    topic: str
    owner: str | None = None
    namespace: str | None = None
    description: str | None = None
    tags: tuple[Tag, ...] = ()
    lifecycle: Lifecycle = Lifecycle.ACTIVE
    deprecation: Deprecation | None = None
    key_subject: str | None = None
    value_subject: str | None = None
    #: tags the catalog declares on schema fields: (dotted path, tags), by path
    field_tags: tuple[tuple[str, tuple[Tag, ...]], ...] = ()

    def subjects(self) -> tuple[str, str]:
        """The key and value subjects: explicit ones, else Confluent's TopicNameStrategy."""
        return (
            self.key_subject or f"{self.topic}-key",
            self.value_subject or f"{self.topic}-value",
        )

    def has_tag(self, name: str) -> bool:
        """Whether the stream carries the tag `name` (with any value)."""
        return any(tag.name == name for tag in self.tags)

    def to_dict(self) -> dict[str, Json]:
        """JSON form used by the REST API, the CLI and exports."""
        key_subject, value_subject = self.subjects()
        return {
            "topic": self.topic,
            "owner": self.owner,
            "namespace": self.namespace,
            "description": self.description,
            "tags": [str(tag) for tag in self.tags],
            "lifecycle": self.lifecycle.value,
            "deprecated": self.deprecation.to_dict() if self.deprecation else None,
            "key_subject": key_subject,
            "value_subject": value_subject,
            "field_tags": {path: [str(tag) for tag in tags] for path, tags in self.field_tags},
        }


@dataclass(frozen=True, slots=True)
class Service:
    """A service: who runs it and which streams it reads and writes."""

    name: str
    team: str | None = None
    description: str | None = None
    contacts: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    #: consumer groups of this service; empty means "the group named like the service"
    groups: tuple[str, ...] = ()
    #: producer identities of this service (principal names or client ids) besides its name
    principals: tuple[str, ...] = ()

    def group_ids(self) -> tuple[str, ...]:
        """The consumer groups that count as this service."""
        return self.groups or (self.name,)

    def is_identity(self, principal: str | None, client_id: str | None) -> bool:
        """Whether a producer seen as `principal` / `client_id` is this service."""
        names = {self.name, *self.principals}
        user = principal.split(":", 1)[1] if principal and ":" in principal else principal
        return bool(names & {principal, user, client_id} - {None, ""})

    def to_dict(self) -> dict[str, Json]:
        """JSON form used by the REST API, the CLI and exports."""
        return {
            "name": self.name,
            "team": self.team,
            "description": self.description,
            "contacts": list(self.contacts),
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
            "groups": list(self.group_ids()),
            "principals": list(self.principals),
        }


@dataclass(frozen=True, slots=True)
class ObservedProducer:
    """A producer identity seen writing a stream, and when it was last seen."""

    principal: str
    client_id: str
    first_seen: float
    last_seen: float


@dataclass(frozen=True, slots=True)
class CatalogEvent:
    """Something the catalog tells people about, kept in order on the events topic."""

    type: str
    topic: str
    at: float
    details: dict[str, Json] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Json]:
        """The JSON record written to the events topic and shown by `catalog events`."""
        return {"type": self.type, "topic": self.topic, "at": self.at, **self.details}


# -- validation of single values -------------------------------------------------------------


def check_topic(value: object, what: str = "topic") -> str:
    """A Kafka-valid topic name, or CatalogError naming the problem."""
    if not isinstance(value, str) or not _TOPIC_NAME.match(value) or value in {".", ".."}:
        raise CatalogError(
            f"{what} {value!r} is not a valid topic name: 1-249 letters, digits, '.', '_' or '-'"
        )
    return value


def check_service(value: object, what: str = "service") -> str:
    """A valid service name, or CatalogError naming the problem."""
    if not isinstance(value, str) or not _SERVICE_NAME.match(value):
        raise CatalogError(
            f"{what} {value!r} is not a valid name: 1-249 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return value


def check_text(value: object, what: str, limit: int = MAX_TEXT) -> str | None:
    """Optional free text up to `limit` characters."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise CatalogError(f"{what} must be text of at most {limit} characters")
    return value


def check_date(value: object, what: str) -> str | None:
    """An optional ISO date (YYYY-MM-DD)."""
    if value is None:
        return None
    if not isinstance(value, str) or not _DATE.match(value):
        raise CatalogError(f"{what} {value!r} is not a date: use YYYY-MM-DD")
    return value


def check_tags(values: object, what: str = "tags") -> tuple[Tag, ...]:
    """A list of tags, parsed, de-duplicated by name (the last value wins) and sorted."""
    if not isinstance(values, list | tuple):
        raise CatalogError(f"{what} must be a list of tags")
    if len(values) > MAX_TAGS:
        raise CatalogError(f"{what}: at most {MAX_TAGS} tags")
    by_name = {tag.name: tag for tag in (Tag.parse(value) for value in values)}
    return tuple(sorted(by_name.values()))


def check_names(values: object, what: str, check: Any = check_service) -> tuple[str, ...]:
    """A list of names, each checked with `check`, de-duplicated and sorted."""
    if not isinstance(values, list | tuple):
        raise CatalogError(f"{what} must be a list")
    if len(values) > MAX_LIST:
        raise CatalogError(f"{what}: at most {MAX_LIST} entries")
    return tuple(sorted({check(value, what) for value in values}))


def with_field_tags(stream: Stream, updates: dict[str, tuple[Tag, ...]]) -> Stream:
    """The stream with catalog field tags set per path (an empty tuple removes the path)."""
    merged = dict(stream.field_tags)
    for path, tags in updates.items():
        if tags:
            merged[path] = tags
        else:
            merged.pop(path, None)
    return replace(stream, field_tags=tuple(sorted(merged.items())))


def check_field_path(value: object) -> str:
    """A dotted field path such as `customer.email`."""
    if not isinstance(value, str) or not value or len(value) > 512 or value.strip() != value:
        raise CatalogError(f"field path {value!r} must be 1-512 characters, like customer.email")
    return value


def with_tags(stream: Stream, add: tuple[Tag, ...], remove: tuple[str, ...]) -> Stream:
    """The stream with tags added (replacing a tag of the same name) and removed by name."""
    by_name = {tag.name: tag for tag in stream.tags}
    for name in remove:
        by_name.pop(name, None)
    for tag in add:
        by_name[tag.name] = tag
    return replace(stream, tags=tuple(sorted(by_name.values())))


def check_webhook_url(url: str) -> str:
    """An http(s) URL with a host, or CatalogError naming what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise CatalogError(
            f"webhook URL {redact_url(url)!r} must be http:// or https:// with a host"
        )
    return url


def redact_url(url: str) -> str:
    """The URL with any user:password replaced, for messages and logs."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return parts._replace(netloc=f"***@{netloc}").geturl()
