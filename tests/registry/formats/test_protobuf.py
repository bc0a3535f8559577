"""The Protobuf format: compiling, imports through references only, canonical and normalized
text, base64 descriptors, field tags, limits and errors with line and column."""

from __future__ import annotations

import pytest

from registry.formats import Limits, ResolvedReference, SchemaError, parse_schema
from registry.formats.protobuf import parse_protobuf
from tests.registry.protobuf_samples import MONEY_REF, ORDER, order_schema


def test_a_schema_with_an_import_and_a_well_known_type_compiles() -> None:
    schema = order_schema()
    assert schema.name == "shop.Order"
    assert [m.full_name for m in schema.messages()][:3] == [
        "shop.Order",
        "shop.Order.LabelsEntry",
        "shop.Order.Line",
    ]
    assert set(schema.files) >= {"common/money.proto", "google/protobuf/timestamp.proto"}


def test_respellings_share_the_canonical_string() -> None:
    respelled = (
        ORDER.replace("  ", "\t")
        .replace("common.Money total", ".common.Money total")
        .replace("// An order as the shop writes it.", "/* another comment */")
    )
    assert (
        parse_protobuf(respelled, [MONEY_REF]).canonical_string()
        == order_schema().canonical_string()
    )


def test_the_canonical_string_is_a_fixed_point_and_keeps_the_descriptor() -> None:
    schema = order_schema()
    again = parse_protobuf(schema.canonical_string(), [MONEY_REF])
    assert again.canonical_string() == schema.canonical_string()
    assert again.proto.message_type == schema.proto.message_type


def test_a_base64_descriptor_is_the_same_schema_as_its_text() -> None:
    schema = order_schema()
    from_descriptor = parse_protobuf(schema.serialized(), [MONEY_REF])
    assert from_descriptor.canonical_string() == schema.canonical_string()


def test_the_normalized_form_sorts_what_confluent_sorts() -> None:
    imports = ('import "google/protobuf/any.proto";', 'import "google/protobuf/empty.proto";')
    a = "\n".join(
        [
            'syntax = "proto3";',
            *imports,
            'message M { int32 b = 2; int32 a = 1 [deprecated = true, json_name = "x"]; }',
        ]
    )
    b = "\n".join(
        [
            'syntax = "proto3";',
            *reversed(imports),
            'message M { int32 a = 1 [json_name = "x", deprecated = true]; int32 b = 2; }',
        ]
    )
    first, second = parse_protobuf(a), parse_protobuf(b)
    assert first.canonical_string() != second.canonical_string()
    assert first.normalized_form() == second.normalized_form()
    assert parse_protobuf(first.normalized_form()).canonical_string() == first.normalized_form()


def test_message_order_is_kept_when_normalizing() -> None:
    schema = parse_protobuf('syntax = "proto3"; message B {} message A {}')
    assert schema.normalized_form().index("message B") < schema.normalized_form().index("message A")


def test_field_tags_from_confluent_meta() -> None:
    schema = parse_protobuf(
        'syntax = "proto3";\npackage p;\nimport "confluent/meta.proto";\n'
        'message User { string email = 1 [(confluent.field_meta).tags = "PII"];\n'
        '  message Card { string pan = 1 [(confluent.field_meta) = {tags: ["PCI", "PII"]}]; }\n'
        "  Card card = 2; }"
    )
    assert [(t.path, t.tags) for t in schema.field_tags()] == [
        ("/User/email", ("PII",)),
        ("/User/Card/pan", ("PCI", "PII")),
    ]
    again = parse_protobuf(schema.canonical_string())
    assert again.field_tags() == schema.field_tags()


def test_proto2_features_survive_the_canonical_string() -> None:
    text = """syntax = "proto2";
package legacy;
message Old {
  required string id = 1;
  optional int32 count = 2 [default = 7];
  optional string name = 3 [default = "a\\"b"];
  repeated int32 ids = 4 [packed = true];
  extensions 100 to max;
  reserved 8, 10 to 12;
  reserved "gone";
  optional group Result = 5 { optional string url = 6; }
}
extend Old { optional string extra = 100; }
enum E { option allow_alias = true; A = 0; B = 1; C = 1; reserved 5 to 7; }
service S { rpc Get(Old) returns (stream Old); }
"""
    schema = parse_protobuf(text)
    again = parse_protobuf(schema.canonical_string())
    assert again.proto == schema.proto
    assert again.canonical_string() == schema.canonical_string()


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('syntax = "proto3";\nmessage A {\n  int32 a = 1\n}', "line 4, column 1"),
        ('syntax = "proto3";\nmessage A { Missing m = 1; }', "line 2, column 13"),
        ('syntax = "proto3";\nmessage A { int32 a = 1; int32 b = 1; }', "line 2"),
    ],
)
def test_errors_name_line_and_column(text: str, where: str) -> None:
    with pytest.raises(SchemaError, match=where):
        parse_protobuf(text)


@pytest.mark.parametrize(
    "target",
    ["/etc/hostname", "../../etc/hostname", "https://example.com/x.proto", "missing.proto"],
)
def test_imports_resolve_only_through_references(target: str) -> None:
    with pytest.raises(SchemaError, match="not found"):
        parse_protobuf(f'syntax = "proto3";\nimport "{target}";\nmessage A {{}}')


@pytest.mark.parametrize("name", ["../x.proto", "/abs.proto", "a//b.proto", "a\\b.proto", ""])
def test_reference_names_must_be_plain_relative_paths(name: str) -> None:
    with pytest.raises(SchemaError, match=r"not a valid import path"):
        parse_protobuf('syntax = "proto3"; message A {}', [ResolvedReference(name, "s", 1, "")])


def test_an_error_inside_a_reference_names_it() -> None:
    bad = ResolvedReference("common/money.proto", "m", 1, 'syntax = "proto3"; message Money {')
    with pytest.raises(SchemaError, match=r"referenced schema .common/money\.proto."):
        parse_protobuf(ORDER, [bad])


def test_limits_on_size_and_nesting() -> None:
    deep = 'syntax = "proto3";\n' + "message M { " * 6 + "}" * 6
    with pytest.raises(SchemaError, match=r"nest deeper than the limit of 5"):
        parse_protobuf(deep, limits=Limits(max_depth=5))
    with pytest.raises(SchemaError, match="over the limit"):
        parse_schema("PROTOBUF", "message A {}" + " " * 2000, limits=Limits(max_schema_bytes=1000))


@pytest.mark.parametrize("text", ["", "   ", "abcd", "AAAA"])
def test_empty_or_garbage_is_refused(text: str) -> None:
    with pytest.raises(SchemaError):
        parse_protobuf(text)
