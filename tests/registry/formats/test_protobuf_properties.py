"""Properties of the Protobuf canonical and normalized texts over generated schemas."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.formats.protobuf import parse_protobuf

SCALARS = ["int32", "int64", "uint32", "sint64", "fixed32", "sfixed64", "bool", "string", "bytes",
           "float", "double"]  # fmt: skip
NAMES = st.text("abcdefgh", min_size=1, max_size=6)


@st.composite
def messages(draw: st.DrawFn, name: str, depth: int, syntax: str) -> str:
    count = draw(st.integers(min_value=0, max_value=6))
    numbers = draw(st.lists(st.integers(1, 2000), min_size=count, max_size=count, unique=True))
    lines = []
    nested = []
    if depth < 2 and draw(st.booleans()):
        nested.append(draw(messages(f"{name}N", depth + 1, syntax)))
    enum = draw(st.booleans())
    oneof: list[str] = []
    for index, number in enumerate(numbers):
        kind = draw(st.sampled_from(["scalar", "repeated", "map", "enum", "nested", "oneof"]))
        field = f"f{index}_{draw(NAMES)}"
        scalar = draw(st.sampled_from(SCALARS))
        option = draw(st.sampled_from(["", " [deprecated = true]", f' [json_name = "j{index}"]']))
        if kind == "repeated":
            lines.append(f"repeated {scalar} {field} = {number}{option};")
        elif kind == "map":
            lines.append(f"map<string, {scalar}> {field} = {number};")
        elif kind == "enum" and enum:
            lines.append(f"{'optional ' if syntax == 'proto2' else ''}E{name} {field} = {number};")
        elif kind == "nested" and nested:
            lines.append(f"{'optional ' if syntax == 'proto2' else ''}{name}N {field} = {number};")
        elif kind == "oneof":
            oneof.append(f"{scalar} {field} = {number};")
        else:
            label = "optional " if syntax == "proto2" or draw(st.booleans()) else ""
            lines.append(f"{label}{scalar} {field} = {number}{option};")
    if oneof:
        lines.append("oneof choice { " + " ".join(oneof) + " }")
    if enum:
        lines.append(f"enum E{name} {{ E{name}_ZERO = 0; E{name}_ONE = 1; }}")
    if draw(st.booleans()):
        lines.append("reserved 3000 to 3005, 4000;")
    body = " ".join(nested + lines)
    return f"message {name} {{ {body} }}"


@st.composite
def schemas(draw: st.DrawFn) -> str:
    syntax = draw(st.sampled_from(["proto2", "proto3"]))
    count = draw(st.integers(min_value=1, max_value=3))
    parts = [draw(messages(f"M{index}", 0, syntax)) for index in range(count)]
    package = draw(st.sampled_from(["", "package a.b;"]))
    options = draw(st.sampled_from(["", 'option java_package = "x.y";']))
    return f'syntax = "{syntax}";\n{package}\n{options}\n' + "\n".join(parts)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(schemas())
def test_the_canonical_text_compiles_to_the_same_descriptor(text: str) -> None:
    schema = parse_protobuf(text)
    again = parse_protobuf(schema.canonical_string())
    assert again.proto == schema.proto
    assert again.canonical_string() == schema.canonical_string()


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(schemas())
def test_the_normalized_text_is_a_fixed_point_and_reads_data_alike(text: str) -> None:
    schema = parse_protobuf(text)
    normalized = parse_protobuf(schema.normalized_form())
    assert normalized.normalized_form() == schema.normalized_form()
    assert normalized.canonical_string() == schema.normalized_form()
    from registry.compatibility.protobuf import incompatibilities

    assert incompatibilities(normalized, schema) == []
    assert incompatibilities(schema, normalized) == []
