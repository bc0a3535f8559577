"""Known JSON Schema evolutions and Confluent's verdict on each, in both directions.

Each case reads "the old schema, the new schema, the rules a BACKWARD check reports" (empty
when compatible). Many mirror Confluent's own `diff-schema-examples.json`; FORWARD is the
same check with the schemas swapped.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from registry.compatibility import CompatibilityLevel, VersionedSchema, check
from registry.compatibility.jsonschema import incompatibilities
from registry.formats.base import parse_schema
from registry.formats.jsonschema import JsonSchema

Case = tuple[str, Any, Any, set[str]]


def parse(document: Any) -> JsonSchema:
    parsed = parse_schema("JSON", json.dumps(document))
    assert isinstance(parsed, JsonSchema)
    return parsed


def rules(old: Any, new: Any) -> set[str]:
    """The rules a BACKWARD check of `new` against `old` reports."""
    return {item.rule for item in incompatibilities(parse(new), parse(old))}


def obj(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, **extra}


S = {"type": "string"}
N = {"type": "number"}
I = {"type": "integer"}  # noqa: E741

CASES: list[Case] = [
    # ---- anything to the empty schema, annotations
    ("anything to empty", {"properties": {}}, {}, set()),
    ("title changed", {"title": "a"}, {"title": "b"}, set()),
    ("description changed", {"description": "a"}, {"description": "b"}, set()),
    ("id changed", {"$id": "urn:a"}, {"$id": "urn:b"}, set()),
    # ---- types
    ("object to array", {"type": "object"}, {"type": "array"}, {"TYPE_CHANGED"}),
    ("number to integer", N, I, {"TYPE_NARROWED"}),
    ("integer to number", I, N, set()),
    ("type list extended", {"type": ["object"]}, {"type": ["object", "array"]}, set()),
    ("type list narrowed", {"type": ["string", "null"]}, S, {"TYPE_NARROWED"}),
    ("any to string", {}, S, {"TYPE_NARROWED"}),
    ("string to false", S, False, {"TYPE_CHANGED"}),
    ("false to string", False, S, set()),
    # ---- strings
    (
        "minLength increased",
        {**S, "minLength": 10},
        {**S, "minLength": 11},
        {"MIN_LENGTH_INCREASED"},
    ),
    ("minLength decreased", {**S, "minLength": 11}, {**S, "minLength": 10}, set()),
    ("minLength added", S, {**S, "minLength": 1}, {"MIN_LENGTH_ADDED"}),
    ("minLength 0 added", S, {**S, "minLength": 0}, set()),
    ("maxLength increased", {**S, "maxLength": 10}, {**S, "maxLength": 12}, set()),
    (
        "maxLength decreased",
        {**S, "maxLength": 12},
        {**S, "maxLength": 10},
        {"MAX_LENGTH_DECREASED"},
    ),
    ("maxLength added", S, {**S, "maxLength": 10}, {"MAX_LENGTH_ADDED"}),
    ("maxLength removed", {**S, "maxLength": 10}, S, set()),
    ("pattern removed", {**S, "pattern": "uuid"}, S, set()),
    (
        "pattern changed",
        {**S, "pattern": "date-time"},
        {**S, "pattern": "uuid"},
        {"PATTERN_CHANGED"},
    ),
    ("pattern unchanged", {**S, "pattern": "x"}, {**S, "pattern": "x"}, set()),
    ("pattern added", S, {**S, "pattern": "^a"}, {"PATTERN_ADDED"}),
    # ---- numbers
    ("maximum removed", {**N, "maximum": 10}, N, set()),
    ("maximum increased", {**N, "maximum": 10}, {**N, "maximum": 11}, set()),
    ("maximum decreased", {**N, "maximum": 11}, {**N, "maximum": 10}, {"MAXIMUM_DECREASED"}),
    ("maximum added", N, {**N, "maximum": 10}, {"MAXIMUM_ADDED"}),
    ("minimum removed", {**N, "minimum": 10}, N, set()),
    ("minimum increased", {**N, "minimum": 10}, {**N, "minimum": 11}, {"MINIMUM_INCREASED"}),
    ("minimum decreased", {**N, "minimum": 11}, {**N, "minimum": 10}, set()),
    ("minimum added", N, {**N, "minimum": 0}, {"MINIMUM_ADDED"}),
    ("exclusiveMaximum added", N, {**N, "exclusiveMaximum": 5}, {"EXCLUSIVE_MAXIMUM_ADDED"}),
    (
        "exclusiveMaximum decreased",
        {**N, "exclusiveMaximum": 5},
        {**N, "exclusiveMaximum": 4},
        {"EXCLUSIVE_MAXIMUM_DECREASED"},
    ),
    (
        "exclusiveMaximum increased",
        {**N, "exclusiveMaximum": 4},
        {**N, "exclusiveMaximum": 5},
        set(),
    ),
    (
        "exclusiveMinimum increased",
        {**N, "exclusiveMinimum": 4},
        {**N, "exclusiveMinimum": 5},
        {"EXCLUSIVE_MINIMUM_INCREASED"},
    ),
    ("exclusiveMinimum removed", {**N, "exclusiveMinimum": 4}, N, set()),
    ("maximum to wider exclusive", {**N, "maximum": 5}, {**N, "exclusiveMaximum": 6}, set()),
    (
        "maximum to same exclusive",
        {**N, "maximum": 5},
        {**N, "exclusiveMaximum": 5},
        {"EXCLUSIVE_MAXIMUM_ADDED"},
    ),
    ("multipleOf removed", {**N, "multipleOf": 10}, N, set()),
    ("multipleOf reduced", {**N, "multipleOf": 10}, {**N, "multipleOf": 2}, set()),
    (
        "multipleOf expanded",
        {**N, "multipleOf": 2},
        {**N, "multipleOf": 10},
        {"MULTIPLE_OF_EXPANDED"},
    ),
    (
        "multipleOf changed",
        {**N, "multipleOf": 10},
        {**N, "multipleOf": 11},
        {"MULTIPLE_OF_CHANGED"},
    ),
    ("multipleOf added", N, {**N, "multipleOf": 2}, {"MULTIPLE_OF_ADDED"}),
    ("fractional multipleOf reduced", {**N, "multipleOf": 0.5}, {**N, "multipleOf": 0.25}, set()),
    # ---- not
    ("not narrowed", {"not": N}, {"not": I}, set()),
    ("not extended", {"not": I}, {"not": N}, {"NOT_TYPE_EXTENDED"}),
    ("not added", S, {**S, "not": {"enum": ["x"]}}, {"NOT_TYPE_EXTENDED"}),
    ("not removed", {**S, "not": {"enum": ["x"]}}, S, set()),
    # ---- enum and const
    ("enum removed", {**S, "enum": ["red"]}, S, set()),
    ("enum added", S, {**S, "enum": ["red"]}, {"ENUM_ARRAY_NARROWED"}),
    ("enum extended", {"enum": ["red"]}, {"enum": ["red", "blue"]}, set()),
    ("enum narrowed", {"enum": ["red", "blue"]}, {"enum": ["red"]}, {"ENUM_ARRAY_NARROWED"}),
    ("enum changed", {"enum": ["red"]}, {"enum": ["blue"]}, {"ENUM_ARRAY_CHANGED"}),
    (
        "enum inside allOf extended",
        {"allOf": [S, {"enum": ["red"]}]},
        {"allOf": [{"enum": ["red", "blue"]}, S]},
        set(),
    ),
    ("const to enum", {"const": "a"}, {"enum": ["a", "b"]}, set()),
    ("enum to const", {"enum": ["a", "b"]}, {"const": "a"}, {"ENUM_ARRAY_NARROWED"}),
    ("enum values all strings", {"enum": ["ab", "cd"]}, {**S, "maxLength": 5}, set()),
    ("enum value too long", {"enum": ["abcdef"]}, {**S, "maxLength": 5}, {"MAX_LENGTH_ADDED"}),
    ("const int to number", {"const": 3}, N, set()),
    ("1 equals 1.0 in enum", {"enum": [1]}, {"enum": [1.0, 2]}, set()),
    # ---- combinators
    (
        "type list to oneOf superset",
        {"type": ["object"]},
        {"oneOf": [{"type": "object"}, S]},
        set(),
    ),
    ("oneOf branch changed", {"oneOf": [S]}, {"oneOf": [N]}, {"COMBINED_TYPE_SUBSCHEMAS_CHANGED"}),
    ("oneOf extended", {"oneOf": [S]}, {"oneOf": [N, S]}, set()),
    ("oneOf narrowed", {"oneOf": [N, S]}, {"oneOf": [S]}, {"SUM_TYPE_NARROWED"}),
    ("oneOf to allOf", {"oneOf": [S, N]}, {"allOf": [S, N]}, {"COMBINED_TYPE_CHANGED"}),
    ("oneOf to anyOf", {"oneOf": [S, N]}, {"anyOf": [S, N]}, set()),
    ("anyOf to oneOf", {"anyOf": [S, N]}, {"oneOf": [S, N]}, {"COMBINED_TYPE_CHANGED"}),
    ("singleton anyOf to oneOf", {"anyOf": [S]}, {"oneOf": [S]}, set()),
    ("string to oneOf", S, {"oneOf": [N, S]}, set()),
    ("null to optional oneOf", {"type": "null"}, {"oneOf": [N, {"type": "null"}]}, set()),
    ("bounded string to oneOf", {**S, "maxLength": 3}, {"oneOf": [N, S]}, set()),
    ("oneOf to one of its members", {"oneOf": [S, {"type": "null"}]}, S, {"TYPE_CHANGED"}),
    (
        "oneOf to covering type list",
        {"oneOf": [S, {"type": "null"}]},
        {"type": ["null", "string"]},
        set(),
    ),
    (
        "composed object schema changed",
        {"oneOf": [{"properties": {"foo": S}}]},
        {"oneOf": [{"properties": {"foo": N}}]},
        {"COMBINED_TYPE_SUBSCHEMAS_CHANGED"},
    ),
    ("allOf member removed", {"allOf": [S, {"maxLength": 3}]}, {"allOf": [S]}, set()),
    ("allOf member added", {"allOf": [S]}, {"allOf": [S, {"maxLength": 3}]}, {"MAX_LENGTH_ADDED"}),
    ("allOf around the same schema", S, {"allOf": [S]}, set()),
    (
        "anyOf added beside type",
        S,
        {**S, "anyOf": [{"maxLength": 3}, {"minLength": 5}]},
        {"MAX_LENGTH_ADDED"},
    ),
    ("anyOf removed beside type", {**S, "anyOf": [{"maxLength": 3}, {"minLength": 5}]}, S, set()),
    # ---- conditionals
    (
        "if-then added",
        obj({}),
        obj({}, **{"if": {"required": ["a"]}, "then": {"required": ["b"]}}),
        {"CONDITIONAL_CHANGED"},
    ),
    (
        "if-then removed",
        obj({}, **{"if": {"required": ["a"]}, "then": {"required": ["b"]}}),
        obj({}),
        set(),
    ),
]


@pytest.mark.parametrize(("name", "old", "new", "expected"), CASES, ids=[c[0] for c in CASES])
def test_backward_rules(name: str, old: Any, new: Any, expected: set[str]) -> None:
    assert rules(old, new) == expected


@pytest.mark.parametrize(("name", "old", "new", "expected"), CASES, ids=[c[0] for c in CASES])
def test_levels_agree_with_the_pair_check(
    name: str, old: Any, new: Any, expected: set[str]
) -> None:
    """BACKWARD checks new-reads-old, FORWARD old-reads-new, FULL both."""
    versions = [VersionedSchema(1, parse(old))]
    backward = check(parse(new), versions, CompatibilityLevel.BACKWARD)
    forward = check(parse(new), versions, CompatibilityLevel.FORWARD)
    full = check(parse(new), versions, CompatibilityLevel.FULL)
    assert backward.compatible == (not expected)
    assert forward.compatible == (not rules(new, old))
    assert full.compatible == (backward.compatible and forward.compatible)
    assert all(item.version == 1 for item in full.incompatibilities)
