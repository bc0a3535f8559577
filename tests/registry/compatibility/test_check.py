"""`check`: what every format shares: levels, which versions are checked, in which order."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.compatibility import (
    CompatibilityLevel,
    CompatibilityResult,
    Incompatibility,
    VersionedSchema,
    check,
    pair_incompatibilities,
)
from registry.formats import ParsedSchema, SchemaError, parse_schema


def avro(*fields: tuple[str, str]) -> ParsedSchema:
    body = [{"name": name, "type": kind} for name, kind in fields]
    return parse_schema("AVRO", json.dumps({"type": "record", "name": "R", "fields": body}))


def history(*schemas: ParsedSchema) -> list[VersionedSchema]:
    return [VersionedSchema(index + 1, schema) for index, schema in enumerate(schemas)]


INT = avro(("a", "int"))
LONG = avro(("a", "long"))
STRING = avro(("a", "string"))


@pytest.mark.parametrize("level", list(CompatibilityLevel))
def test_no_existing_versions_is_always_compatible(level: CompatibilityLevel) -> None:
    result = check(STRING, [], level)
    assert result.compatible
    assert result.level is level


def test_none_accepts_anything() -> None:
    assert check(STRING, history(INT), CompatibilityLevel.NONE).compatible


@pytest.mark.parametrize(
    ("level", "compatible"),
    [
        ("BACKWARD", True),
        ("FORWARD", False),
        ("FULL", False),
        ("backward_transitive", True),
        ("Forward_Transitive", False),
        (" FULL_TRANSITIVE ", False),
    ],
)
def test_levels_parse_case_insensitively_and_mean_what_confluent_means(
    level: str, compatible: bool
) -> None:
    # int -> long: the new schema reads old data (BACKWARD); old readers cannot (FORWARD).
    assert check(LONG, history(INT), level).compatible is compatible


def test_unknown_level_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="expected one of NONE, BACKWARD"):
        check(LONG, history(INT), "SIDEWAYS")


def test_level_flags() -> None:
    flags = {
        level: (level.backward, level.forward, level.transitive) for level in CompatibilityLevel
    }
    assert flags == {
        CompatibilityLevel.NONE: (False, False, False),
        CompatibilityLevel.BACKWARD: (True, False, False),
        CompatibilityLevel.BACKWARD_TRANSITIVE: (True, False, True),
        CompatibilityLevel.FORWARD: (False, True, False),
        CompatibilityLevel.FORWARD_TRANSITIVE: (False, True, True),
        CompatibilityLevel.FULL: (True, True, False),
        CompatibilityLevel.FULL_TRANSITIVE: (True, True, True),
    }


def test_non_transitive_checks_only_the_latest_version() -> None:
    # STRING cannot read INT, but only the latest (STRING) is consulted.
    assert check(STRING, history(INT, STRING), "FULL").compatible
    assert not check(STRING, history(INT, STRING), "FULL_TRANSITIVE").compatible


def test_findings_carry_version_and_direction_newest_first() -> None:
    result = check(STRING, history(INT, LONG, STRING), "FULL_TRANSITIVE")
    assert [(item.version, item.direction) for item in result.incompatibilities] == [
        (2, "backward"),
        (2, "forward"),
        (1, "backward"),
        (1, "forward"),
    ]


def test_forward_findings_say_which_version_cannot_read_and_where_the_fix_goes() -> None:
    # int -> long: BACKWARD holds, FORWARD fails because version 1 (int) cannot read long.
    result = check(LONG, history(INT), CompatibilityLevel.FULL)
    (finding,) = result.incompatibilities
    assert finding.direction == "forward" and finding.version == 1
    explained = finding.explained()
    assert explained.startswith("version 1 cannot read data written with the new schema")
    assert explained.endswith("undo this difference in the new schema")
    assert "`int`" in explained and "`long`" in explained
    assert finding.message in explained and not finding.message.startswith("version 1")
    assert explained in result.messages()[0]
    backward = check(INT, history(LONG), CompatibilityLevel.BACKWARD).incompatibilities
    assert backward and backward[0].explained() == backward[0].message


def test_messages_are_confluent_shaped() -> None:
    result = check(STRING, history(INT), "BACKWARD")
    [message] = result.messages()
    assert message.startswith("{errorType:'TYPE_MISMATCH', description:'")
    assert "additionalInfo:'backward check against version 1 at /fields/0/type'" in message


def test_result_is_compatible_exactly_when_nothing_was_found() -> None:
    assert CompatibilityResult(CompatibilityLevel.FULL).compatible
    item = Incompatibility(rule="TYPE_MISMATCH", path="", message="m")
    assert not CompatibilityResult(CompatibilityLevel.FULL, (item,)).compatible


def test_schema_type_change_is_incompatible() -> None:
    try:
        json_schema = parse_schema("JSON", '{"type": "object"}')
    except (ImportError, SchemaError) as exc:  # pragma: no cover - JSON format not available
        pytest.skip(f"JSON Schema format not available: {exc}")
    [item] = pair_incompatibilities(json_schema, INT)
    assert item.rule == "TYPE_MISMATCH"
    assert "AVRO to JSON" in item.message
    assert not check(json_schema, history(INT), "BACKWARD").compatible


SCHEMAS = [INT, LONG, STRING, avro(("a", "double")), avro(("a", "int"), ("b", "string"))]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.sampled_from(SCHEMAS), min_size=1, max_size=5),
    st.sampled_from(SCHEMAS),
)
def test_levels_compose(existing: list[ParsedSchema], new: ParsedSchema) -> None:
    versions = history(*existing)
    results = {level: check(new, versions, level) for level in CompatibilityLevel}
    for base in ("BACKWARD", "FORWARD", "FULL"):
        transitive = results[CompatibilityLevel(f"{base}_TRANSITIVE")]
        latest = results[CompatibilityLevel(base)]
        assert set(latest.incompatibilities) <= set(transitive.incompatibilities)
        assert not transitive.compatible or latest.compatible
    for suffix in ("", "_TRANSITIVE"):
        full = results[CompatibilityLevel(f"FULL{suffix}")]
        backward = results[CompatibilityLevel(f"BACKWARD{suffix}")]
        forward = results[CompatibilityLevel(f"FORWARD{suffix}")]
        assert full.compatible == (backward.compatible and forward.compatible)
        assert set(full.incompatibilities) == set(backward.incompatibilities) | set(
            forward.incompatibilities
        )
    assert results[CompatibilityLevel.NONE].compatible
