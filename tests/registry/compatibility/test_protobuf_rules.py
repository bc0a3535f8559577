"""Protobuf compatibility: Confluent's rule table, each change checked in both directions."""

from __future__ import annotations

import pytest

from registry.compatibility import CompatibilityLevel, VersionedSchema, check
from registry.compatibility.protobuf import incompatibilities
from registry.formats import ResolvedReference
from registry.formats.protobuf import ProtobufSchema, parse_protobuf


def proto(body: str, syntax: str = "proto3", package: str = "p") -> ProtobufSchema:
    return parse_protobuf(f'syntax = "{syntax}";\npackage {package};\n{body}')


def rules(reader: ProtobufSchema, writer: ProtobufSchema) -> list[tuple[str, str]]:
    return [(item.rule, item.path) for item in incompatibilities(reader, writer)]


# (old body, new body, findings when new reads old data, findings when old reads new data)
TABLE = [
    pytest.param(
        "message M { int32 a = 1; }",
        "message M { int32 a = 1; int32 b = 2; }",
        [],
        [],
        id="field added",
    ),
    pytest.param(
        "message M { int32 a = 1; }", "message M { int32 b = 1; }", [], [], id="field renamed"
    ),
    pytest.param(
        "message M { int32 a = 1; }", "message M { int64 a = 1; }", [], [], id="int32 to int64"
    ),
    pytest.param(
        "message M { int32 a = 1; }", "message M { bool a = 1; }", [], [], id="int32 to bool"
    ),
    pytest.param(
        "message M { string a = 1; }", "message M { bytes a = 1; }", [], [], id="string to bytes"
    ),
    pytest.param(
        "message M { fixed32 a = 1; }", "message M { sfixed32 a = 1; }", [], [], id="fixed32 kinds"
    ),
    pytest.param(
        "message M { int32 a = 1; }",
        "message M { sint32 a = 1; }",
        [("FIELD_SCALAR_KIND_CHANGED", "#/M/1")],
        [("FIELD_SCALAR_KIND_CHANGED", "#/M/1")],
        id="int32 to sint32",
    ),
    pytest.param(
        "message M { int32 a = 1; }",
        "message M { string a = 1; }",
        [("FIELD_SCALAR_KIND_CHANGED", "#/M/1")],
        [("FIELD_SCALAR_KIND_CHANGED", "#/M/1")],
        id="int32 to string",
    ),
    pytest.param(
        "message M { float a = 1; }",
        "message M { double a = 1; }",
        [("FIELD_SCALAR_KIND_CHANGED", "#/M/1")],
        [("FIELD_SCALAR_KIND_CHANGED", "#/M/1")],
        id="float to double",
    ),
    pytest.param(
        "message M { E a = 1; } enum E { X = 0; }",
        "message M { int32 a = 1; } enum E { X = 0; }",
        [],
        [],
        id="enum to int32",
    ),
    pytest.param(
        "message M { int32 a = 1; }",
        "message M { N a = 1; } message N {}",
        [("FIELD_KIND_CHANGED", "#/M/1")],
        [("FIELD_KIND_CHANGED", "#/M/1"), ("MESSAGE_REMOVED", "#/N")],
        id="scalar to message",
    ),
    pytest.param(
        "message M { map<string, int32> a = 1; }",
        "message M { repeated N a = 1; } message N {}",
        [("FIELD_KIND_CHANGED", "#/M/1")],
        [("FIELD_KIND_CHANGED", "#/M/1"), ("MESSAGE_REMOVED", "#/N")],
        id="map to repeated message",
    ),
    pytest.param(
        "message M { map<string, int32> a = 1; }",
        "message M { map<string, string> a = 1; }",
        [("FIELD_SCALAR_KIND_CHANGED", "#/M/1")],
        [("FIELD_SCALAR_KIND_CHANGED", "#/M/1")],
        id="map value type",
    ),
    pytest.param(
        "message M { N a = 1; } message N {} message O {}",
        "message M { O a = 1; } message N {} message O {}",
        [("FIELD_NAMED_TYPE_CHANGED", "#/M/1")],
        [("FIELD_NAMED_TYPE_CHANGED", "#/M/1")],
        id="message type renamed",
    ),
    pytest.param(
        "message M { optional int32 a = 1; }",
        "message M { repeated int32 a = 1; }",
        [("FIELD_NUMERIC_LABEL_CHANGED", "#/M/1")],
        [("FIELD_NUMERIC_LABEL_CHANGED", "#/M/1")],
        id="optional to repeated number",
    ),
    pytest.param(
        "message M { optional string a = 1; }",
        "message M { repeated string a = 1; }",
        [],
        [],
        id="optional to repeated string",
    ),
    pytest.param(
        "message M { int32 a = 1; }",
        "message M { reserved 1; }",
        [],
        [],
        id="field removed and reserved",
    ),
    pytest.param(
        "message M {} message N {}",
        "message M {}",
        [("MESSAGE_REMOVED", "#/N")],
        [],
        id="message removed",
    ),
    pytest.param(
        "message M {} message N {}", "message N {} message M {}", [], [], id="message moved"
    ),
    pytest.param(
        "message M {}",
        "package q;",
        [("PACKAGE_CHANGED", "#/")],
        [("PACKAGE_CHANGED", "#/")],
        id="package renamed",
    ),
    pytest.param(
        "message M { E e = 1; } enum E { A = 0; B = 1; }",
        "message M { E e = 1; } enum E { A = 0; }",
        [],
        [],
        id="enum value removed",
    ),
    pytest.param(
        "message M { E e = 1; } enum E { A = 0; B = 1; }",
        "message M { E e = 1; } enum E { A = 0; C = 1; }",
        [],
        [],
        id="enum value renamed",
    ),
    pytest.param(
        "message M { int32 a = 1; }",
        "message M { oneof o { int32 a = 1; } }",
        [],
        [],
        id="one field into a new oneof",
    ),
    pytest.param(
        "message M { int32 a = 1; int32 b = 2; }",
        "message M { oneof o { int32 a = 1; int32 b = 2; } }",
        [("MULTIPLE_FIELDS_MOVED_TO_ONEOF", "#/M/o")],
        [],
        id="two fields into a oneof",
    ),
    pytest.param(
        "message M { int32 a = 1; oneof o { int32 b = 2; } }",
        "message M { oneof o { int32 a = 1; int32 b = 2; } }",
        [("FIELD_MOVED_TO_EXISTING_ONEOF", "#/M/o")],
        [],
        id="field into an existing oneof",
    ),
    pytest.param(
        "message M { oneof o { int32 a = 1; int32 b = 2; } }",
        "message M { oneof o { int32 a = 1; } }",
        [("ONEOF_FIELD_REMOVED", "#/M/o/2")],
        [],
        id="oneof member removed",
    ),
    pytest.param(
        "message M { oneof o { int32 a = 1; int32 b = 2; } }",
        "message M { }",
        [],
        [],
        id="whole oneof removed",
    ),
    pytest.param(
        "message M { oneof o { int32 a = 1; } }",
        "message M { int32 a = 1; }",
        [],
        [],
        id="oneof field to top level",
    ),
    pytest.param(
        "message M { message N { int32 a = 1; } }",
        "message M { message N { string a = 1; } }",
        [("FIELD_SCALAR_KIND_CHANGED", "#/M/N/1")],
        [("FIELD_SCALAR_KIND_CHANGED", "#/M/N/1")],
        id="nested message field",
    ),
]


@pytest.mark.parametrize(("old", "new", "backward", "forward"), TABLE)
def test_rule_table_both_ways(
    old: str, new: str, backward: list[tuple[str, str]], forward: list[tuple[str, str]]
) -> None:
    renamed = new == "package q;"
    old_schema = proto(old)
    new_schema = proto(old, package="q") if renamed else proto(new)
    assert rules(new_schema, old_schema) == backward
    assert rules(old_schema, new_schema) == forward


PROTO2 = [
    (
        "message M { optional int32 a = 1; }",
        "message M { optional int32 a = 1; required int32 b = 2; }",
        [("REQUIRED_FIELD_ADDED", "#/M/2")],
        [("REQUIRED_FIELD_REMOVED", "#/M/2")],
    ),
    # Confluent compares labels of numeric fields as written: required -> optional counts too
    (
        "message M { required int32 a = 1; }",
        "message M { optional int32 a = 1; }",
        [("FIELD_NUMERIC_LABEL_CHANGED", "#/M/1")],
        [("FIELD_NUMERIC_LABEL_CHANGED", "#/M/1")],
    ),
    ("message M { required string a = 1; }", "message M { optional string a = 1; }", [], []),
    (
        "message M { optional int32 a = 1; }",
        "message M { repeated int32 a = 1; }",
        [("FIELD_NUMERIC_LABEL_CHANGED", "#/M/1")],
        [("FIELD_NUMERIC_LABEL_CHANGED", "#/M/1")],
    ),
]


@pytest.mark.parametrize(("old", "new", "backward", "forward"), PROTO2)
def test_proto2_required_both_ways(
    old: str, new: str, backward: list[tuple[str, str]], forward: list[tuple[str, str]]
) -> None:
    old_schema, new_schema = proto(old, "proto2"), proto(new, "proto2")
    assert rules(new_schema, old_schema) == backward
    assert rules(old_schema, new_schema) == forward


COMMON_V1 = 'syntax = "proto3";\npackage common;\nmessage Money { int64 units = 1; }'
COMMON_V2 = 'syntax = "proto3";\npackage common;\nmessage Money { string units = 1; }'
USES = 'syntax = "proto3";\npackage p;\nimport "money.proto";\nmessage M { common.Money m = 1; }'


def test_a_referenced_message_that_changed_is_compared_into() -> None:
    old = parse_protobuf(USES, [ResolvedReference("money.proto", "money", 1, COMMON_V1)])
    new = parse_protobuf(USES, [ResolvedReference("money.proto", "money", 2, COMMON_V2)])
    assert rules(new, old) == [
        ("FIELD_SCALAR_KIND_CHANGED", "#/Money/1"),
        ("FIELD_NAMED_TYPE_CHANGED", "#/M/1"),
    ]
    same = parse_protobuf(USES, [ResolvedReference("money.proto", "money", 1, COMMON_V1)])
    assert rules(same, old) == []


def test_recursive_messages_terminate() -> None:
    old = proto("message Tree { repeated Tree children = 1; int32 v = 2; }")
    new = proto("message Tree { repeated Tree children = 1; string v = 2; }")
    assert rules(new, old) == [("FIELD_SCALAR_KIND_CHANGED", "#/Tree/2")]


def test_findings_carry_a_fix_and_levels_follow_direction() -> None:
    old = proto("message M {} message N {}")
    new = proto("message M {}")
    [finding] = incompatibilities(new, old)
    assert "p.N" in finding.message and "keep the message" in finding.message
    history = [VersionedSchema(1, old)]
    assert not check(new, history, CompatibilityLevel.BACKWARD).compatible
    assert check(new, history, CompatibilityLevel.FORWARD).compatible
    assert not check(new, history, CompatibilityLevel.FULL_TRANSITIVE).compatible
    assert check(new, history, CompatibilityLevel.NONE).compatible
