"""Properties of Avro parsing over generated schemas: normal forms and canonical form."""

from __future__ import annotations

import json
import random
import warnings
from typing import Any

import avro.schema
import fastavro
from fastavro.schema import UnknownType, to_parsing_canonical_form
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.formats import SchemaError
from registry.formats.avro import AvroSchema, parse_avro
from tests.registry.strategies import avro_schemas, damaged_avro_schemas, respell

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(avro_schemas())
def test_normalization_is_idempotent(document: Any) -> None:
    normalized = parse_avro(json.dumps(document)).normalized_form()
    again = parse_avro(normalized)
    assert again.normalized_form() == normalized
    assert again.parsing_form() == parse_avro(json.dumps(document)).parsing_form()


@SETTINGS
@given(avro_schemas(), st.randoms(use_true_random=False))
def test_respelling_does_not_change_the_normal_or_canonical_form(
    document: Any, rng: random.Random
) -> None:
    original = parse_avro(json.dumps(document))
    respelled = parse_avro(json.dumps(respell(document, rng)))
    assert respelled.normalized_form() == original.normalized_form()
    assert respelled.parsing_form() == original.parsing_form()


@SETTINGS
@given(avro_schemas())
def test_canonical_form_matches_the_avro_package_and_fastavro(document: Any) -> None:
    text = json.dumps(document)
    ours = parse_avro(text).parsing_form()
    assert ours == to_parsing_canonical_form(fastavro.parse_schema(json.loads(text)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = avro.schema.parse(text).canonical_form
    if '"logicalType"' not in text:
        # The avro package writes annotated primitives as {"type": ...}, against the spec's
        # [PRIMITIVES] rule (docs/compatibility.md); elsewhere the forms agree.
        assert ours == theirs


@SETTINGS
@given(avro_schemas())
def test_fastavro_accepts_every_generated_schema(document: Any) -> None:
    assert_fastavro_accepts(parse_avro(json.dumps(document)))


@SETTINGS
@given(avro_schemas())
def test_field_tags_survive_normalization(document: Any) -> None:
    original = parse_avro(json.dumps(document))
    assert parse_avro(original.normalized_form()).field_tags() == original.field_tags()


ATTRIBUTES = [
    "type",
    "name",
    "namespace",
    "fields",
    "symbols",
    "items",
    "values",
    "size",
    "default",
    "aliases",
    "logicalType",
    "precision",
    "scale",
    "order",
    "doc",
    "confluent:tags",
]
WORDS = [
    "int",
    "long",
    "string",
    "bytes",
    "null",
    "double",
    "record",
    "enum",
    "fixed",
    "array",
    "map",
    "error",
    "decimal",
    "date",
    "R",
    "S",
    "com.x.R",
    "ascending",
    "",
    "1x",
]
ANY_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-3, max_value=20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(WORDS),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(ATTRIBUTES), children, max_size=6)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_JSON)
def test_arbitrary_json_is_a_schema_or_a_schema_error(document: Any) -> None:
    assert_schema_or_schema_error(document)


def assert_schema_or_schema_error(document: Any) -> None:
    """Parsing fails only with a SchemaError; what parses has stable normal forms."""
    try:
        parsed = parse_avro(json.dumps(document))
    except SchemaError as exc:
        assert exc.reason
        return
    normalized = parsed.normalized_form()
    assert parse_avro(normalized).normalized_form() == normalized
    assert parse_avro(normalized).parsing_form() == parsed.parsing_form()
    assert_fastavro_accepts(parsed)


def assert_fastavro_accepts(parsed: AvroSchema) -> None:
    """fastavro, which encodes and decodes the data, accepts every schema we accept.

    Parsing does not ask fastavro (our validation is the stricter one); this pins that.
    The one exception is documented on `fastavro_schema`: fastavro cannot look up a type of
    the null namespace from inside a namespace, which Avro allows.
    """
    try:
        fastavro.parse_schema(json.loads(json.dumps(parsed.fastavro_schema())))
    except UnknownType:
        spaces = {node.namespace for node in parsed.named.values()}
        assert "" in spaces and len(spaces) > 1, "fastavro rejects a schema we accept"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_avro_schemas())
def test_damaged_schemas_are_schemas_or_schema_errors(document: Any) -> None:
    assert_schema_or_schema_error(document)
