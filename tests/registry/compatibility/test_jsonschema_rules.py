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
from registry.formats import parse_schema
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


D2020 = "https://json-schema.org/draft/2020-12/schema"
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
    ("pattern added that every string matches", S, {**S, "pattern": "a*"}, set()),
    (
        "pattern changed to one every string matches",
        {**S, "pattern": "^a"},
        {**S, "pattern": ""},
        set(),
    ),
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
    ("exclusiveMinimum added", N, {**N, "exclusiveMinimum": 0}, {"EXCLUSIVE_MINIMUM_ADDED"}),
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
    (
        "oneOf to allOf",
        {"oneOf": [S, N]},
        {"allOf": [{"pattern": "^a"}, {"pattern": "b$"}]},
        {"COMBINED_TYPE_CHANGED"},
    ),
    ("oneOf to contradictory allOf", {"oneOf": [S, N]}, {"allOf": [S, N]}, {"TYPE_CHANGED"}),
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


CLOSED = {"additionalProperties": False}
STRING_EXTRAS = {"additionalProperties": S}
PATTERNS = {"additionalProperties": False, "patternProperties": {"^S_": S, "^I_": I}}

OBJECT_CASES: list[Case] = [
    (
        "property added to open model",
        obj({"foo": S}),
        obj({"foo": S, "bar": N}),
        {"OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"},
    ),
    (
        "required property added to open model",
        obj({"foo": S}),
        obj({"foo": S, "bar": N}, required=["bar"]),
        {"REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"},
    ),
    (
        "required property with default added to open model",
        obj({"foo": S}),
        obj({"foo": S, "bar": {**N, "default": 1}}, required=["bar"]),
        {"REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL"},
    ),
    ("empty-schema property added to open model", obj({}), obj({"foo": True}), set()),
    ("empty-object property added to open model", obj({}), obj({"foo": {}}), set()),
    ("property removed from open model", obj({"foo": S}), obj({}), set()),
    (
        "properties swapped in open model",
        {"properties": {"foo": S}},
        {"properties": {"bar": S}},
        {"OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"},
    ),
    ("property type changed", obj({"foo": S}), obj({"foo": N}), {"TYPE_CHANGED"}),
    (
        "optional property added to closed model",
        obj({"foo": S}, **CLOSED),
        obj({"foo": S, "bar": N}, **CLOSED),
        set(),
    ),
    (
        "required property added to closed model",
        obj({"foo": S}, **CLOSED),
        obj({"foo": S, "bar": N}, required=["bar"], **CLOSED),
        {"REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"},
    ),
    (
        "required property with default added to closed model",
        obj({"foo": S}, **CLOSED),
        obj({"foo": S, "bar": {**N, "default": 0}}, required=["bar"], **CLOSED),
        set(),
    ),
    (
        "property removed from closed model",
        obj({"foo": S, "bar": S}, **CLOSED),
        obj({"foo": S}, **CLOSED),
        {"PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"},
    ),
    (
        "false property removed from closed model",
        obj({"foo": False}, **CLOSED),
        obj({}, **CLOSED),
        set(),
    ),
    (
        "false property added to closed model",
        obj({}, **CLOSED),
        obj({"foo": False}, **CLOSED),
        set(),
    ),
    (
        "property added, covered by pattern",
        obj({"foo": S}, **PATTERNS),
        obj({"foo": S, "I_123": N}, **PATTERNS),
        set(),
    ),
    (
        "property added, covered by additionalProperties",
        obj({"foo": S}, **STRING_EXTRAS),
        obj({"foo": S, "bar": S}, **STRING_EXTRAS),
        set(),
    ),
    (
        "property added, not covered by additionalProperties",
        obj({"foo": S}, **STRING_EXTRAS),
        obj({"foo": S, "bar": N}, **STRING_EXTRAS),
        {"TYPE_CHANGED", "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"},
    ),
    (
        "required property added to partially open model",
        obj({"foo": S}, **STRING_EXTRAS),
        obj({"foo": S, "bar": S}, required=["bar"], **STRING_EXTRAS),
        {"REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"},
    ),
    (
        "property removed, covered by pattern",
        obj({"foo": S, "I_123": I}, **CLOSED),
        obj({"foo": S}, additionalProperties=False, patternProperties={"^S_": S, "^I_": N}),
        set(),
    ),
    (
        "property removed, covered by additionalProperties",
        obj({"foo": S, "bar": S}, **CLOSED),
        obj({"foo": S}, **STRING_EXTRAS),
        set(),
    ),
    (
        "property removed, not covered by additionalProperties",
        obj({"foo": S, "bar": N}, **CLOSED),
        obj({"foo": S}, **STRING_EXTRAS),
        {"TYPE_CHANGED", "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"},
    ),
    (
        "nullable property removed, covered by oneOf additionalProperties",
        obj({"foo": S, "bar": {"oneOf": [{"type": "null"}, S]}}, **CLOSED),
        obj({"foo": S}, additionalProperties={"oneOf": [{"type": "null"}, S]}),
        set(),
    ),
    (
        "property removed, covered by wider oneOf",
        obj({"foo": S, "bar": S}, **CLOSED),
        obj({"foo": S}, additionalProperties={"oneOf": [{"type": "null"}, S]}),
        set(),
    ),
    ("required removed", obj({"foo": S}, required=["foo"]), obj({"foo": S}), set()),
    (
        "required added",
        obj({"foo": S}),
        obj({"foo": S}, required=["foo"]),
        {"REQUIRED_ATTRIBUTE_ADDED"},
    ),
    (
        "required with default added",
        obj({"foo": S}),
        obj({"foo": {**S, "default": ""}}, required=["foo"]),
        set(),
    ),
    (
        "required switched",
        obj({"foo": S}, required=["foo"]),
        obj({"foo": S}, required=["bar"]),
        {"REQUIRED_ATTRIBUTE_ADDED"},
    ),
    ("maxProperties added", obj({}), obj({}, maxProperties=3), {"MAX_PROPERTIES_ADDED"}),
    ("minProperties added", obj({}), obj({}, minProperties=1), {"MIN_PROPERTIES_ADDED"}),
    ("maxProperties removed", {"properties": {}, "maxProperties": 1}, {"properties": {}}, set()),
    ("maxProperties increased", {"maxProperties": 1}, {"maxProperties": 2}, set()),
    (
        "maxProperties decreased",
        {"maxProperties": 2},
        {"maxProperties": 1},
        {"MAX_PROPERTIES_DECREASED"},
    ),
    ("minProperties removed", {"properties": {}, "minProperties": 2}, {"properties": {}}, set()),
    (
        "minProperties increased",
        {"minProperties": 1},
        {"minProperties": 2},
        {"MIN_PROPERTIES_INCREASED"},
    ),
    ("minProperties decreased", {"minProperties": 2}, {"minProperties": 1}, set()),
    ("additionalProperties false to open", {"properties": {}, **CLOSED}, {"properties": {}}, set()),
    (
        "additionalProperties true to false",
        {"additionalProperties": True},
        CLOSED,
        {"ADDITIONAL_PROPERTIES_REMOVED"},
    ),
    (
        "additionalProperties narrowed",
        {"additionalProperties": True},
        {"additionalProperties": N},
        {"ADDITIONAL_PROPERTIES_NARROWED"},
    ),
    (
        "additionalProperties schema changed",
        STRING_EXTRAS,
        {"additionalProperties": N},
        {"TYPE_CHANGED"},
    ),
    ("additionalProperties schema extended", STRING_EXTRAS, {"additionalProperties": True}, set()),
    (
        "pattern property added to open model",
        obj({}),
        obj({}, patternProperties={"^x_": S}),
        {"PATTERN_PROPERTIES_NARROWED"},
    ),
    (
        "pattern property added to closed model",
        obj({}, **CLOSED),
        obj({}, patternProperties={"^x_": S}, **CLOSED),
        set(),
    ),
    (
        "property added to a model open through patternProperties only",
        obj({}, patternProperties={"^x_": S}),
        obj({"a": N}, patternProperties={"^x_": S}),
        {"TYPE_NARROWED", "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"},
    ),
    (
        "pattern property schema changed",
        obj({}, patternProperties={"^x_": S}),
        obj({}, patternProperties={"^x_": N}),
        {"TYPE_CHANGED"},
    ),
    (
        "unevaluatedProperties false added (2020-12)",
        {"$schema": "https://json-schema.org/draft/2020-12/schema", **obj({"a": S})},
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            **obj({"a": S}),
            "unevaluatedProperties": False,
        },
        {"UNEVALUATED_PROPERTIES_REMOVED"},
    ),
    (
        "unevaluatedProperties narrowed (2020-12)",
        {"$schema": D2020, **obj({"a": S})},
        {"$schema": D2020, **obj({"a": S}), "unevaluatedProperties": S},
        {"UNEVALUATED_PROPERTIES_NARROWED"},
    ),
    (
        "property added to unevaluatedProperties-closed model (2020-12)",
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            **obj({"a": S}),
            "unevaluatedProperties": False,
        },
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            **obj({"a": S, "b": N}),
            "unevaluatedProperties": False,
        },
        set(),
    ),
    (
        "dependency arrays swapped",
        obj({"foo": N, "bar": S}, dependencies={"foo": ["bar"]}),
        obj({"foo": N, "bar": S}, dependencies={"bar": ["foo"]}),
        {"DEPENDENCY_ARRAY_ADDED"},
    ),
    (
        "dependency array narrowed",
        obj({}, dependencies={"a": ["b", "c"]}),
        obj({}, dependencies={"a": ["b"]}),
        set(),
    ),
    (
        "dependency array extended",
        obj({}, dependencies={"a": ["b"]}),
        obj({}, dependencies={"a": ["b", "c"]}),
        {"DEPENDENCY_ARRAY_EXTENDED"},
    ),
    (
        "dependency array changed",
        obj({}, dependencies={"a": ["b"]}),
        obj({}, dependencies={"a": ["c"]}),
        {"DEPENDENCY_ARRAY_CHANGED"},
    ),
    (
        "dependency schema removed",
        {"dependencies": {"foo": S, "bar": S}},
        {"dependencies": {"foo": S}},
        set(),
    ),
    ("all dependency schemas removed", {"dependencies": {"foo": S}}, {"dependencies": {}}, set()),
    (
        "dependency schema changed",
        {"dependencies": {"foo": S}},
        {"dependencies": {"foo": N}},
        {"TYPE_CHANGED"},
    ),
    (
        "dependency schema swapped",
        {"dependencies": {"foo": S}},
        {"dependencies": {"bar": S}},
        {"DEPENDENCY_SCHEMA_ADDED"},
    ),
    (
        "dependentRequired extended (2019-09)",
        {
            "$schema": "https://json-schema.org/draft/2019-09/schema",
            "dependentRequired": {"a": ["b"]},
        },
        {
            "$schema": "https://json-schema.org/draft/2019-09/schema",
            "dependentRequired": {"a": ["b", "c"]},
        },
        {"DEPENDENCY_ARRAY_EXTENDED"},
    ),
    (
        "dependentRequired removed (2019-09)",
        {
            "$schema": "https://json-schema.org/draft/2019-09/schema",
            "dependentRequired": {"a": ["b"]},
        },
        {"$schema": "https://json-schema.org/draft/2019-09/schema"},
        set(),
    ),
    (
        "propertyNames added",
        obj({}),
        obj({}, propertyNames={"maxLength": 3}),
        {"PROPERTY_NAMES_NARROWED"},
    ),
    (
        "propertyNames widened",
        obj({}, propertyNames={"maxLength": 3}),
        obj({}, propertyNames={"maxLength": 5}),
        set(),
    ),
    (
        "propertyNames added, a pattern every name matches",
        obj({}),
        obj({}, propertyNames={"pattern": "a*"}),
        set(),
    ),
    (
        "propertyNames added, only strings (every name is one)",
        obj({}),
        obj({}, propertyNames={"type": "string", "pattern": "^(x|)"}),
        set(),
    ),
    (
        "propertyNames added, an anchored pattern",
        obj({}),
        obj({}, propertyNames={"pattern": "^a*$"}),
        {"PROPERTY_NAMES_NARROWED"},
    ),
    (
        "propertyNames narrowed to a pattern every name matches",
        obj({}, propertyNames={"maxLength": 3}),
        obj({}, propertyNames={"pattern": ".*"}),
        set(),
    ),
    (
        "propertyNames added, numbers only",
        obj({}),
        obj({}, propertyNames={"type": "number"}),
        {"PROPERTY_NAMES_NARROWED"},
    ),
]

A = {"type": "array"}
ARRAY_CASES: list[Case] = [
    ("items schema added", A, {**A, "items": S}, {"SCHEMA_ADDED"}),
    ("items schema removed", {**A, "items": S}, A, set()),
    ("items type changed", {**A, "items": S}, {**A, "items": N}, {"TYPE_CHANGED"}),
    ("tuple removed", {**A, "items": [S, N]}, A, set()),
    (
        "item added, covered by additionalItems",
        {**A, "items": [S, N], "additionalItems": S},
        {**A, "items": [S, N, S], "additionalItems": S},
        set(),
    ),
    (
        "item added, not covered by additionalItems",
        {**A, "items": [S, N], "additionalItems": S},
        {**A, "items": [S, N, N], "additionalItems": S},
        {"TYPE_CHANGED", "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"},
    ),
    (
        "item removed, covered by additionalItems",
        {**A, "items": [S, N, S], "additionalItems": S},
        {**A, "items": [S, N], "additionalItems": S},
        set(),
    ),
    (
        "item removed, not covered by additionalItems",
        {**A, "items": [S, N, N], "additionalItems": S},
        {**A, "items": [S, N], "additionalItems": S},
        {"TYPE_CHANGED", "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"},
    ),
    ("tuple item changed", {**A, "items": [S]}, {**A, "items": [N]}, {"TYPE_CHANGED"}),
    ("maxItems decreased", {**A, "maxItems": 2}, {**A, "maxItems": 1}, {"MAX_ITEMS_DECREASED"}),
    ("maxItems added", A, {**A, "maxItems": 1}, {"MAX_ITEMS_ADDED"}),
    ("minItems added", A, {**A, "minItems": 1}, {"MIN_ITEMS_ADDED"}),
    ("minItems removed", {**A, "minItems": 1}, A, set()),
    ("minItems increased", {**A, "minItems": 1}, {**A, "minItems": 2}, {"MIN_ITEMS_INCREASED"}),
    ("minItems decreased", {**A, "minItems": 2}, {**A, "minItems": 1}, set()),
    ("uniqueItems removed", {**A, "uniqueItems": True}, A, set()),
    ("uniqueItems added", A, {**A, "uniqueItems": True}, {"UNIQUE_ITEMS_ADDED"}),
    ("additionalItems true to false", {"additionalItems": True}, {"additionalItems": False}, set()),
    (
        "additionalItems closed on a tuple",
        {**A, "items": [S], "additionalItems": True},
        {**A, "items": [S], "additionalItems": False},
        {"ADDITIONAL_ITEMS_REMOVED"},
    ),
    (
        "additionalItems narrowed",
        {**A, "items": [S]},
        {**A, "items": [S], "additionalItems": N},
        {"ADDITIONAL_ITEMS_NARROWED"},
    ),
    (
        "unevaluatedItems narrowed (2020-12)",
        {"$schema": D2020, **A, "prefixItems": [S]},
        {"$schema": D2020, **A, "prefixItems": [S], "unevaluatedItems": N},
        {"UNEVALUATED_ITEMS_NARROWED"},
    ),
    (
        "additionalItems schema changed",
        {**A, "items": [S], "additionalItems": S},
        {**A, "items": [S], "additionalItems": N},
        {"TYPE_CHANGED"},
    ),
    ("empty item added to open tuple", {**A, "items": [N]}, {**A, "items": [N, True]}, set()),
    (
        "item added to open tuple",
        {**A, "items": [N]},
        {**A, "items": [N, S]},
        {"ITEM_ADDED_TO_OPEN_CONTENT_MODEL"},
    ),
    ("empty item removed from open tuple", {**A, "items": [N, True]}, {**A, "items": [N]}, set()),
    (
        "false item added to closed tuple",
        {**A, "items": [N], "additionalItems": False},
        {**A, "items": [N, False], "additionalItems": False},
        set(),
    ),
    (
        "false item removed from closed tuple",
        {**A, "items": [N, False], "additionalItems": False},
        {**A, "items": [N], "additionalItems": False},
        set(),
    ),
    (
        "item added to closed tuple, then opened",
        {**A, "items": [S, N], "additionalItems": False},
        {**A, "items": [S, N, {"type": "boolean"}], "additionalItems": True},
        set(),
    ),
    (
        "item removed from closed tuple",
        {**A, "items": [S, N], "additionalItems": False},
        {**A, "items": [S], "additionalItems": False},
        {"ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL"},
    ),
    (
        "item removed from closed tuple, covered",
        {**A, "items": [S, N], "additionalItems": False},
        {**A, "items": [S], "additionalItems": N},
        set(),
    ),
    (
        "prefixItems extended (2020-12)",
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "prefixItems": [S],
            "items": False,
        },
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "prefixItems": [S, N],
            "items": False,
        },
        set(),
    ),
    (
        "tuple closed (2020-12)",
        {"$schema": "https://json-schema.org/draft/2020-12/schema", "prefixItems": [S]},
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "prefixItems": [S],
            "items": False,
        },
        {"ADDITIONAL_ITEMS_REMOVED"},
    ),
    (
        "items closed (2020-12)",
        {"$schema": D2020, "items": True},
        {"$schema": D2020, "items": False},
        {"ADDITIONAL_ITEMS_REMOVED"},
    ),
    (
        "items schema changed (2020-12)",
        {"$schema": D2020, "items": S},
        {"$schema": D2020, "items": N},
        {"TYPE_CHANGED"},
    ),
    (
        "prefix item added to closed tuple and opened (2020-12)",
        {"$schema": D2020, **A, "prefixItems": [S, N], "items": False},
        {"$schema": D2020, **A, "prefixItems": [S, N, {"type": "boolean"}], "items": True},
        set(),
    ),
    (
        "prefix item removed, covered by items (2020-12)",
        {"$schema": D2020, **A, "prefixItems": [S, N], "items": False},
        {"$schema": D2020, **A, "prefixItems": [S], "items": N},
        set(),
    ),
    (
        "prefix item added, covered by items (2020-12)",
        {"$schema": D2020, **A, "prefixItems": [S], "items": N},
        {"$schema": D2020, **A, "prefixItems": [S, N], "items": True},
        set(),
    ),
    (
        "prefix item added to open tuple (2020-12)",
        {"$schema": D2020, **A, "prefixItems": [S]},
        {"$schema": D2020, **A, "prefixItems": [S, N]},
        {"ITEM_ADDED_TO_OPEN_CONTENT_MODEL"},
    ),
    (
        "unevaluatedItems closed (2020-12)",
        {"$schema": D2020, **A, "prefixItems": [S]},
        {"$schema": D2020, **A, "prefixItems": [S], "unevaluatedItems": False},
        {"UNEVALUATED_ITEMS_REMOVED"},
    ),
    ("contains added", A, {**A, "contains": S}, {"CONTAINS_ADDED"}),
    (
        "minContains added (2020-12)",
        {"$schema": D2020, **A, "contains": S},
        {"$schema": D2020, **A, "contains": S, "minContains": 2},
        {"MIN_CONTAINS_ADDED"},
    ),
    (
        "minContains increased (2020-12)",
        {"$schema": D2020, **A, "contains": S, "minContains": 2},
        {"$schema": D2020, **A, "contains": S, "minContains": 3},
        {"MIN_CONTAINS_INCREASED"},
    ),
    (
        "minContains decreased (2020-12)",
        {"$schema": D2020, **A, "contains": S, "minContains": 3},
        {"$schema": D2020, **A, "contains": S, "minContains": 2},
        set(),
    ),
    (
        "maxContains added (2020-12)",
        {"$schema": D2020, **A, "contains": S},
        {"$schema": D2020, **A, "contains": S, "maxContains": 2},
        {"MAX_CONTAINS_ADDED"},
    ),
    (
        "maxContains decreased (2020-12)",
        {"$schema": D2020, **A, "contains": S, "maxContains": 3},
        {"$schema": D2020, **A, "contains": S, "maxContains": 2},
        {"MAX_CONTAINS_DECREASED"},
    ),
    ("contains widened", {**A, "contains": I}, {**A, "contains": N}, set()),
    ("contains narrowed", {**A, "contains": N}, {**A, "contains": I}, {"CONTAINS_NARROWED"}),
]

DEFS = {"definitions": {"someRef": S}}
RECURSIVE = {
    "definitions": {"node": obj({"value": S, "next": {"$ref": "#/definitions/node"}})},
    "$ref": "#/definitions/node",
}
RECURSIVE_CHANGED = {
    "definitions": {"node": obj({"value": N, "next": {"$ref": "#/definitions/node"}})},
    "$ref": "#/definitions/node",
}
REF_CASES: list[Case] = [
    (
        "referenced schema changed",
        {**A, "items": {"$ref": "#/definitions/someRef"}, **DEFS},
        {**A, "items": {"$ref": "#/definitions/someRef"}, "definitions": {"someRef": N}},
        {"TYPE_CHANGED"},
    ),
    ("inline moved into a reference", S, {"$ref": "#/definitions/someRef", **DEFS}, set()),
    ("reference moved inline", {"$ref": "#/definitions/someRef", **DEFS}, S, set()),
    ("recursive schema unchanged", RECURSIVE, json.loads(json.dumps(RECURSIVE)), set()),
    ("recursive schema changed", RECURSIVE, RECURSIVE_CHANGED, {"TYPE_CHANGED"}),
    (
        "$defs with $id anchor (2020-12)",
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": "#str",
            "$defs": {"s": {"$anchor": "str", **S}},
        },
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": "#str",
            "$defs": {"s": {"$anchor": "str", **S, "maxLength": 2}},
        },
        {"MAX_LENGTH_ADDED"},
    ),
]

BASE = {"type": "object", "properties": {"id": S}, "required": ["id"]}
D2019 = "https://json-schema.org/draft/2019-09/schema"
COMPOSITION_CASES: list[Case] = [
    (
        "allOf composition flattened",
        {
            "allOf": [{"$ref": "#/definitions/base"}, {"properties": {"name": S}}],
            "definitions": {"base": BASE},
        },
        {"type": "object", "properties": {"id": S, "name": S}, "required": ["id"]},
        set(),
    ),
    (
        "flat schema split into an allOf composition",
        {"type": "object", "properties": {"id": S, "name": S}, "required": ["id"]},
        {
            "allOf": [{"$ref": "#/definitions/base"}, {"properties": {"name": S}}],
            "definitions": {"base": BASE},
        },
        set(),
    ),
    (
        "allOf composition with a narrowed member",
        {
            "allOf": [{"$ref": "#/definitions/base"}, {"properties": {"name": S}}],
            "definitions": {"base": BASE},
        },
        {
            "type": "object",
            "properties": {"id": S, "name": {**S, "maxLength": 3}},
            "required": ["id"],
        },
        {"MAX_LENGTH_ADDED"},
    ),
    (
        "string and bound in allOf vs flat",
        {"allOf": [S, {"maxLength": 5}]},
        {**S, "maxLength": 5},
        set(),
    ),
    ("integer within number in allOf", {"allOf": [I, N]}, I, set()),
    (
        "allOf with a closed member is not merged across members",
        obj({"a": S}, **CLOSED),
        {"allOf": [obj({"a": S}), CLOSED]},
        {"PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"},
    ),
    (
        "$ref siblings apply in 2019-09",
        {"$schema": D2019, "$defs": {"s": S}, "$ref": "#/$defs/s"},
        {"$schema": D2019, "$defs": {"s": S}, "$ref": "#/$defs/s", "maxLength": 3},
        {"MAX_LENGTH_ADDED"},
    ),
    (
        "$ref siblings are ignored in draft 7",
        {"definitions": {"s": S}, "$ref": "#/definitions/s"},
        {"definitions": {"s": S}, "$ref": "#/definitions/s", "maxLength": 3},
        set(),
    ),
]


def prop1(schema: Any) -> Any:
    """Confluent's combined-schema examples wrap each schema as property `prop1`."""
    return obj({"prop1": schema})


ENUM3 = {"enum": ["one", "two", "three"]}
# Confluent's diff-combined-schema-examples.json; where our rule name differs, Confluent's
# is in the comment.
COMBINED_CASES: list[Case] = [
    (
        "allOf members reordered",
        prop1({"allOf": [ENUM3, S, {"maxLength": 5}]}),
        prop1({"allOf": [{"maxLength": 5}, ENUM3, S]}),
        set(),
    ),
    # Confluent: COMBINED_TYPE_SUBSCHEMAS_CHANGED
    (
        "allOf member changed type",
        prop1({"allOf": [ENUM3, S, {"maxLength": 5}]}),
        prop1({"allOf": [{"maxLength": 5}, ENUM3, N]}),
        {"TYPE_CHANGED"},
    ),
    ("allOf with duplicates in the old", prop1({"allOf": [S, S]}), prop1({"allOf": [S]}), set()),
    ("allOf with duplicates in the new", prop1({"allOf": [S]}), prop1({"allOf": [S, S]}), set()),
    ("oneOf gains a type", prop1({"oneOf": [S]}), prop1({"oneOf": [N, S]}), set()),
    (
        "oneOf gains types",
        prop1({"oneOf": [S]}),
        prop1({"oneOf": [{"type": "boolean"}, N, S]}),
        set(),
    ),
    (
        "oneOf member widened",
        prop1({"oneOf": [{**S, "maxLength": 5}]}),
        prop1({"oneOf": [{"type": "boolean"}, N, {"title": "my string", **S, "maxLength": 8}]}),
        set(),
    ),
    ("oneOf loses a type", prop1({"oneOf": [N, S]}), prop1({"oneOf": [S]}), {"SUM_TYPE_NARROWED"}),
    ("allOf loses the enum", prop1({"allOf": [ENUM3, S]}), prop1({"allOf": [S]}), set()),
    # Confluent: PRODUCT_TYPE_EXTENDED
    (
        "allOf gains an enum",
        prop1({"allOf": [S]}),
        prop1({"allOf": [ENUM3, S]}),
        {"ENUM_ARRAY_NARROWED"},
    ),
    ("oneOf to anyOf", prop1({"oneOf": [S]}), prop1({"anyOf": [S]}), set()),
    ("oneOf to wider anyOf", prop1({"oneOf": [S]}), prop1({"anyOf": [N, S]}), set()),
    ("allOf to anyOf", prop1({"allOf": [S]}), prop1({"anyOf": [S]}), set()),
    ("allOf to wider anyOf", prop1({"allOf": [S]}), prop1({"anyOf": [N, S]}), set()),
    ("singleton anyOf to wider oneOf", prop1({"anyOf": [S]}), prop1({"oneOf": [N, S]}), set()),
    (
        "anyOf to narrower oneOf",
        prop1({"anyOf": [N, S]}),
        prop1({"oneOf": [S]}),
        {"COMBINED_TYPE_CHANGED"},
    ),
    ("allOf to wider oneOf", prop1({"allOf": [N]}), prop1({"oneOf": [N, S]}), set()),
    ("anyOf to allOf", prop1({"anyOf": [S]}), prop1({"allOf": [S]}), set()),
    ("oneOf to allOf", prop1({"oneOf": [S]}), prop1({"allOf": [S]}), set()),
    # Confluent: COMBINED_TYPE_CHANGED (the new allOf accepts nothing)
    (
        "anyOf to contradictory allOf",
        prop1({"anyOf": [S]}),
        prop1({"allOf": [N, S]}),
        {"TYPE_CHANGED"},
    ),
    (
        "oneOf to contradictory allOf",
        prop1({"oneOf": [S]}),
        prop1({"allOf": [N, S]}),
        {"TYPE_CHANGED"},
    ),
    ("plain to anyOf", prop1(S), prop1({"anyOf": [N, S]}), set()),
    ("plain to oneOf", prop1(S), prop1({"oneOf": [N, S]}), set()),
    ("plain to allOf", prop1(S), prop1({"allOf": [S]}), set()),
    ("plain to contradictory allOf", prop1(S), prop1({"allOf": [N, S]}), {"TYPE_CHANGED"}),
]


def d2020(schema: Any) -> Any:
    return {"$schema": D2020, **schema}


BASE_DEFS = {"$defs": {"base": {"properties": {"id": S}, "required": ["id"]}}}
UNEVALUATED_CASES: list[Case] = [
    (
        "optional property added next to a $ref, closed by unevaluatedProperties",
        d2020(
            {
                "$ref": "#/$defs/base",
                "properties": {"a": S},
                "unevaluatedProperties": False,
                **BASE_DEFS,
            }
        ),
        d2020(
            {
                "$ref": "#/$defs/base",
                "properties": {"a": S, "b": N},
                "unevaluatedProperties": False,
                **BASE_DEFS,
            }
        ),
        set(),
    ),
    (
        "property removed next to a $ref, closed by unevaluatedProperties",
        d2020(
            {
                "$ref": "#/$defs/base",
                "properties": {"a": S},
                "unevaluatedProperties": False,
                **BASE_DEFS,
            }
        ),
        d2020({"$ref": "#/$defs/base", "unevaluatedProperties": False, **BASE_DEFS}),
        {"PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"},
    ),
    (
        "property removed next to a $ref and an anyOf, closed by unevaluatedProperties",
        d2020(
            {
                "$ref": "#/$defs/base",
                "anyOf": [S, N, obj({})],
                "properties": {"a": S},
                "unevaluatedProperties": False,
                **BASE_DEFS,
            }
        ),
        d2020(
            {
                "$ref": "#/$defs/base",
                "anyOf": [S, N, obj({})],
                "unevaluatedProperties": False,
                **BASE_DEFS,
            }
        ),
        {"UNEVALUATED_PROPERTIES_NARROWED"},
    ),
    (
        "properties evaluated in anyOf are not lost",
        d2020({"anyOf": [{"properties": {"a": S}}], "unevaluatedProperties": False}),
        d2020({"type": "object", "properties": {}, "additionalProperties": False}),
        {"TYPE_NARROWED", "ADDITIONAL_PROPERTIES_REMOVED"},
    ),
    (
        "unevaluatedProperties added next to anyOf",
        d2020({"anyOf": [{"properties": {"a": S}}, {"properties": {"b": S}}]}),
        d2020(
            {
                "anyOf": [{"properties": {"a": S}}, {"properties": {"b": S}}],
                "unevaluatedProperties": False,
            }
        ),
        {"UNEVALUATED_PROPERTIES_NARROWED"},
    ),
    (
        "allOf closed by unevaluatedProperties, flattened",
        d2020({"allOf": [obj({"a": S})], "unevaluatedProperties": False}),
        d2020(obj({"a": S}, additionalProperties=False)),
        set(),
    ),
    (
        "flat closed object split into allOf with unevaluatedProperties",
        d2020(obj({"a": S}, additionalProperties=False)),
        d2020({"allOf": [obj({"a": S})], "unevaluatedProperties": False}),
        set(),
    ),
    (
        "unevaluatedItems next to allOf with prefixItems",
        d2020({"allOf": [{"prefixItems": [S]}], "unevaluatedItems": False}),
        d2020({"type": "array", "prefixItems": [S], "items": False}),
        {"TYPE_NARROWED"},
    ),
]

CASES += OBJECT_CASES + ARRAY_CASES + REF_CASES + COMPOSITION_CASES + COMBINED_CASES
CASES += UNEVALUATED_CASES


def test_long_reference_chains_are_bounded_not_a_recursion_error() -> None:
    links = 1000
    definitions = {f"d{i}": {"$ref": f"#/definitions/d{i + 1}"} for i in range(links)}
    old = {"definitions": {**definitions, f"d{links}": S}, "$ref": "#/definitions/d0"}
    new = {"definitions": {**definitions, f"d{links}": N}, "$ref": "#/definitions/d0"}
    assert rules(old, new) == {"TYPE_CHANGED"}
    nested = {
        f"d{i}": {"properties": {"x": {"$ref": f"#/definitions/d{i + 1}"}}} for i in range(links)
    }
    deep_old = {"definitions": {**nested, f"d{links}": S}, "$ref": "#/definitions/d0"}
    deep_new = {"definitions": {**nested, f"d{links}": N}, "$ref": "#/definitions/d0"}
    assert rules(deep_old, deep_new) == {"COMPARISON_TOO_DEEP"}
    assert rules(deep_old, json.loads(json.dumps(deep_old))) == set()


def test_self_reference_at_the_root() -> None:
    looped = {"type": "object", "properties": {"next": {"$ref": "#"}, "v": S}}
    changed = {"type": "object", "properties": {"next": {"$ref": "#"}, "v": N}}
    assert rules(looped, json.loads(json.dumps(looped))) == set()
    found = incompatibilities(parse(changed), parse(looped))
    assert {(item.rule, item.path) for item in found} == {("TYPE_CHANGED", "/properties/v")}


def test_references_to_given_schemas_are_compared() -> None:
    from registry.formats import ResolvedReference

    def with_ref(address: Any) -> JsonSchema:
        parsed = parse_schema(
            "JSON",
            json.dumps(obj({"address": {"$ref": "address.json"}})),
            [ResolvedReference("address.json", "address", 1, json.dumps(address))],
        )
        assert isinstance(parsed, JsonSchema)
        return parsed

    old = with_ref(obj({"street": S}, **CLOSED))
    new = with_ref(obj({"street": S, "zip": S}, required=["zip"], **CLOSED))
    found = incompatibilities(new, old)
    assert [(item.rule, item.path) for item in found] == [
        ("REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL", "/properties/address/properties/zip")
    ]


def test_recursive_change_is_reported_at_the_reader_path() -> None:
    found = incompatibilities(parse(RECURSIVE_CHANGED), parse(RECURSIVE))
    assert [(item.rule, item.path) for item in found] == [("TYPE_CHANGED", "/properties/value")]


def test_each_newly_required_property_is_reported() -> None:
    found = incompatibilities(
        parse(obj({"a": S, "b": S}, required=["a", "b"])), parse(obj({"a": S, "b": S}))
    )
    assert [(item.rule, item.path) for item in found] == [
        ("REQUIRED_ATTRIBUTE_ADDED", "/required")
    ] * 2
    assert "`a`" in found[0].message and "`b`" in found[1].message


def test_message_says_what_and_how() -> None:
    (item,) = incompatibilities(parse(obj({"email": S})), parse(obj({})))
    assert item.rule == "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"
    assert item.path == "/properties/email"
    assert "`/properties/email`" in item.message
    assert "additionalProperties: false" in item.message
    assert "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL" in item.confluent_message()


def test_transitive_levels_check_every_version() -> None:
    v1 = parse(obj({"a": S}, **CLOSED))
    v2 = parse(obj({"a": S, "b": S}, **CLOSED))
    v3 = parse(obj({"a": S, "b": S}, required=["b"], **CLOSED))
    existing = [VersionedSchema(1, v1), VersionedSchema(2, v2)]
    assert check(v3, existing, "BACKWARD").compatible is False
    v3_default = parse(obj({"a": S, "b": {**S, "default": ""}}, required=["b"], **CLOSED))
    assert check(v3_default, existing, "BACKWARD").compatible
    v4 = parse(obj({"a": S}, **CLOSED))
    assert check(v4, [VersionedSchema(1, v2)], "FORWARD").compatible
    assert check(v4, [VersionedSchema(1, v2)], "BACKWARD").compatible is False
    assert check(v4, existing, "FORWARD_TRANSITIVE").compatible
    backward = check(v4, existing, "BACKWARD_TRANSITIVE")
    assert {item.version for item in backward.incompatibilities} == {2}
    deleted = parse(obj({}, **CLOSED))
    result = check(deleted, existing, "BACKWARD_TRANSITIVE")
    assert {item.version for item in result.incompatibilities} == {1, 2}
    assert check(deleted, existing, "BACKWARD").incompatibilities[0].version == 2


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


def test_every_rule_with_advice_has_a_known_case() -> None:
    """The tables cover every incompatible rule the checker can report."""
    from registry.compatibility.jsonschema.messages import ADVICE

    reported = {rule for _, _, _, expected in CASES for rule in expected}
    assert set(ADVICE) - reported == {"COMPARISON_TOO_DEEP"}


def test_raised_depth_limits_never_raise_recursion_errors() -> None:
    from registry.formats import Limits

    def deep(levels: int, leaf: str) -> str:
        return '{"properties":{"a":' * levels + leaf + "}}" * levels

    limits = Limits(max_depth=10_000, max_schema_bytes=10_000_000)
    old = parse_schema("JSON", deep(3000, '{"type":"string"}'), limits=limits)
    new = parse_schema("JSON", deep(3000, '{"type":"number"}'), limits=limits)
    assert [item.rule for item in incompatibilities(new, old)] == ["COMPARISON_TOO_DEEP"]
    assert json.loads(old.normalized_form()) == json.loads(old.parsing_form())
