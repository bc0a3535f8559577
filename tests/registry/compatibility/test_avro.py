"""Avro compatibility: a table of known evolutions, each checked in both directions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from registry.compatibility import CompatibilityLevel, Incompatibility, VersionedSchema, check
from registry.compatibility.avro import incompatibilities
from registry.formats import ResolvedReference
from registry.formats.avro import AvroSchema, parse_avro

Fields = list[dict[str, Any]]


def user(fields: Fields, name: str = "User", namespace: str = "com.acme", **extra: Any) -> str:
    body = {"type": "record", "name": name, "namespace": namespace, "fields": fields, **extra}
    return json.dumps(body)


def field(name: str, field_type: Any, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": field_type, **extra}


def one(field_type: Any, **extra: Any) -> str:
    """A record whose only field `value` has the given type."""
    return user([field("value", field_type, **extra)])


ID = field("id", "long")
DECIMAL_9_2 = {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}
DECIMAL_10_2 = {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}
COLOR = {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN"]}
COLOR_MORE = {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN", "BLUE"]}
COLOR_MORE_DEFAULT = {**COLOR_MORE, "default": "RED"}
COLOR_DEFAULT = {**COLOR, "default": "RED"}
LIST_INT = {
    "type": "record",
    "name": "Node",
    "fields": [field("value", "int"), field("next", ["null", "Node"], default=None)],
}
LIST_LONG = {
    "type": "record",
    "name": "Node",
    "fields": [field("value", "long"), field("next", ["null", "Node"], default=None)],
}

# (case, old schema, new schema, rules when new reads old (BACKWARD), rules when old reads new
# (FORWARD)); an empty set means compatible.
CASES: list[tuple[str, str, str, set[str], set[str]]] = [
    ("identical", user([ID]), user([ID]), set(), set()),
    (
        "add field without default",
        user([ID]),
        user([ID, field("email", "string")]),
        {"READER_FIELD_MISSING_DEFAULT_VALUE"},
        set(),
    ),
    (
        "add field with default",
        user([ID]),
        user([ID, field("email", "string", default="")]),
        set(),
        set(),
    ),
    (
        "remove field without default",
        user([ID, field("email", "string")]),
        user([ID]),
        set(),
        {"READER_FIELD_MISSING_DEFAULT_VALUE"},
    ),
    (
        "remove field with default",
        user([ID, field("email", "string", default="")]),
        user([ID]),
        set(),
        set(),
    ),
    ("int to long", one("int"), one("long"), set(), {"TYPE_MISMATCH"}),
    ("int to float", one("int"), one("float"), set(), {"TYPE_MISMATCH"}),
    ("int to double", one("int"), one("double"), set(), {"TYPE_MISMATCH"}),
    ("long to float", one("long"), one("float"), set(), {"TYPE_MISMATCH"}),
    ("long to double", one("long"), one("double"), set(), {"TYPE_MISMATCH"}),
    ("float to double", one("float"), one("double"), set(), {"TYPE_MISMATCH"}),
    ("long to int", one("long"), one("int"), {"TYPE_MISMATCH"}, set()),
    ("string to bytes", one("string"), one("bytes"), set(), set()),
    ("bytes to string", one("bytes"), one("string"), set(), set()),
    ("int to string", one("int"), one("string"), {"TYPE_MISMATCH"}, {"TYPE_MISMATCH"}),
    ("boolean to int", one("boolean"), one("int"), {"TYPE_MISMATCH"}, {"TYPE_MISMATCH"}),
    ("null to int", one("null"), one("int"), {"TYPE_MISMATCH"}, {"TYPE_MISMATCH"}),
    ("enum symbol added", one(COLOR), one(COLOR_MORE), set(), {"MISSING_ENUM_SYMBOLS"}),
    ("enum symbol added, old has default", one(COLOR_DEFAULT), one(COLOR_MORE), set(), set()),
    ("enum symbol removed", one(COLOR_MORE), one(COLOR), {"MISSING_ENUM_SYMBOLS"}, set()),
    ("enum symbol removed, new has default", one(COLOR_MORE), one(COLOR_DEFAULT), set(), set()),
    ("enum default added", one(COLOR), one(COLOR_DEFAULT), set(), set()),
    (
        "enum default added with a symbol",
        one(COLOR),
        one(COLOR_MORE_DEFAULT),
        set(),
        {"MISSING_ENUM_SYMBOLS"},
    ),
    (
        "enum renamed",
        one(COLOR),
        one({**COLOR, "name": "Colour"}),
        {"NAME_MISMATCH"},
        {"NAME_MISMATCH"},
    ),
    (
        "fixed size changed",
        one({"type": "fixed", "name": "Hash", "size": 16}),
        one({"type": "fixed", "name": "Hash", "size": 32}),
        {"FIXED_SIZE_MISMATCH"},
        {"FIXED_SIZE_MISMATCH"},
    ),
    (
        "fixed renamed",
        one({"type": "fixed", "name": "Hash", "size": 16}),
        one({"type": "fixed", "name": "Digest", "size": 16}),
        {"NAME_MISMATCH"},
        {"NAME_MISMATCH"},
    ),
    (
        "fixed renamed with alias",
        one({"type": "fixed", "name": "Hash", "size": 16}),
        one({"type": "fixed", "name": "Digest", "size": 16, "aliases": ["Hash"]}),
        set(),
        {"NAME_MISMATCH"},
    ),
    (
        "record renamed",
        user([ID]),
        user([ID], name="Customer"),
        {"NAME_MISMATCH"},
        {"NAME_MISMATCH"},
    ),
    (
        "record renamed with alias",
        user([ID]),
        user([ID], name="Customer", aliases=["User"]),
        set(),
        {"NAME_MISMATCH"},
    ),
    (
        "record renamed with a fullname alias from another namespace",
        user([ID]),
        user([ID], name="Customer", namespace="org.shop", aliases=["com.acme.User"]),
        set(),
        {"NAME_MISMATCH"},
    ),
    (
        "namespace changed (names resolve unqualified)",
        user([ID]),
        user([ID], namespace="org.shop"),
        set(),
        set(),
    ),
    (
        "field renamed with alias",
        user([ID, field("email", "string")]),
        user([ID, field("mail", "string", aliases=["email"])]),
        set(),
        {"READER_FIELD_MISSING_DEFAULT_VALUE"},
    ),
    (
        "field renamed without alias",
        user([ID, field("email", "string")]),
        user([ID, field("mail", "string")]),
        {"READER_FIELD_MISSING_DEFAULT_VALUE"},
        {"READER_FIELD_MISSING_DEFAULT_VALUE"},
    ),
    ("made optional", one("string"), one(["null", "string"]), set(), {"TYPE_MISMATCH"}),
    (
        "optional made required",
        one(["null", "string"]),
        one("string"),
        {"TYPE_MISMATCH"},
        set(),
    ),
    (
        "union branch added",
        one(["null", "string"]),
        one(["null", "string", "int"]),
        set(),
        {"MISSING_UNION_BRANCH"},
    ),
    (
        "union branch removed",
        one(["null", "string", "int"]),
        one(["null", "string"]),
        {"MISSING_UNION_BRANCH"},
        set(),
    ),
    (
        "union branch promoted",
        one(["int", "string"]),
        one(["long", "string"]),
        set(),
        {"MISSING_UNION_BRANCH"},
    ),
    ("union reordered", one(["null", "string"]), one(["string", "null"]), set(), set()),
    (
        "scalar into a union with a promotion",
        one("int"),
        one(["null", "long"]),
        set(),
        {"TYPE_MISMATCH"},
    ),
    (
        "decimal precision changed",
        one(DECIMAL_9_2),
        one(DECIMAL_10_2),
        {"DECIMAL_MISMATCH"},
        {"DECIMAL_MISMATCH"},
    ),
    (
        "decimal scale changed",
        one(DECIMAL_9_2),
        one({**DECIMAL_9_2, "scale": 3}),
        {"DECIMAL_MISMATCH"},
        {"DECIMAL_MISMATCH"},
    ),
    ("decimal to plain bytes", one(DECIMAL_9_2), one("bytes"), set(), set()),
    (
        "fixed decimal precision changed",
        one(
            {"type": "fixed", "name": "Money", "size": 8, "logicalType": "decimal", "precision": 10}
        ),
        one(
            {"type": "fixed", "name": "Money", "size": 8, "logicalType": "decimal", "precision": 12}
        ),
        {"DECIMAL_MISMATCH"},
        {"DECIMAL_MISMATCH"},
    ),
    (
        "timestamp unit changed (logical types other than decimal do not resolve)",
        one({"type": "long", "logicalType": "timestamp-millis"}),
        one({"type": "long", "logicalType": "timestamp-micros"}),
        set(),
        set(),
    ),
    (
        "array items promoted",
        one({"type": "array", "items": "int"}),
        one({"type": "array", "items": "long"}),
        set(),
        {"TYPE_MISMATCH"},
    ),
    (
        "map values promoted",
        one({"type": "map", "values": "float"}),
        one({"type": "map", "values": "double"}),
        set(),
        {"TYPE_MISMATCH"},
    ),
    (
        "array to map",
        one({"type": "array", "items": "int"}),
        one({"type": "map", "values": "int"}),
        {"TYPE_MISMATCH"},
        {"TYPE_MISMATCH"},
    ),
    (
        "record to enum",
        one({"type": "record", "name": "Thing", "fields": []}),
        one({"type": "enum", "name": "Thing", "symbols": ["A"]}),
        {"TYPE_MISMATCH"},
        {"TYPE_MISMATCH"},
    ),
    (
        "nested field added without default",
        one({"type": "record", "name": "Address", "fields": [field("street", "string")]}),
        one(
            {
                "type": "record",
                "name": "Address",
                "fields": [field("street", "string"), field("zip", "string")],
            }
        ),
        {"READER_FIELD_MISSING_DEFAULT_VALUE"},
        set(),
    ),
    ("recursive type promoted", one(LIST_INT), one(LIST_LONG), set(), {"TYPE_MISMATCH"}),
    ("recursive type unchanged", one(LIST_INT), one(LIST_INT), set(), set()),
]


def rules(found: list[Incompatibility] | tuple[Incompatibility, ...]) -> set[str]:
    return {item.rule for item in found}


def versions(*texts: str) -> list[VersionedSchema]:
    return [VersionedSchema(index + 1, parse_avro(text)) for index, text in enumerate(texts)]


@pytest.mark.parametrize(
    ("old", "new", "backward", "forward"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_known_evolutions_in_both_directions(
    old: str, new: str, backward: set[str], forward: set[str]
) -> None:
    # The trailing space makes a distinct text, so identical cases compare two parses.
    old_schema, new_schema = parse_avro(old), parse_avro(new + " ")
    assert rules(incompatibilities(new_schema, old_schema)) == backward
    assert rules(incompatibilities(old_schema, new_schema)) == forward
    existing = versions(old)
    for level, expected in (
        (CompatibilityLevel.BACKWARD, backward),
        (CompatibilityLevel.FORWARD, forward),
        (CompatibilityLevel.FULL, backward | forward),
        (CompatibilityLevel.BACKWARD_TRANSITIVE, backward),
        (CompatibilityLevel.FORWARD_TRANSITIVE, forward),
        (CompatibilityLevel.FULL_TRANSITIVE, backward | forward),
    ):
        result = check(new_schema, existing, level)
        assert rules(result.incompatibilities) == expected, level
        assert result.compatible is (not expected)
    assert check(new_schema, existing, CompatibilityLevel.NONE).compatible


def only(found: list[Incompatibility]) -> Incompatibility:
    assert len(found) == 1, found
    return found[0]


def test_missing_default_names_the_field_and_the_fix() -> None:
    old = parse_avro(user([ID, field("name", "string"), field("age", "int")]))
    new = parse_avro(
        user([ID, field("name", "string"), field("age", "int"), field("email", "string")])
    )
    item = only(incompatibilities(new, old))
    assert item.path == "/fields/3"
    assert "`/fields/3` `email`" in item.message
    assert "add a default" in item.message


def test_paths_point_into_the_reader_schema() -> None:
    old = parse_avro(
        one(
            [
                "null",
                {
                    "type": "record",
                    "name": "Address",
                    "fields": [
                        field("zip", "int"),
                        field("tags", {"type": "array", "items": "int"}),
                    ],
                },
            ],
            default=None,
        )
    )
    new = parse_avro(
        one(
            [
                "null",
                {
                    "type": "record",
                    "name": "Address",
                    "fields": [
                        field("zip", "string"),
                        field("tags", {"type": "array", "items": "string"}),
                    ],
                },
            ],
            default=None,
        )
    )
    found = incompatibilities(new, old)
    assert [item.path for item in found] == [
        "/fields/0/type/1/fields/0/type",
        "/fields/0/type/1/fields/1/type/items",
    ]
    assert "field `zip`" in found[0].message
    assert "`int`" in found[0].message


def test_each_rule_has_a_pointer_and_an_actionable_message() -> None:
    cases = {
        "NAME_MISMATCH": (user([ID]), user([ID], name="Customer"), "/name", "aliases"),
        "FIXED_SIZE_MISMATCH": (
            one({"type": "fixed", "name": "H", "size": 1}),
            one({"type": "fixed", "name": "H", "size": 2}),
            "/fields/0/type/size",
            "keep size 1",
        ),
        "MISSING_ENUM_SYMBOLS": (
            one(COLOR_MORE),
            one(COLOR),
            "/fields/0/type/symbols",
            "`BLUE`",
        ),
        "MISSING_UNION_BRANCH": (
            one(["null", "int"]),
            one(["null", "string"]),
            "/fields/0/type",
            "add `int` to the union",
        ),
        "DECIMAL_MISMATCH": (one(DECIMAL_9_2), one(DECIMAL_10_2), "/fields/0/type", "precision 9"),
    }
    for rule, (old, new, path, words) in cases.items():
        item = only(incompatibilities(parse_avro(new), parse_avro(old)))
        assert item.rule == rule
        assert item.path == path
        assert words in item.message, item.message


def test_top_level_non_record_schemas() -> None:
    assert incompatibilities(parse_avro('"long"'), parse_avro('"int"')) == []
    item = only(incompatibilities(parse_avro('"int"'), parse_avro('"long"')))
    assert (item.rule, item.path) == ("TYPE_MISMATCH", "")
    union = parse_avro('["null", "string"]')
    assert rules(incompatibilities(parse_avro('"string"'), union)) == {"TYPE_MISMATCH"}
    assert incompatibilities(union, parse_avro('"string"')) == []


def test_mutually_recursive_types_terminate() -> None:
    tree = {
        "type": "record",
        "name": "Tree",
        "fields": [
            field(
                "children",
                {
                    "type": "array",
                    "items": {
                        "type": "record",
                        "name": "Branch",
                        "fields": [field("tree", "Tree"), field("weight", "int")],
                    },
                },
            )
        ],
    }
    heavier = json.loads(json.dumps(tree))
    heavier["fields"][0]["type"]["items"]["fields"][1]["type"] = "double"
    old, new = parse_avro(json.dumps(tree)), parse_avro(json.dumps(heavier))
    assert incompatibilities(new, old) == []
    item = only(incompatibilities(old, new))
    assert item.path == "/fields/0/type/items/fields/1/type"


def test_types_from_references_are_compared_and_reported_as_such() -> None:
    def address(zip_type: str) -> ResolvedReference:
        body = {
            "type": "record",
            "name": "com.acme.Address",
            "fields": [field("zip", zip_type)],
        }
        return ResolvedReference("com.acme.Address", "address-value", 1, json.dumps(body))

    text = user([field("home", "Address")])
    old = parse_avro(text, [address("int")])
    new = parse_avro(text, [address("string")])
    item = only(incompatibilities(new, old))
    assert item.path == "/fields/0/type"
    assert "referenced schema `com.acme.Address`" in item.message
    assert item.origin == "com.acme.Address", "the origin is a field, not only words"
    own = only(incompatibilities(parse_avro(user([field("home", "string")])), old))
    assert own.origin is None


def transitive_history() -> tuple[AvroSchema, list[VersionedSchema]]:
    # v1 has no email; v2 adds it with a default; v3 drops the default.
    v1 = user([ID])
    v2 = user([ID, field("email", "string", default="")])
    v3 = user([ID, field("email", "string")])
    return parse_avro(v3), versions(v1, v2)


def test_non_transitive_levels_check_the_latest_version_only() -> None:
    new, existing = transitive_history()
    assert check(new, existing, "BACKWARD").compatible
    assert check(new, existing, "FULL").compatible


def test_transitive_levels_check_every_version_newest_first() -> None:
    new, existing = transitive_history()
    result = check(new, existing, "BACKWARD_TRANSITIVE")
    assert [(item.version, item.rule) for item in result.incompatibilities] == [
        (1, "READER_FIELD_MISSING_DEFAULT_VALUE")
    ]
    assert result.incompatibilities[0].direction == "backward"
    everything = versions(
        one(["null", "int"]), one(["null", "int", "string"]), one(["null", "int", "boolean"])
    )
    narrowed = parse_avro(one(["null", "int"]))
    result = check(narrowed, everything, "BACKWARD_TRANSITIVE")
    assert [item.version for item in result.incompatibilities] == [3, 2]
    forward = check(parse_avro(one(["null", "string"])), everything, "FULL_TRANSITIVE")
    assert [(item.version, item.direction) for item in forward.incompatibilities] == [
        (3, "backward"),
        (3, "backward"),
        (3, "forward"),
        (2, "backward"),
        (1, "backward"),
        (1, "forward"),
    ]
