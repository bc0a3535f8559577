"""JSON Schema generation: every value validates (jsonschema, formats checked); where a naive
sampler finds a valid instance the generator finds one too; seeds repeat; constraints,
formats, patterns and PII tags are honoured."""

from __future__ import annotations

import json
import random
import re
import uuid
from datetime import datetime
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.formats import parse_schema
from testdata import GenerationError, generator_for
from tests.registry.json_strategies import instance_for, json_schemas

SLOW_OK = [HealthCheck.too_slow, HealthCheck.filter_too_much]


def _parsed(schema: Any) -> Any:
    return parse_schema("JSON", json.dumps(schema))


def _validator(schema: Any) -> Any:
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@settings(max_examples=150, deadline=None, suppress_health_check=SLOW_OK)
@given(schema=json_schemas(), seed=st.integers(0, 2**32))
def test_values_validate_and_satisfiable_schemas_get_values(schema: Any, seed: int) -> None:
    generator = generator_for(_parsed(schema), seed=seed)
    validator = _validator(schema)
    try:
        values = [generator.generate() for _ in range(3)]
    except GenerationError:
        # Only schemas no naive sample satisfies may defeat the generator.
        rnd = random.Random(seed)
        plain = jsonschema.Draft7Validator(schema)
        satisfiable = any(plain.is_valid(instance_for(schema, rnd)) for _ in range(50))
        # Known limit (docs/generate.md): allOf over two patterns keeps only one of them.
        assert not satisfiable or _two_patterns_under_all_of(schema), json.dumps(schema)
        return
    for value in values:
        assert validator.is_valid(value), (value, list(validator.iter_errors(value))[:1])


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW_OK)
@given(schema=json_schemas(), seed=st.integers(0, 2**32))
def test_equal_seeds_give_equal_values(schema: Any, seed: int) -> None:
    def draw() -> list[Any]:
        generator = generator_for(_parsed(schema), seed=seed)
        try:
            return [generator.generate() for _ in range(3)]
        except GenerationError as exc:
            return [str(exc)]

    assert draw() == draw()


def _two_patterns_under_all_of(schema: Any) -> bool:
    text = json.dumps(schema)
    return "allOf" in text and text.count('"pattern"') >= 2


CONSTRAINED = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "email", "at", "site", "code", "count", "price", "tags", "holder"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "email": {"type": "string", "format": "email"},
        "at": {"type": "string", "format": "date-time"},
        "site": {"type": "string", "format": "uri"},
        "code": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"},
        "count": {"type": "integer", "minimum": 5, "exclusiveMaximum": 9},
        "price": {"type": "number", "multipleOf": 0.25, "minimum": 1, "maximum": 3},
        "short": {"type": "string", "minLength": 2, "maxLength": 4},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 6}, "minItems": 2,
                 "maxItems": 2, "uniqueItems": True},
        "holder": {"$ref": "#/definitions/person"},
        "choice": {"oneOf": [{"type": "integer", "minimum": 0}, {"type": "string"}]},
    },
    "definitions": {
        "person": {"type": "object", "required": ["name", "phone"], "properties": {
            "name": {"type": "string", "confluent:tags": ["PII"]},
            "phone": {"type": "string"}}},
    },
}  # fmt: skip


def test_constraints_formats_patterns_and_pii() -> None:
    generator = generator_for(_parsed(CONSTRAINED), seed=3, field_tags={"holder.phone": ["pii"]})
    validator = _validator(CONSTRAINED)
    values = [generator.generate() for _ in range(100)]
    for value in values:
        assert validator.is_valid(value)
        uuid.UUID(value["id"])
        datetime.fromisoformat(value["at"].replace("Z", "+00:00"))
        assert re.fullmatch(r"[A-Z]{3}-[0-9]{4}", value["code"])
        assert 5 <= value["count"] < 9
        assert value["site"].startswith("https://")
        # PII: the schema's tag and the catalog's tag both give fake values
        assert " " in value["holder"]["name"] or "." in value["holder"]["name"]
        assert not value["holder"]["phone"].startswith("phone-")
    assert len({v["code"] for v in values}) > 50


def test_an_unsatisfiable_schema_is_a_clear_error() -> None:
    generator = generator_for(_parsed({"type": "integer", "minimum": 5, "maximum": 2}), seed=1)
    with pytest.raises(GenerationError, match="no integer lies in"):
        generator.generate()
