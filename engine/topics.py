"""Topic rules shared by every backend: names, internal topics, and topic configuration.

Names follow Kafka's `Topic.validate`; the configuration keys, defaults and validators follow
Kafka's `LogConfig`, restricted to the keys streamgov supports. Errors name the broken rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from engine.errors import InvalidConfigError, InvalidPartitionsError, InvalidTopicError

MAX_NAME_LENGTH = 249
_LEGAL_NAME = re.compile(r"^[a-zA-Z0-9._-]+$")

#: Topics Kafka itself owns; users may not create them.
RESERVED_TOPICS = frozenset({"__consumer_offsets", "__transaction_state"})


def validate_topic_name(name: str) -> None:
    """Raise `InvalidTopicError` naming the rule when `name` is not a legal Kafka topic name."""
    if not isinstance(name, str) or not name:
        raise InvalidTopicError("Topic name is illegal, it can't be empty")
    if name in {".", ".."}:
        raise InvalidTopicError('Topic name cannot be "." or ".."')
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidTopicError(
            f"Topic name is illegal, it can't be longer than {MAX_NAME_LENGTH} characters, "
            f"topic name: {name[:60]}..."
        )
    if not _LEGAL_NAME.match(name):
        raise InvalidTopicError(
            f"Topic name {name!r} is illegal, it contains a character other than "
            "ASCII alphanumerics, '.', '_' and '-'"
        )


def is_internal(name: str) -> bool:
    """Internal topics (state logs, Kafka's own) start with an underscore."""
    return name.startswith("_")


#: What the suite's internal topics hold, named when a change to one is refused.
INTERNAL_TOPIC_CONTENTS: dict[str, str] = {
    "_schemas": "the schema registry's state (every schema, subject and id: the registry "
    "would hand out ids again from 1)",
    "_catalog": "the stream catalog's state (every stream, owner and tag)",
    "_catalog_events": "the catalog's events (deprecations, drift, single-writer violations) "
    "that owners follow",
    "_acls": "every access-control rule",
    "_quotas": "every client quota",
    "_audit": "the audit trail",
    "_lag_signals": "the lag monitor's scaling signals",
    "__consumer_offsets": "Kafka's committed consumer offsets",
    "__transaction_state": "Kafka's transaction state",
}
_SNAPSHOTS_SUFFIX = "-snapshots"


def internal_topic_risk(name: str, action: str) -> str | None:
    """Why `action` (a verb: "delete", "reconfigure") on topic `name` needs an explicit
    override, naming what it would lose; None for a topic that is not internal."""
    if not is_internal(name):
        return None
    holds = INTERNAL_TOPIC_CONTENTS.get(name)
    if holds is None and name.endswith(_SNAPSHOTS_SUFFIX):
        log = name.removesuffix(_SNAPSHOTS_SUFFIX)
        holds = f"snapshots of the state in {log}, which a restart reads instead of the log"
    holds = holds or "internal state of streamgov or of the cluster"
    return f"topic {name!r} is internal: it holds {holds}; to {action} it loses or breaks that"


def unify_collision_chars(name: str) -> str:
    """The name with '.' replaced by '_': two names that unify equal collide in metrics."""
    return name.replace(".", "_")


def collides(name: str, existing: str) -> bool:
    """Whether two different names collide the way Kafka refuses (`a.b` versus `a_b`)."""
    return name != existing and unify_collision_chars(name) == unify_collision_chars(existing)


# -- configuration ------------------------------------------------------------------------

LONG_MAX = 2**63 - 1
INT_MAX = 2**31 - 1


@dataclass(frozen=True, slots=True)
class ConfigKey:
    """One supported topic configuration key: its Kafka default and how to validate a value."""

    name: str
    default: str
    check: Callable[[str, str], str]
    doc: str
    #: Whether the embedded engine acts on the key (others are stored and reported only).
    enforced: bool = True


def _integer(low: int, high: int) -> Callable[[str, str], str]:
    def check(key: str, value: str) -> str:
        try:
            number = int(value.strip())
        except ValueError:
            raise InvalidConfigError(
                f"Invalid value {value!r} for configuration {key}: must be an integer "
                f"in [{low}, {high}]"
            ) from None
        if not low <= number <= high:
            raise InvalidConfigError(
                f"Invalid value {value} for configuration {key}: must be in [{low}, {high}]"
            )
        return str(number)

    return check


def _ratio(key: str, value: str) -> str:
    try:
        number = float(value.strip())
    except ValueError:
        number = -1.0
    if not 0.0 <= number <= 1.0:
        raise InvalidConfigError(
            f"Invalid value {value!r} for configuration {key}: must be a number in [0.0, 1.0]"
        )
    return str(number)


def _choice(*allowed: str) -> Callable[[str, str], str]:
    def check(key: str, value: str) -> str:
        if value.strip() not in allowed:
            raise InvalidConfigError(
                f"Invalid value {value!r} for configuration {key}: "
                f"allowed values are {', '.join(allowed)}"
            )
        return value.strip()

    return check


def _cleanup_policy(key: str, value: str) -> str:
    parts = [part.strip() for part in value.split(",") if part.strip()]
    if not parts or any(part not in {"delete", "compact"} for part in parts):
        raise InvalidConfigError(
            f"Invalid value {value!r} for configuration {key}: allowed values are "
            "delete, compact, or both as compact,delete"
        )
    return ",".join(sorted(set(parts)))


def _boolean(key: str, value: str) -> str:
    lowered = value.strip().lower()
    if lowered not in {"true", "false"}:
        raise InvalidConfigError(
            f"Invalid value {value!r} for configuration {key}: allowed values are true, false"
        )
    return lowered


_KEYS = (
    ConfigKey(
        "cleanup.policy",
        "delete",
        _cleanup_policy,
        "delete (time/size retention), compact (latest value per key), or compact,delete",
    ),
    ConfigKey(
        "retention.ms",
        "604800000",
        _integer(-1, LONG_MAX),
        "Delete records older than this (ms); -1 keeps them forever",
    ),
    ConfigKey(
        "retention.bytes",
        "-1",
        _integer(-1, LONG_MAX),
        "Delete the oldest records while a partition holds more than this; -1 for no limit",
    ),
    ConfigKey(
        "max.message.bytes",
        "1048588",
        _integer(0, INT_MAX),
        "Largest record (key + value + headers) a produce may write",
    ),
    ConfigKey(
        "delete.retention.ms",
        "86400000",
        _integer(0, LONG_MAX),
        "How long tombstones of a compacted topic stay readable (ms)",
    ),
    ConfigKey(
        "min.compaction.lag.ms",
        "0",
        _integer(0, LONG_MAX),
        "Records younger than this (ms) are never compacted away",
    ),
    ConfigKey(
        "message.timestamp.type",
        "CreateTime",
        _choice("CreateTime", "LogAppendTime"),
        "CreateTime keeps the producer's timestamp; LogAppendTime stamps the append time",
    ),
    ConfigKey(
        "segment.ms",
        "604800000",
        _integer(1, LONG_MAX),
        "Segment roll time; accepted for compatibility",
        enforced=False,
    ),
    ConfigKey(
        "segment.bytes",
        "67108864",
        _integer(14, INT_MAX),
        "Size at which a partition's segment file rolls (batches produced through the Kafka "
        "listener); retention frees disk space a whole segment at a time",
    ),
    ConfigKey(
        "max.compaction.lag.ms",
        str(LONG_MAX),
        _integer(1, LONG_MAX),
        "Upper bound before a record must be compacted; accepted for compatibility",
        enforced=False,
    ),
    ConfigKey(
        "min.cleanable.dirty.ratio",
        "0.5",
        _ratio,
        "Dirty ratio that triggers cleaning; accepted for compatibility",
        enforced=False,
    ),
    ConfigKey(
        "compression.type",
        "producer",
        _choice("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"),
        "Compression codec; batches produced through the Kafka listener are kept as produced",
        enforced=False,
    ),
    ConfigKey(
        "min.insync.replicas",
        "1",
        _integer(1, INT_MAX),
        "Replication setting; the embedded engine has one copy",
        enforced=False,
    ),
    ConfigKey(
        "unclean.leader.election.enable",
        "false",
        _boolean,
        "Replication setting; accepted for compatibility",
        enforced=False,
    ),
)

#: Every supported topic configuration key, by name.
CONFIG_KEYS: dict[str, ConfigKey] = {key.name: key for key in _KEYS}

#: Kafka's defaults for every supported key.
DEFAULT_CONFIG: dict[str, str] = {key.name: key.default for key in _KEYS}


def validate_config(config: Mapping[str, str | None] | None) -> dict[str, str | None]:
    """Validate topic config overrides and return them normalised (None values kept: reset).

    Raises `InvalidConfigError` naming the key and the allowed values."""
    result: dict[str, str | None] = {}
    for key, value in (config or {}).items():
        spec = CONFIG_KEYS.get(key)
        if spec is None:
            raise InvalidConfigError(
                f"Unknown topic config name: {key} (supported: {', '.join(sorted(CONFIG_KEYS))})"
            )
        if value is None:
            result[key] = None
            continue
        if not isinstance(value, str):
            value = str(value)
        result[key] = spec.check(key, value)
    return result


def effective_config(overrides: Mapping[str, str]) -> dict[str, str]:
    """Kafka's defaults with the topic's overrides applied."""
    return {**DEFAULT_CONFIG, **overrides}


def apply_config_updates(
    current: Mapping[str, str], updates: Mapping[str, str | None]
) -> dict[str, str]:
    """The overrides after `updates` (validated; None removes the override)."""
    result = dict(current)
    for key, value in validate_config(updates).items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def validate_partitions(count: int) -> int:
    """A partition count must be a positive integer (and not absurdly large)."""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_PARTITIONS:
        raise InvalidPartitionsError(
            f"Number of partitions must be an integer in [1, {MAX_PARTITIONS}], got {count!r}"
        )
    return count


#: Upper bound on partitions per topic (one SQLite table each on the embedded engine).
MAX_PARTITIONS = 10_000
