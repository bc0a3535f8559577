"""The per-object meta-schema check agrees with validating the whole document at once."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema.exceptions import SchemaError as MetaSchemaError

from registry.formats import SchemaError
from registry.formats.jsonschema.loading import VALIDATORS, ensure_recursion_headroom
from registry.formats.jsonschema.metaschema import check_against_meta_schema
from tests.registry.json_strategies import json_schemas, keyword_soup

ensure_recursion_headroom(128)
# Parsing may raise the interpreter's recursion ceiling (never lower it); hypothesis notes
# that it then cannot restore the value it had set.
pytestmark = pytest.mark.filterwarnings("ignore:The recursion limit will not be reset")


def whole_document_valid(document: Any, draft: str) -> bool:
    try:
        VALIDATORS[draft].check_schema(document)
    except MetaSchemaError:
        return False
    return True


def per_object_valid(document: Any, draft: str) -> bool:
    try:
        check_against_meta_schema(document, draft)
    except SchemaError:
        return False
    return True


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(keyword_soup | json_schemas(), st.sampled_from(sorted(VALIDATORS)))
def test_same_verdict_as_validating_the_whole_document(document: Any, draft: str) -> None:
    assert per_object_valid(document, draft) == whole_document_valid(document, draft)


@pytest.mark.parametrize(
    ("document", "draft", "where"),
    [
        (
            {"properties": {"a": {"properties": {"b": {"type": "strin"}}}}},
            "draft-07",
            "/properties/a/properties/b/type",
        ),
        ({"properties": {"a": True}}, "draft-04", "/properties/a"),
        ({"items": [{"minLength": -1}]}, "2019-09", "/items/0/minLength"),
        ({"items": [{}]}, "2020-12", "/items"),
        ({"patternProperties": {"(": {}}}, "draft-07", "/patternProperties"),
    ],
)
def test_errors_name_the_place(document: Any, draft: str, where: str) -> None:
    with pytest.raises(SchemaError) as error:
        check_against_meta_schema(document, draft)
    assert error.value.path.startswith(where)


def test_repeated_shapes_are_checked_once_but_errors_still_found() -> None:
    good = {
        "type": "object",
        "properties": {f"p{i}": {"type": "string", "description": f"{i}"} for i in range(50)},
    }
    check_against_meta_schema(good, "draft-07")
    bad = {**good, "properties": {**good["properties"], "p7": {"type": "string", "description": 7}}}
    with pytest.raises(SchemaError) as error:
        check_against_meta_schema(bad, "draft-07")
    assert error.value.path == "/properties/p7/description"
