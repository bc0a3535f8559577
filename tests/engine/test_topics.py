"""Topic-name rules (Kafka's Topic.validate) and topic configuration validation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InvalidConfigError, InvalidPartitionsError, InvalidTopicError
from engine.topics import (
    DEFAULT_CONFIG,
    apply_config_updates,
    collides,
    effective_config,
    is_internal,
    validate_config,
    validate_partitions,
    validate_topic_name,
)

LEGAL = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"


@pytest.mark.parametrize("name", ["orders", "a.b_c-D9", "_schemas", "x" * 249, "..."])
def test_legal_names_pass(name: str) -> None:
    validate_topic_name(name)


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("", "empty"),
        (".", '"." or ".."'),
        ("..", '"." or ".."'),
        ("x" * 250, "longer than 249"),
        ("has space", "character other than"),
        ("slash/name", "character other than"),
        ("ünïcode", "character other than"),
    ],
)
def test_illegal_names_name_the_rule(name: str, rule: str) -> None:
    with pytest.raises(InvalidTopicError, match=rule.replace(".", r"\.").replace('"', '"')):
        validate_topic_name(name)


@settings(deadline=None, max_examples=100)
@given(st.text(min_size=1, max_size=300))
def test_validation_agrees_with_the_rule(name: str) -> None:
    legal = len(name) <= 249 and name not in {".", ".."} and all(ch in LEGAL for ch in name)
    if legal:
        validate_topic_name(name)
    else:
        with pytest.raises(InvalidTopicError):
            validate_topic_name(name)


def test_internal_and_collisions() -> None:
    assert is_internal("_schemas") and is_internal("__consumer_offsets")
    assert not is_internal("orders")
    assert collides("a.b", "a_b") and not collides("a.b", "a.b") and not collides("a", "b")


def test_defaults_are_kafkas() -> None:
    assert DEFAULT_CONFIG["retention.ms"] == "604800000"
    assert DEFAULT_CONFIG["retention.bytes"] == "-1"
    assert DEFAULT_CONFIG["cleanup.policy"] == "delete"
    assert DEFAULT_CONFIG["max.message.bytes"] == "1048588"
    assert DEFAULT_CONFIG["delete.retention.ms"] == "86400000"
    assert DEFAULT_CONFIG["segment.ms"] == "604800000"


def test_valid_config_is_normalised() -> None:
    assert validate_config({"cleanup.policy": "delete, compact", "retention.ms": " -1 "}) == {
        "cleanup.policy": "compact,delete",
        "retention.ms": "-1",
    }
    assert effective_config({"retention.ms": "5"})["retention.ms"] == "5"
    assert effective_config({})["cleanup.policy"] == "delete"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"cleanup.policy": "forever"}, "cleanup.policy.*delete, compact"),
        ({"retention.ms": "-2"}, r"retention.ms.*\[-1, "),
        ({"retention.ms": "soon"}, "retention.ms.*integer"),
        ({"max.message.bytes": "-5"}, "max.message.bytes"),
        ({"segment.ms": "0"}, "segment.ms"),
        ({"message.timestamp.type": "Now"}, "CreateTime, LogAppendTime"),
        ({"no.such.key": "1"}, "Unknown topic config name: no.such.key"),
    ],
)
def test_invalid_config_names_key_and_allowed_values(config: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidConfigError, match=message):
        validate_config(config)


def test_updates_set_and_reset() -> None:
    current = {"retention.ms": "1000", "retention.bytes": "10"}
    updated = apply_config_updates(current, {"retention.ms": None, "cleanup.policy": "compact"})
    assert updated == {"retention.bytes": "10", "cleanup.policy": "compact"}
    assert current == {"retention.ms": "1000", "retention.bytes": "10"}


@pytest.mark.parametrize("count", [0, -1, True, 1.5, 10_001])
def test_partition_counts_are_checked(count: object) -> None:
    with pytest.raises(InvalidPartitionsError):
        validate_partitions(count)  # type: ignore[arg-type]
    assert validate_partitions(3) == 3


def test_internal_topic_risk_names_what_a_change_loses() -> None:
    from engine.topics import internal_topic_risk

    assert internal_topic_risk("orders", "delete") is None
    assert internal_topic_risk("orders_", "delete") is None
    schemas = internal_topic_risk("_schemas", "delete")
    assert schemas is not None and "every schema, subject and id" in schemas
    assert "delete" in schemas
    snapshots = internal_topic_risk("_schemas-snapshots", "reconfigure")
    assert snapshots is not None and "snapshots of the state in _schemas" in snapshots
    other = internal_topic_risk("_private", "delete")
    assert other is not None and "internal state" in other
