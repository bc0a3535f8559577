"""Properties of JSON Schema compatibility that hold for every generated schema."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.compatibility import CompatibilityLevel, VersionedSchema, check
from registry.compatibility.jsonschema import incompatibilities
from registry.formats import DEFAULT_LIMITS, SchemaError
from registry.formats.jsonschema import JsonSchema, parse_json_schema
from registry.formats.jsonschema.loading import ensure_recursion_headroom
from tests.registry.json_strategies import (
    instance_for,
    json_schema_histories,
    json_schemas,
    json_values,
    keyword_soup,
    to_2020,
)

# Parsing raises the recursion ceiling once; do it before hypothesis records the limit.
ensure_recursion_headroom(DEFAULT_LIMITS.max_depth)
# Parsing may raise the interpreter's recursion ceiling (never lower it); hypothesis notes
# that it then cannot restore the value it had set.
pytestmark = pytest.mark.filterwarnings("ignore:The recursion limit will not be reset")

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse(document: Any) -> JsonSchema:
    return parse_json_schema(json.dumps(document))


def compatible(new: JsonSchema, old: JsonSchema, level: CompatibilityLevel) -> bool:
    return check(new, [VersionedSchema(1, old)], level).compatible


@SETTINGS
@given(json_schemas())
def test_every_schema_is_fully_compatible_with_itself(document: Any) -> None:
    schema = parse(document)
    assert compatible(schema, schema, CompatibilityLevel.FULL)
    assert compatible(parse(document), schema, CompatibilityLevel.FULL_TRANSITIVE)


@SETTINGS
@given(json_schema_histories())
def test_full_is_backward_and_forward(history: list[Any]) -> None:
    old, new = (parse(version) for version in history)
    backward = compatible(new, old, CompatibilityLevel.BACKWARD)
    forward = compatible(new, old, CompatibilityLevel.FORWARD)
    assert compatible(new, old, CompatibilityLevel.FULL) == (backward and forward)


@SETTINGS
@given(json_schema_histories(length=4))
def test_transitive_implies_non_transitive(history: list[Any]) -> None:
    *older, newest = (parse(version) for version in history)
    existing = [VersionedSchema(index + 1, schema) for index, schema in enumerate(older)]
    for level in ("BACKWARD", "FORWARD", "FULL"):
        transitive = check(newest, existing, f"{level}_TRANSITIVE").compatible
        latest_only = check(newest, existing, level).compatible
        assert not transitive or latest_only


@SETTINGS
@given(json_schemas())
def test_normalization_is_idempotent(document: Any) -> None:
    once = parse(document).normalized_form()
    assert parse_json_schema(once).normalized_form() == once


@SETTINGS
@given(json_schema_histories())
def test_normalization_preserves_verdicts(history: list[Any]) -> None:
    old, new = (parse(version) for version in history)
    old_n, new_n = (parse_json_schema(schema.normalized_form()) for schema in (old, new))
    assert bool(incompatibilities(new, old)) == bool(incompatibilities(new_n, old_n))
    assert bool(incompatibilities(old, new)) == bool(incompatibilities(old_n, new_n))


def _any_of_only(document: Any) -> Any:
    """`oneOf` spelled as `anyOf`: like Confluent, the checker does not prove `oneOf` branches
    mutually exclusive, so the validation differential runs on `anyOf`."""
    return json.loads(json.dumps(document).replace('"oneOf"', '"anyOf"'))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    json_schema_histories(),
    st.randoms(use_true_random=False),
    st.lists(json_values, max_size=5),
    st.booleans(),
)
def test_backward_compatible_means_old_data_validates_under_the_new_schema(
    history: list[Any], rnd: random.Random, extra: list[Any], modern: bool
) -> None:
    """Differential check against `jsonschema` validation: no false 'compatible' verdicts.

    Instances are generated from the draft-7 spelling; with `modern`, both schemas are
    compared and validated in their draft 2020-12 spelling.
    """
    old_doc, new_doc = (_any_of_only(version) for version in history)
    spell = to_2020 if modern else (lambda document: document)
    old, new = parse(spell(old_doc)), parse(spell(new_doc))
    if incompatibilities(new, old):
        return
    old_validator, new_validator = old.validator(), new.validator()
    candidates = [instance_for(old_doc, rnd) for _ in range(20)] + extra
    for instance in candidates:
        if old_validator.is_valid(instance):
            assert new_validator.is_valid(instance), (old_doc, new_doc, instance)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(keyword_soup, keyword_soup)
def test_arbitrary_documents_are_rejected_cleanly_or_compared(a: Any, b: Any) -> None:
    """Bad input is a `SchemaError`; whatever parses can be compared, normalized and tagged."""
    parsed = []
    for document in (a, b):
        try:
            parsed.append(parse(document))
        except SchemaError as error:
            assert str(error)
    for schema in parsed:
        assert incompatibilities(schema, schema) == []
        assert (
            parse_json_schema(schema.normalized_form()).normalized_form()
            == schema.normalized_form()
        )
        schema.field_tags()
    if len(parsed) == 2:
        for item in incompatibilities(parsed[0], parsed[1]) + incompatibilities(*parsed[::-1]):
            assert item.rule.isupper() and item.message
