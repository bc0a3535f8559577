"""JSON pointers mapped to lines, and carried from an old schema version to a new one."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from registry.check.pointers import escape, line_of, pointer_lines, split, translate

SCHEMA = """{
  "type": "record",
  "name": "Order",
  "fields": [
    {"name": "id", "type": "string"},
    {
      "name": "a/b~c",
      "type": ["null", "long"]
    }
  ]
}
"""


def test_lines_of_members_and_items() -> None:
    assert line_of(SCHEMA, "") == 1
    assert line_of(SCHEMA, "/name") == 3
    assert line_of(SCHEMA, "/fields/0") == 5
    # A named array item points at its name.
    assert line_of(SCHEMA, "/fields/1") == 7
    assert line_of(SCHEMA, "/fields/1/type/1") == 8
    assert line_of(SCHEMA, f"/fields/1/{escape('name')}") == 7


def test_unknown_pointers_fall_back_to_the_nearest_enclosing_value() -> None:
    assert line_of(SCHEMA, "/fields/7/type") == 4
    assert line_of(SCHEMA, "/nothing") == 1
    assert line_of("not json at all", "/x") == 1


def test_escaped_tokens_round_trip() -> None:
    assert split("/fields/1/" + escape("a/b~c")) == ["fields", "1", "a/b~c"]
    assert split("") == []


def test_translate_follows_fields_by_name() -> None:
    old = {"fields": [{"name": "gone"}, {"name": "kept", "type": "int"}]}
    new = {"fields": [{"name": "added"}, {"name": "other"}, {"name": "kept", "type": "long"}]}
    assert translate("/fields/1/type", old, new) == "/fields/2/type"
    assert translate("/fields/0/type", old, new) == "/fields"
    assert translate("/fields/1/type", old, old) == "/fields/1/type"


_JSON: Any = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


def _pointers(doc: Any, prefix: str = "") -> list[str]:
    found = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += _pointers(value, f"{prefix}/{escape(key)}")
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found += _pointers(value, f"{prefix}/{index}")
    return found


@settings(deadline=None, max_examples=80)
@given(_JSON, st.sampled_from([None, 2]))
def test_every_pointer_of_any_document_has_a_line(doc: Any, indent: int | None) -> None:
    text = json.dumps(doc, indent=indent)
    lines = pointer_lines(text)
    line_count = text.count("\n") + 1
    for pointer in _pointers(doc):
        assert pointer in lines
        assert 1 <= lines[pointer] <= line_count
