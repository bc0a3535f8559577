"""Protobuf generation: for generated proto3 (and proto2) messages every value parses into the
message class and serializes; seeds repeat; schema and catalog PII tags give fake values."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format, message_factory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.formats import parse_schema
from testdata import generator_for

SCALARS = ["double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64",
           "fixed32", "fixed64", "sfixed32", "sfixed64", "bool", "string", "bytes"]  # fmt: skip
WELL_KNOWN = {
    "google.protobuf.Timestamp": "google/protobuf/timestamp.proto",
    "google.protobuf.Duration": "google/protobuf/duration.proto",
    "google.protobuf.StringValue": "google/protobuf/wrappers.proto",
    "google.protobuf.Int64Value": "google/protobuf/wrappers.proto",
    "google.protobuf.Struct": "google/protobuf/struct.proto",
    "google.protobuf.Value": "google/protobuf/struct.proto",
    "google.protobuf.ListValue": "google/protobuf/struct.proto",
    "google.protobuf.FieldMask": "google/protobuf/field_mask.proto",
    "google.protobuf.Empty": "google/protobuf/empty.proto",
    "google.protobuf.Any": "google/protobuf/any.proto",
}


@st.composite
def proto3_files(draw: st.DrawFn) -> str:
    """A proto3 file whose first message uses scalars, enums, nested and recursive messages,
    repeated fields, maps, oneofs, `optional` and well-known types."""
    kinds = st.sampled_from([*SCALARS, "Kind", "Inner", "Top", *WELL_KNOWN])
    lines = []
    number = 1
    imports = set()
    for i in range(draw(st.integers(1, 8))):
        kind = draw(kinds)
        imports.add(WELL_KNOWN.get(kind))
        shape = draw(st.sampled_from(["", "repeated ", "optional ", "map", "oneof"]))
        if shape == "map":
            key = draw(st.sampled_from(["string", "int32", "int64", "bool", "uint32"]))
            lines.append(f"  map<{key}, {kind}> f{i} = {number};")
        elif shape == "oneof":
            other = draw(st.sampled_from(SCALARS))
            lines.append(f"  oneof o{i} {{ {kind} f{i} = {number}; {other} g{i} = {number + 1}; }}")
            number += 1
        elif shape == "optional " and kind in ("Top", "Inner", *WELL_KNOWN):
            lines.append(f"  {kind} f{i} = {number};")
        else:
            lines.append(f"  {shape}{kind} f{i} = {number};")
        number += 1
    header = "\n".join(f'import "{name}";' for name in sorted(n for n in imports if n))
    body = "\n".join(lines)
    return f"""syntax = "proto3";
package gen.test;
{header}
message Top {{
{body}
  enum Kind {{ KIND_UNKNOWN = 0; KIND_A = 1; KIND_B = 2; }}
  message Inner {{ string name = 1; repeated Inner children = 2; Kind kind = 3; }}
}}
"""


def _parsed(text: str) -> Any:
    return parse_schema("PROTOBUF", text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=proto3_files(), seed=st.integers(0, 2**32))
def test_every_value_parses_and_serializes(text: str, seed: int) -> None:
    parsed = _parsed(text)
    cls = message_factory.GetMessageClass(parsed.message([0]))
    generator = generator_for(parsed, seed=seed)
    for _ in range(5):
        value = generator.generate()
        message = json_format.ParseDict(value, cls())  # an independent parse
        again = cls.FromString(message.SerializeToString())
        assert again == message


@settings(max_examples=20, deadline=None)
@given(text=proto3_files(), seed=st.integers(0, 2**32))
def test_equal_seeds_give_equal_values(text: str, seed: int) -> None:
    a = generator_for(_parsed(text), seed=seed)
    b = generator_for(_parsed(text), seed=seed)
    assert [a.generate() for _ in range(3)] == [b.generate() for _ in range(3)]


PERSON = """syntax = "proto2";
package crm;
import "confluent/meta.proto";

message Person {
  required string email = 1 [(confluent.field_meta).tags = "PII"];
  required string phone = 2;
  optional string note = 3;
  message Address { required string street = 1 [(confluent.field_meta).tags = "PII"]; }
  required Address address = 4;
}
"""


def test_proto2_required_fields_and_pii_tags() -> None:
    parsed = _parsed(PERSON)
    generator = generator_for(parsed, seed=2, field_tags={"phone": ["pii"]})
    cls = message_factory.GetMessageClass(parsed.message([0]))
    for _ in range(50):
        value = generator.generate()
        message = json_format.ParseDict(value, cls())
        assert message.IsInitialized()
        assert "@" in message.email
        assert not message.phone.startswith("phone-") and any(c.isdigit() for c in message.phone)
        assert not message.address.street.startswith("street-")
